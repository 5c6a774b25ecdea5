import type { Bridge, Datastore, SwarmNode, SwarmService, SwarmTask } from "./inventory.js";
import type { ConnectionState, HostRecord } from "./fleet.js";
import type { HealthCheck } from "./health.js";
import { visibleTo, type Viewer } from "./access.js";
import type { OverlayNetwork } from "./swarm/overlay.js";
import type { PortFinding } from "./swarm/ports.js";
import { swarmPortFindingsOf } from "./swarm/port-checks.js";

/** Cluster-wide projections for the Swarm, Storage and Network pages. Pure, like views.ts. */

export interface SwarmOverview {
  /** Host whose agent answered for the cluster (the leader manager), null when none is online. */
  managerHost: string | null;
  clusterId: string | null;
  nodes: SwarmNode[];
  services: SwarmService[];
  tasks: SwarmTask[];
  /** Overlay networks and blocked swarm ports: infrastructure, empty for tenants. */
  networks: OverlayNetwork[];
  portFindings: PortFinding[];
}

export function swarmOverview(hosts: readonly HostRecord[], viewer: Pick<Viewer, "role" | "tenant">): SwarmOverview {
  const managers = hosts.filter((h) => h.connection.state === "online" && h.inventory.swarm?.role === "manager");
  const leader =
    managers.find((h) => h.inventory.swarm!.nodes.some((n) => n.leader && n.id === h.inventory.swarm!.nodeId)) ?? managers[0];
  const swarm = leader?.inventory.swarm;
  if (!swarm) return { managerHost: null, clusterId: null, nodes: [], services: [], tasks: [], networks: [], portFindings: [] };
  const services = visibleTo(viewer, swarm.services, (s) => s.tenant);
  const ids = new Set(services.map((s) => s.id));
  return {
    managerHost: leader.name,
    clusterId: swarm.clusterId,
    // Nodes are infrastructure: tenants do not see them.
    nodes: viewer.role === "tenant" ? [] : swarm.nodes,
    services,
    tasks: swarm.tasks.filter((t) => ids.has(t.serviceId)).map((t) => (viewer.role === "tenant" ? { ...t, node: null } : t)),
    networks: viewer.role === "tenant" ? [] : (swarm.networks ?? []),
    portFindings: viewer.role === "tenant" ? [] : swarmPortFindingsOf(hosts),
  };
}

export interface StorageServerView {
  host: string;
  state: ConnectionState;
  serverRunning: boolean;
  keepalivedState: "master" | "backup" | "fault" | "stopped" | null;
  holdsVip: boolean;
  vip: string | null;
  exports: { path: string; clients: string[] }[];
  datastores: Datastore[];
}

export interface StorageOverview {
  servers: StorageServerView[];
  vip: string | null;
  vipHolder: string | null;
  datastores: (Datastore & { server: string; usedPct: number; level: "ok" | "warn" | "crit" })[];
  mounts: { host: string; source: string; target: string }[];
}

export const CAPACITY_WARN_PCT = 80;
export const CAPACITY_CRIT_PCT = 90;
export const capacityLevel = (pct: number) => (pct >= CAPACITY_CRIT_PCT ? "crit" : pct >= CAPACITY_WARN_PCT ? "warn" : "ok");

export function storageOverview(hosts: readonly HostRecord[]): StorageOverview {
  return { ...storageServersOverview(hosts), mounts: storageMounts(hosts) };
}

/**
 * The storage pair and its datastores, without the hypervisors' mounts: what changes when a
 * datastore fills or the VIP moves, cheap to recompute at fleet size.
 */
export function storageServersOverview(hosts: readonly HostRecord[]): Omit<StorageOverview, "mounts"> {
  const servers: StorageServerView[] = [];
  for (const h of hosts) {
    const nfs = h.inventory.storage?.nfs;
    if (!nfs) continue;
    servers.push({
      host: h.name,
      state: h.connection.state,
      serverRunning: nfs.serverRunning,
      keepalivedState: nfs.keepalivedState,
      holdsVip: h.connection.state === "online" && !!nfs.vip?.heldHere,
      vip: nfs.vip?.address ?? null,
      exports: nfs.exports,
      datastores: nfs.datastores,
    });
  }
  const holder = servers.find((s) => s.holdsVip);
  const source = holder ?? servers.find((s) => s.state === "online");
  return {
    servers,
    vip: servers.find((s) => s.vip)?.vip ?? null,
    vipHolder: holder?.host ?? null,
    datastores: (source?.datastores ?? []).map((d) => {
      const usedPct = d.totalBytes ? (100 * d.usedBytes) / d.totalBytes : 0;
      return { ...d, server: source!.host, usedPct, level: capacityLevel(usedPct) };
    }),
  };
}

/** Every host's NFS mounts (one per hypervisor and datastore: thousands in a large fleet). */
export function storageMounts(hosts: readonly HostRecord[]): StorageOverview["mounts"] {
  return hosts.flatMap((h) => (h.inventory.storage?.mounts ?? []).map((m) => ({ host: h.name, source: m.source, target: m.target })));
}

export interface HostNetworkView {
  host: string;
  state: ConnectionState;
  bridges: Bridge[];
}

export interface OverviewCounts {
  hosts: { total: number; online: number; problem: number };
  /** `unknown`: VMs of hosts that do not answer (see observedState), counted apart from running and stopped. */
  instances: { total: number; running: number; unknown: number };
  services: { total: number; converged: number };
  health: { crit: number; warn: number };
  operationsRunning: number;
  problems: HealthCheck[];
}
