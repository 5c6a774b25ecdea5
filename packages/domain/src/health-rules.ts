import type { HostRecord } from "./fleet.js";
import type { HealthState } from "./health.js";
import { storageOverview } from "./overviews.js";
import { swarmPortCheckInputs, swarmPortChecks } from "./swarm/port-checks.js";
import { activeCheckHealth, activeCheckInputs } from "./checks/health.js";
import { lbHealth, lbHealthInputs } from "./lb/health.js";

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

/** Hears what the rules read, one value at a time and in a fixed order (see `*CheckInputs`). */
export interface InputReader {
  see(value: string | number | boolean | null): void;
}

/** The fleet's raw health: every host's checks in fleet order, then storage, then swarm. */
export function evaluateHealth(hosts: readonly HostRecord[]): RawCheck[] {
  return [...hosts.flatMap((h) => hostChecks(h)), ...storageChecks(hosts), ...swarmChecks(hosts)];
}

/** One host's checks: its agent connection and its crashed instances. */
export function hostChecks(h: HostRecord): RawCheck[] {
  const domains = h.inventory.virt?.domains ?? [];
  const [state, message] = connectionMessages[h.connection.state]!(h);
  const checks: RawCheck[] = [
    {
      id: `host:${h.name}`,
      category: "host",
      target: `${h.name} agent`,
      state,
      message,
      affects: domains.filter((d) => d.state === "running").map((d) => d.name),
      tenants: [...new Set(domains.flatMap((d) => (d.tenant ? [d.tenant] : [])))],
    },
  ];
  for (const d of domains) {
    if (d.state === "crashed")
      checks.push({ id: `instance:${d.name}`, category: "instance", target: d.name, state: "crit", message: `crashed on ${h.name}`, affects: [d.name], tenants: d.tenant ? [d.tenant] : [] });
  }
  // Active checks and load balancers are the host's too: its agent runs them.
  checks.push(...activeCheckHealth(h), ...lbHealth(h));
  return checks;
}

/**
 * Every value `hostChecks` reads, so a caller can tell its result cannot have changed without
 * running it, even when the record was edited in place. Keep in step with `hostChecks`.
 */
export function hostCheckInputs(h: HostRecord, input: InputReader) {
  const { state, message, lastSeen } = h.connection;
  input.see(h.name);
  input.see(state);
  input.see(message);
  // Only the unreachable message quotes lastSeen, and every pushed section moves it.
  input.see(state === "unreachable" ? lastSeen : null);
  const domains = h.inventory.virt?.domains ?? [];
  input.see(domains.length);
  for (const d of domains) {
    input.see(d.name);
    input.see(d.state);
    input.see(d.tenant);
  }
  activeCheckInputs(h, input);
  lbHealthInputs(h, input);
}

/** The NFS pair's checks: who holds the VIP, each server, each datastore's capacity. */
export function storageChecks(hosts: readonly HostRecord[]): RawCheck[] {
  const checks: RawCheck[] = [];
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
  return checks;
}

/** Every value `storageChecks` reads (through `storageOverview`). Keep in step with both. */
export function storageCheckInputs(hosts: readonly HostRecord[], input: InputReader) {
  input.see(hosts.length);
  for (const h of hosts) {
    const storage = h.inventory.storage;
    const nfs = storage?.nfs;
    input.see(h.name);
    // Each mount names its host once in what the VIP and the datastores affect.
    input.see(storage?.mounts.length ?? 0);
    if (!nfs) {
      input.see(null);
      continue;
    }
    input.see(h.connection.state);
    input.see(nfs.serverRunning);
    input.see(nfs.keepalivedState);
    input.see(nfs.vip?.address ?? null);
    input.see(nfs.vip?.heldHere ?? null);
    input.see(nfs.datastores.length);
    for (const d of nfs.datastores) {
      input.see(d.path);
      input.see(d.usedBytes);
      input.see(d.totalBytes);
    }
  }
}

/** The host whose agent answers for the swarm: the first online manager that lists nodes. */
export const swarmManager = (hosts: readonly HostRecord[]) =>
  hosts.find((h) => h.connection.state === "online" && h.inventory.swarm?.role === "manager" && h.inventory.swarm.nodes.length);

/** The swarm's checks, as its manager reports them: each node, each service's replicas. */
export function swarmChecks(hosts: readonly HostRecord[]): RawCheck[] {
  const checks: RawCheck[] = [];
  const manager = swarmManager(hosts);
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
  // Blocked swarm ports between nodes (each naming both nodes).
  checks.push(...swarmPortChecks(hosts));
  return checks;
}

/** Every value `swarmChecks` reads. Keep in step with it. */
export function swarmCheckInputs(hosts: readonly HostRecord[], input: InputReader) {
  // Which manager answers does not matter, only what it lists.
  const swarm = swarmManager(hosts)?.inventory.swarm;
  if (!swarm) return;
  input.see(swarm.nodes.length);
  for (const n of swarm.nodes) {
    input.see(n.hostname);
    input.see(n.status);
    input.see(n.availability);
  }
  input.see(swarm.tasks.length);
  for (const t of swarm.tasks) {
    input.see(t.node);
    input.see(t.desiredState);
    input.see(t.serviceName);
  }
  input.see(swarm.services.length);
  for (const s of swarm.services) {
    input.see(s.name);
    input.see(s.replicasRunning);
    input.see(s.replicasDesired);
    input.see(s.tenant);
  }
  swarmPortCheckInputs(hosts, input);
}
