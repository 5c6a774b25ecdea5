import {
  datastoreOfPath,
  destinationAgentChecks,
  sourceAgentChecks,
  type AgentPreflightParams,
  type PreflightCheck,
} from "@nimbus/domain";
import { freeMemoryMiB } from "./migration.js";
import { requireLibvirtd } from "./power.js";
import { netSection } from "./sections/net.js";
import type { World } from "./world.js";

/**
 * `virt.preflight` on a lab hypervisor: what the host sees of itself now, read straight from the
 * world (which may be ahead of what the server's inventory says), judged by the domain's rules.
 */
export function labPreflight(world: World, host: string, params: AgentPreflightParams): PreflightCheck[] {
  const hv = world.hypervisor(host);
  requireLibvirtd(world, host);
  const vm = hv.domains.get(params.domain);
  if (params.role === "source")
    return sourceAgentChecks({ host, domain: params.domain, state: vm?.state ?? null, migrating: !!vm && (vm.migrating || vm.diskJob) });
  return destinationAgentChecks(params, {
    host,
    freeMemoryMiB: freeMemoryMiB(hv),
    bridges: netSection(world, host).bridges,
    missingPaths: params.diskPaths.filter((p) => !datastoreOfPath(p, hv.mounts)),
    existingState: vm?.state ?? null,
  });
}
