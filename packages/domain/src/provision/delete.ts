import type { Domain } from "../inventory.js";
import { releaseNetwork, type CleanupAction } from "./steps.js";

/**
 * Delete: the user types the instance's name to confirm; then the instance is forced off,
 * undefined, its volumes on datastores removed and its tenant's network released on the host
 * when it was the last instance there. The same undo actions a failed create runs.
 */
export function deleteConfirmationProblem(instance: string, typed: string): string | null {
  return typed.trim() === instance ? null : `type ${instance} to confirm the delete`;
}

/**
 * The actions, in order. Only volumes under one of the host's datastore mounts are removed: a
 * disk elsewhere (a local image, a device) is left where it is and named in `kept`.
 */
export function deletePlan(
  domain: Pick<Domain, "name" | "tenant" | "disks" | "nics">,
  mountTargets: readonly string[],
  tenantVni: number | null,
): { actions: CleanupAction[]; kept: string[] } {
  const dirs = mountTargets.map((m) => m.replace(/\/+$/, "")).filter((d) => d !== "");
  const onDatastore = (path: string) => !path.split("/").includes("..") && dirs.some((d) => path.startsWith(`${d}/`));
  const actions: CleanupAction[] = [
    { kind: "destroy-domain", name: domain.name, description: `force off ${domain.name} if it runs` },
    { kind: "undefine-domain", name: domain.name, description: `undefine ${domain.name}` },
  ];
  // One release per bridge, however many tagged NICs the instance has there.
  const taggedBridges = new Map(domain.nics.flatMap((n) => (n.vlan === null ? [] : [[n.bridge, n.vlan] as const])));
  if (tenantVni !== null)
    for (const [bridge, vlan] of taggedBridges) actions.push(releaseNetwork(domain.tenant, bridge, tenantVni, vlan));
  const kept: string[] = [];
  for (const disk of domain.disks) {
    if (onDatastore(disk.path)) actions.push({ kind: "remove-volume", path: disk.path, description: `remove ${disk.path}` });
    else kept.push(disk.path);
  }
  return { actions, kept };
}
