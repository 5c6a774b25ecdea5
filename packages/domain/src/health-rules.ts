import type { HostRecord } from "./fleet.js";
import type { HealthState } from "./health.js";
import { storageOverview } from "./overviews.js";

/**
 * The raw health of the fleet at one instant: one entry per check, before hysteresis. The
 * server samples this and only reports a flip after enough consecutive samples agree.
 */
export interface RawCheck {
  id: string;
  category: "host" | "storage" | "swarm" | "network" | "instance";
  target: string;
  state: HealthState;
  message: string;
  affects: string[];
  tenants: string[];
}

const connectionMessages: Record<string, (h: HostRecord) => [HealthState, string]> = {
  online: () => ["ok", "agent connected"],
  connecting: () => ["unknown", "connecting"],
  unreachable: (h) => ["crit", `unreachable${h.connection.message ? `: ${h.connection.message}` : ""}${h.connection.lastSeen ? `; last seen ${h.connection.lastSeen}` : ""}`],
  "key-changed": () => ["crit", "host key changed: blocked until an admin accepts the new key"],
  "auth-failed": (h) => ["crit", `SSH authentication failed${h.connection.message ? `: ${h.connection.message}` : ""}`],
  "protocol-mismatch": (h) => ["crit", h.connection.message ?? "agent protocol mismatch"],
  "agent-missing": (h) => ["crit", h.connection.message ?? "no usable agent on the host"],
};

export function evaluateHealth(hosts: readonly HostRecord[]): RawCheck[] {
  const checks: RawCheck[] = [];
  for (const h of hosts) {
    const domains = h.inventory.virt?.domains ?? [];
    const [state, message] = connectionMessages[h.connection.state]!(h);
    checks.push({
      id: `host:${h.name}`,
      category: "host",
      target: `${h.name} agent`,
      state,
      message,
      affects: domains.filter((d) => d.state === "running").map((d) => d.name),
      tenants: [...new Set(domains.flatMap((d) => (d.tenant ? [d.tenant] : [])))],
    });
    for (const d of domains) {
      if (d.state === "crashed")
        checks.push({ id: `instance:${d.name}`, category: "instance", target: d.name, state: "crit", message: `crashed on ${h.name}`, affects: [d.name], tenants: d.tenant ? [d.tenant] : [] });
    }
  }

  const storage = storageOverview(hosts);
  if (storage.servers.length) {
    const holders = storage.servers.filter((s) => s.holdsVip);
    const mountedBy = storage.mounts.map((m) => m.host);
    checks.push({
      id: "storage:vip",
      category: "storage",
      target: `NFS VIP ${storage.vip ?? ""}`.trim(),
      state: holders.length === 1 ? "ok" : "crit",
      message:
        holders.length === 1
          ? `held by ${holders[0]!.host}`
          : holders.length === 0
            ? "no storage server holds the VIP: VM disks are unreachable"
            : `split brain: ${holders.map((s) => s.host).join(" and ")} both hold the VIP`,
      affects: mountedBy,
      tenants: [],
    });
    for (const s of storage.servers) {
      const down = s.state !== "online" || !s.serverRunning;
      checks.push({
        id: `storage:server:${s.host}`,
        category: "storage",
        target: `NFS server ${s.host}`,
        state: down ? (s.holdsVip ? "crit" : "warn") : "ok",
        message: s.state !== "online" ? `${s.host} is ${s.state}` : s.serverRunning ? `serving (${s.keepalivedState ?? "no keepalived"})` : "NFS server stopped",
        affects: [],
        tenants: [],
      });
    }
    for (const d of storage.datastores) {
      checks.push({
        id: `storage:capacity:${d.path}`,
        category: "storage",
        target: `datastore ${d.path}`,
        state: d.level,
        message: `${d.usedPct.toFixed(0)} % used`,
        affects: mountedBy,
        tenants: [],
      });
    }
  }

  const manager = hosts.find((h) => h.connection.state === "online" && h.inventory.swarm?.role === "manager" && h.inventory.swarm.nodes.length);
  if (manager) {
    const swarm = manager.inventory.swarm!;
    for (const n of swarm.nodes) {
      const tasksOn = swarm.tasks.filter((t) => t.node === n.hostname && t.desiredState === "running");
      checks.push({
        id: `swarm:node:${n.hostname}`,
        category: "swarm",
        target: `swarm node ${n.hostname}`,
        state: n.status !== "ready" ? "crit" : n.availability !== "active" ? "warn" : "ok",
        message: n.status !== "ready" ? `node ${n.status}` : n.availability !== "active" ? `availability ${n.availability}` : "ready",
        affects: [...new Set(tasksOn.map((t) => t.serviceName))],
        tenants: [],
      });
    }
    for (const s of swarm.services) {
      const short = s.replicasRunning < s.replicasDesired;
      checks.push({
        id: `swarm:service:${s.name}`,
        category: "swarm",
        target: `service ${s.name}`,
        state: !short ? "ok" : s.replicasRunning === 0 ? "crit" : "warn",
        message: `${s.replicasRunning}/${s.replicasDesired} replicas running`,
        affects: [s.name],
        tenants: s.tenant ? [s.tenant] : [],
      });
    }
  }
  return checks;
}
