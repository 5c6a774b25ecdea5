import type { Domain, DomainState } from "./inventory.js";
import type { ConnectionState, HostRecord, HostRole } from "./fleet.js";
import { hostRoles } from "./fleet.js";

/**
 * Projections of the fleet that pages show. Pure functions over the in-memory inventory, so the
 * server computes them without I/O and tests feed them fixtures.
 */
export interface TenantInfo {
  slug: string;
  name: string;
  vni: number | null;
}

/**
 * A VM's state as pages may claim it. The inventory of a host that stopped answering is its last
 * report: a powered-off host's VMs would read "running" for ever. Only an online host vouches for
 * its VMs; otherwise their state is unknown.
 */
export type InstanceState = DomainState | "unknown";

/** The one rule every view (lists, counts, topology, preflight) uses for a VM's state. */
export const observedState = (hostState: ConnectionState, reported: DomainState): InstanceState =>
  hostState === "online" ? reported : "unknown";

export const isObservedRunning = (host: Pick<HostRecord, "connection">, d: Pick<Domain, "state">) =>
  observedState(host.connection.state, d.state) === "running";

export interface InstanceView {
  name: string;
  uuid: string;
  host: string;
  hostState: ConnectionState;
  tenant: string | null;
  role: string | null;
  /** What is known now: "unknown" while the host does not answer. */
  state: InstanceState;
  /** What the host last reported, shown beside "unknown" as a hint. */
  reportedState: DomainState;
  vcpus: number;
  memoryMiB: number;
  vlans: number[];
  vni: number | null;
  bridges: string[];
  diskPaths: string[];
  macs: string[];
  ipAddresses: string[];
  /**
   * Only when the host reports snapshots: how many, the current one and the newest's time, so a
   * pushed row changes when they do (the instance page then reads its snapshots again, from memory).
   */
  snapshots?: { total: number; current: string | null; newestAt: string | null };
}

/** What a view needs of its host (the instance index keeps only this per host, not the record). */
export type ViewHost = Pick<HostRecord, "name"> & { connection: Pick<HostRecord["connection"], "state"> };

export function instanceView(host: ViewHost, d: Domain, tenants: ReadonlyMap<string, TenantInfo>): InstanceView {
  const vlans = [...new Set(d.nics.flatMap((n) => (n.vlan === null ? [] : [n.vlan])))].sort((a, b) => a - b);
  return {
    name: d.name,
    uuid: d.uuid,
    host: host.name,
    hostState: host.connection.state,
    tenant: d.tenant,
    role: d.role,
    state: observedState(host.connection.state, d.state),
    reportedState: d.state,
    vcpus: d.vcpus,
    memoryMiB: d.memoryMiB,
    vlans,
    vni: d.tenant ? (tenants.get(d.tenant)?.vni ?? null) : null,
    bridges: [...new Set(d.nics.map((n) => n.bridge))],
    diskPaths: d.disks.map((k) => k.path),
    macs: d.nics.map((n) => n.mac),
    ipAddresses: d.nics.flatMap((n) => n.ipAddresses),
    ...(d.snapshots?.total
      ? { snapshots: { total: d.snapshots.total, current: d.snapshots.items.find((s) => s.current)?.name ?? null, newestAt: d.snapshots.items.at(-1)?.createdAt ?? null } }
      : {}),
  };
}

/** Running copies win over stale shut-off definitions left on another host. */
export function instancesOf(host: HostRecord, tenants: ReadonlyMap<string, TenantInfo>): InstanceView[] {
  return (host.inventory.virt?.domains ?? []).map((d) => instanceView(host, d, tenants));
}

export interface HostSummary {
  name: string;
  address: string;
  roles: HostRole[];
  state: ConnectionState;
  since: string;
  lastSeen: string | null;
  message: string | null;
  maintenance: boolean;
  agentVersion: string | null;
  cpuCount: number | null;
  cpuUsagePct: number | null;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  diskTotalBytes: number | null;
  diskUsedBytes: number | null;
  vmsRunning: number;
  vmsTotal: number;
  bridges: number;
}

export function hostSummary(h: HostRecord): HostSummary {
  const n = h.inventory.node;
  const domains = h.inventory.virt?.domains ?? [];
  return {
    name: h.name,
    address: h.address,
    roles: hostRoles(h),
    state: h.connection.state,
    since: h.connection.since,
    lastSeen: h.connection.lastSeen,
    message: h.connection.message,
    maintenance: h.maintenance,
    agentVersion: h.connection.agentVersion,
    cpuCount: n?.cpuCount ?? null,
    cpuUsagePct: n?.cpuUsagePct ?? null,
    memoryTotalMiB: n?.memoryTotalMiB ?? null,
    memoryUsedMiB: n?.memoryUsedMiB ?? null,
    diskTotalBytes: n?.diskTotalBytes ?? null,
    diskUsedBytes: n?.diskUsedBytes ?? null,
    vmsRunning: domains.filter((d) => isObservedRunning(h, d)).length,
    vmsTotal: domains.length,
    bridges: h.inventory.net?.bridges.length ?? 0,
  };
}

/** Instances across the fleet for the Overview: a VM of an unreachable host is neither running nor stopped. */
export function instanceCounts(hosts: readonly HostRecord[]): { total: number; running: number; unknown: number } {
  const counts = { total: 0, running: 0, unknown: 0 };
  for (const h of hosts)
    for (const d of h.inventory.virt?.domains ?? []) {
      const state = observedState(h.connection.state, d.state);
      counts.total++;
      if (state === "running") counts.running++;
      else if (state === "unknown") counts.unknown++;
    }
  return counts;
}

/** RAM the running domains of a host have been given, in MiB. */
export const committedMemoryMiB = (h: HostRecord) =>
  (h.inventory.virt?.domains ?? []).filter((d) => d.state === "running").reduce((s, d) => s + d.memoryMiB, 0);
export const committedVcpus = (h: HostRecord) =>
  (h.inventory.virt?.domains ?? []).filter((d) => d.state === "running").reduce((s, d) => s + d.vcpus, 0);
