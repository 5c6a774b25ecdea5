import { Scenario, type ScenarioInput } from "./schema.js";
import { defaultScenario } from "./load.js";

export interface GenerateOptions {
  /** Number of hypervisors; the storage pair and the three swarm VMs come on top. */
  hosts: number;
  vmsPerHost: number;
}

/**
 * A scenario of N hypervisors for benchmarks. It keeps the default scenario's tenants, storage
 * pair, swarm and services, so every page has something to show; tenant VMs are spread
 * round-robin over tenants. Hypervisors use flow-based VXLAN ports (one per VNI, remote chosen
 * by flows), as large fleets do: a full mesh of ports would be N² of them, and a partial one
 * would make every VNI a finding.
 */
export function generateScenario({ hosts, vmsPerHost }: GenerateOptions): Scenario {
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > 60_000) throw new Error(`hosts must be 1..60000, got ${hosts}`);
  if (!Number.isInteger(vmsPerHost) || vmsPerHost < 0) throw new Error(`vmsPerHost must be a non-negative integer, got ${vmsPerHost}`);
  const base = defaultScenario();
  const template = base.hypervisors[0]!;
  const names = Array.from({ length: hosts }, (_, i) => `hv${String(i + 1).padStart(4, "0")}`);

  const hypervisors = names.map((name, i) => ({
    ...template,
    name,
    underlayIp: `10.20.${Math.floor((i + 1) / 250)}.${((i + 1) % 250) + 1}`,
    network: { ...template.network, tunnelPeers: [], flowTunnels: true },
  }));

  const swarmHosts = [names[0]!, names[0]!, names[1 % hosts]!];
  const infraVms = base.vms
    .filter((vm) => base.swarm?.nodes.some((n) => n.vm === vm.name))
    .map((vm, i) => ({ ...vm, host: swarmHosts[i % swarmHosts.length]! }));

  const tenantVms = names.flatMap((host, h) =>
    Array.from({ length: vmsPerHost }, (_, v) => {
      const tenant = base.tenants[(h * vmsPerHost + v) % base.tenants.length]!;
      const n = h * vmsPerHost + v;
      return {
        name: `vm-${String(h + 1).padStart(4, "0")}-${String(v + 1).padStart(2, "0")}`,
        host,
        vcpus: 2,
        memoryMiB: 2048,
        diskGiB: 20,
        tenant: tenant.slug,
        role: null,
        nics: [{ bridge: template.network.ovsBridge.name, vlan: tenant.vlan, ip: `172.${16 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}` }],
        state: "running" as const,
        autostart: true,
      };
    }),
  );

  const scenario: ScenarioInput = {
    ...base,
    name: `generated-${hosts}x${vmsPerHost}`,
    hypervisors,
    vms: [...infraVms, ...tenantVms],
  };
  return Scenario.parse(scenario);
}
