import type { HostRecord } from "../fleet.js";
import { swarmManager } from "../health-rules.js";
import { CheckSpec, CheckTiming, type CheckSpecInput } from "./spec.js";

/** The timing every planned check gets: HAProxy's defaults for `inter` (2 s), rise 2, fall 3. */
export const PLANNED_TIMING: CheckTiming = CheckTiming.parse({});
const NFS_PORT = 2049;

/**
 * What each agent probes, from the fleet's inventory: every swarm node its own published TCP
 * ports (through the routing mesh, so a node whose ingress is broken fails even while the
 * service runs elsewhere), every NFS server its own NFS port and the pair's VIP. A host with
 * nothing to probe gets an empty list. Sorted by id, so an unchanged fleet gives an equal plan.
 */
export function planActiveChecks(hosts: readonly HostRecord[]): Map<string, CheckSpec[]> {
  const plan = new Map<string, CheckSpecInput[]>();
  const add = (host: string, spec: CheckSpecInput) => {
    const list = plan.get(host) ?? [];
    list.push(spec);
    plan.set(host, list);
  };
  const byName = new Map(hosts.map((h) => [h.name, h]));

  const swarm = swarmManager(hosts)?.inventory.swarm;
  if (swarm) {
    for (const node of swarm.nodes) {
      if (!byName.has(node.hostname)) continue;
      for (const svc of swarm.services) {
        for (const p of svc.ports) {
          if (p.protocol !== "tcp") continue;
          // Host-mode ports listen only where a task of the service runs.
          if (p.mode === "host" && !swarm.tasks.some((t) => t.serviceId === svc.id && t.node === node.id && t.state === "running")) continue;
          add(node.hostname, {
            id: `active:svc:${svc.name}:${p.published}:${node.hostname}`,
            target: `${svc.name} :${p.published} on ${node.hostname}`,
            category: "swarm",
            probe: { kind: "tcp", host: "127.0.0.1", port: p.published },
            timing: PLANNED_TIMING,
            affects: [svc.name],
            tenants: svc.tenant ? [svc.tenant] : [],
          });
        }
      }
    }
  }

  for (const h of hosts) {
    const nfs = h.inventory.storage?.nfs;
    if (!nfs) continue;
    const datastores = nfs.datastores.map((d) => d.path);
    add(h.name, {
      id: `active:nfs:${h.name}`,
      target: `NFS on ${h.name}`,
      category: "storage",
      probe: { kind: "tcp", host: "127.0.0.1", port: NFS_PORT },
      timing: PLANNED_TIMING,
      affects: datastores,
      tenants: [],
    });
    if (nfs.vip)
      add(h.name, {
        id: `active:nfs-vip:${h.name}`,
        target: `NFS VIP ${nfs.vip.address} from ${h.name}`,
        category: "storage",
        probe: { kind: "tcp", host: nfs.vip.address, port: NFS_PORT },
        timing: PLANNED_TIMING,
        affects: datastores,
        tenants: [],
      });
  }

  const out = new Map<string, CheckSpec[]>();
  for (const [host, specs] of plan) out.set(host, specs.map((s) => CheckSpec.parse(s)).sort((a, b) => a.id.localeCompare(b.id)));
  return out;
}
