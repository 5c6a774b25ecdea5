import { cutText, LIMITS } from "../bounds.js";
import type { HostRecord } from "../fleet.js";
import { swarmManager } from "../health-rules.js";
import { CheckSpec, CheckTiming, type CheckProbe, type CheckSpecInput } from "./spec.js";
import type { ServiceHttpCheck } from "./http.js";

/** The timing every planned check gets: HAProxy's defaults for `inter` (2 s), rise 2, fall 3. */
export const PLANNED_TIMING: CheckTiming = CheckTiming.parse({});
const NFS_PORT = 2049;

/** A service port that speaks HTTP by someone's word other than the service's labels: a load balancer in http mode with a check path. */
export interface HttpCheckHint {
  service: string;
  /** The published port; null: the service's first published TCP port (as a load balancer's target reads it). */
  port: number | null;
  check: ServiceHttpCheck;
}

/**
 * What each agent probes, from the fleet's inventory: every swarm node its own published TCP
 * ports (through the routing mesh, so a node whose ingress is broken fails even while the
 * service runs elsewhere), every NFS server its own NFS port and the pair's VIP. A host with
 * nothing to probe gets an empty list. Sorted by id, so an unchanged fleet gives an equal plan.
 * A service port is checked with HTTP (status, optional body substring: HAProxy's `http-check
 * expect`) when the service's labels ask for it (`nimbus.check.http`, every published TCP port)
 * or, failing that, when a load balancer in http mode with a check path fronts that port
 * (`hints`); otherwise with a TCP connect.
 */
export function planActiveChecks(hosts: readonly HostRecord[], hints: readonly HttpCheckHint[] = []): Map<string, CheckSpec[]> {
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
        const tcpPorts = svc.ports.filter((p) => p.protocol === "tcp");
        for (const p of tcpPorts) {
          const http = svc.httpCheck ?? hints.find((h) => h.service === svc.name && (h.port ?? tcpPorts[0]!.published) === p.published)?.check ?? null;
          const probe: CheckProbe = http
            ? { kind: "http", host: "127.0.0.1", port: p.published, path: http.path, expectStatus: http.expectStatus, expectBody: http.expectBody }
            : { kind: "tcp", host: "127.0.0.1", port: p.published };
          // Host-mode ports listen only where a task of the service runs.
          if (p.mode === "host" && !swarm.tasks.some((t) => t.serviceId === svc.id && t.node === node.id && t.state === "running")) continue;
          add(node.hostname, {
            id: `active:svc:${svc.name}:${p.published}:${node.hostname}`,
            target: cutText(`${svc.name} :${p.published} on ${node.hostname}${http ? ` (HTTP GET ${http.path})` : ""}`, LIMITS.name),
            category: "swarm",
            probe,
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
