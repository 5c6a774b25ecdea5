import type { HostRecord } from "../fleet.js";
import { swarmManager } from "../health-rules.js";
import { NimbusError } from "../errors.js";
import { LbApplyParams, LbServerName, type LbApplyParams as LbApply, type LoadBalancerSpec } from "./spec.js";

/**
 * The servers of a load balancer, resolved from the inventory: for a service, every swarm node
 * with an address at the service's published TCP port (the routing mesh answers on each node);
 * a drained or paused node stays in the configuration but `disabled` (MAINT in `show stat`), so
 * it visibly leaves the rotation and comes back when it is active again. A node that is down
 * stays enabled: HAProxy's own check takes it out and puts it back.
 * Refuses (NOT_FOUND / PRECONDITION_FAILED) a service that does not exist or publishes no TCP port.
 */
export function resolveLbServers(spec: LoadBalancerSpec, hosts: readonly HostRecord[]): LbApply["servers"] {
  if (spec.target.kind === "addresses") return spec.target.servers.map((s) => ({ ...s, disabled: false }));
  const { service, port } = spec.target;
  const swarm = swarmManager(hosts)?.inventory.swarm;
  if (!swarm) throw new NimbusError("PRECONDITION_FAILED", `no swarm manager is reachable to resolve service ${service}`);
  const svc = swarm.services.find((s) => s.name === service);
  if (!svc) throw new NimbusError("NOT_FOUND", `service ${service} not found`, { service });
  const tcp = svc.ports.filter((p) => p.protocol === "tcp");
  const published = port === null ? tcp[0] : tcp.find((p) => p.published === port);
  if (!published)
    throw new NimbusError("PRECONDITION_FAILED", port === null ? `service ${service} publishes no TCP port` : `service ${service} does not publish TCP port ${port}`, { service });
  // A task names its node by id (the lab, `docker node ps`) or by host name (`docker service ps`, the real agent).
  return swarm.nodes
    .filter((n) => n.address && LbServerName.safeParse(n.hostname).success)
    .filter((n) => published.mode === "ingress" || swarm.tasks.some((t) => t.serviceId === svc.id && (t.node === n.id || t.node === n.hostname) && t.desiredState === "running"))
    .map((n) => ({ name: n.hostname, address: n.address!, port: published.published, disabled: n.availability !== "active" }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** What the edge host's agent is sent: the spec's frontend and checks with the resolved servers (validated again). */
export function lbApplyParams(spec: LoadBalancerSpec, hosts: readonly HostRecord[]): LbApply {
  return LbApplyParams.parse({ name: spec.name, bind: spec.bind, mode: spec.mode, check: spec.check, servers: resolveLbServers(spec, hosts) });
}
