import type { HostRecord } from "../fleet.js";
import type { InputReader, RawCheck } from "../health-rules.js";
import { swarmPortFindings, type PortFinding, type PortNode } from "./ports.js";

/** The leader manager's swarm section (the first online manager that lists nodes). */
const managerSwarm = (hosts: readonly HostRecord[]) =>
  hosts.find((h) => h.connection.state === "online" && h.inventory.swarm?.role === "manager" && h.inventory.swarm.nodes.length)?.inventory.swarm;

/**
 * The swarm's nodes with each one's own port report: the manager names the nodes (hostname,
 * address, role, status) and the overlay networks; every node's agent reports its checks in its
 * own section (matched by node id; a host that is not online reports nothing).
 */
export function swarmPortNodes(hosts: readonly HostRecord[]): PortNode[] {
  const swarm = managerSwarm(hosts);
  if (!swarm) return [];
  const reports = new Map<string, NonNullable<NonNullable<HostRecord["inventory"]["swarm"]>["ports"]>>();
  for (const h of hosts) {
    const s = h.inventory.swarm;
    if (h.connection.state === "online" && s?.ports && s.clusterId === swarm.clusterId) reports.set(s.nodeId, s.ports);
  }
  const overlay = new Set((swarm.networks ?? []).flatMap((n) => n.nodes));
  return swarm.nodes.map((n) => ({
    hostname: n.hostname,
    address: n.address,
    role: n.role,
    ready: n.status === "ready",
    overlay: overlay.has(n.hostname),
    report: reports.get(n.id) ?? null,
  }));
}

export const swarmPortFindingsOf = (hosts: readonly HostRecord[]): PortFinding[] => swarmPortFindings(swarmPortNodes(hosts));

/** Blocked ports as health checks (critical, category swarm), so they show on the health page too. */
export function swarmPortChecks(hosts: readonly HostRecord[]): RawCheck[] {
  return swarmPortFindingsOf(hosts).map((f) => ({
    id: f.id,
    category: "swarm",
    target: `swarm port ${f.port}/${f.proto} ${f.from} → ${f.to}`,
    state: "crit",
    message: f.message,
    affects: [f.from, f.to],
    tenants: [],
  }));
}

/** Every value `swarmPortChecks` reads. Keep in step with it. */
export function swarmPortCheckInputs(hosts: readonly HostRecord[], input: InputReader) {
  const swarm = managerSwarm(hosts);
  if (!swarm) return input.see(null);
  input.see(swarm.clusterId);
  for (const n of swarm.nodes) {
    input.see(n.id);
    input.see(n.hostname);
    input.see(n.address);
    input.see(n.role);
    input.see(n.status);
  }
  for (const net of swarm.networks ?? []) for (const node of net.nodes) input.see(node);
  input.see("|");
  for (const h of hosts) {
    const s = h.inventory.swarm;
    if (h.connection.state !== "online" || !s?.ports) continue;
    input.see(s.nodeId);
    input.see(s.clusterId);
    for (const p of s.ports.listeningUdp) input.see(p);
    for (const r of s.ports.reach) {
      input.see(r.address);
      input.see(r.port);
      input.see(r.ok);
      input.see(r.error);
    }
  }
}
