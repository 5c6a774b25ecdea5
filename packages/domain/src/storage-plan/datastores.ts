import type { Mount } from "../inventory.js";
import type { HostRecord } from "../fleet.js";
import { CAPACITY_CRIT_PCT, CAPACITY_WARN_PCT, storageServersOverview } from "../overviews.js";

/**
 * Datastores as placement sees them: how full each is, which hypervisors mount it, and which VM
 * disks live on it. A datastore is named by its export path (/instance); each host mounts it at
 * some directory (the same one on every hypervisor, or live migration breaks).
 */
export interface DatastoreCapacity {
  path: string;
  totalBytes: number;
  usedBytes: number;
  freeBytes: number;
  usedPct: number;
  level: "ok" | "warn" | "crit";
  /** Hypervisors that mount it. */
  mountedOn: string[];
  disks: number;
}

export interface DiskOnDatastore {
  instance: string;
  tenant: string | null;
  /** Hypervisor the VM is defined on (its running copy when there are several). */
  host: string;
  running: boolean;
  disk: string;
  path: string;
  /** Virtual size: an upper bound of what a copy needs. */
  sizeBytes: number;
  /** Export path, or null for a disk on no mounted datastore (a local disk). */
  datastore: string | null;
}

export const CAPACITY_THRESHOLDS = { warnPct: CAPACITY_WARN_PCT, critPct: CAPACITY_CRIT_PCT } as const;

/** "server:/export" -> "/export"; a mount without a server part is named by its target. */
const exportOf = (m: Mount) => (m.source.includes(":/") ? m.source.slice(m.source.indexOf(":/") + 1) : m.target);

/** A host's mounts, deepest first, each with the prefix of the paths under it. */
type MountIndex = { mount: Mount; dir: string }[];
const indexMounts = (mounts: readonly Mount[]): MountIndex =>
  [...mounts].sort((a, b) => b.target.length - a.target.length).map((mount) => ({ mount, dir: mount.target.endsWith("/") ? mount.target : `${mount.target}/` }));
const lookup = (path: string, index: MountIndex) => {
  const hit = index.find(({ mount, dir }) => path === mount.target || path.startsWith(dir));
  return hit ? { datastore: exportOf(hit.mount), mountTarget: hit.mount.target } : null;
};

/** The datastore a disk path lies on through this host's mounts (the deepest mount wins). */
export function datastoreOfPath(path: string, mounts: readonly Mount[]): { datastore: string; mountTarget: string } | null {
  return lookup(path, indexMounts(mounts));
}

/** Where this host mounts a datastore, if it does. */
export const mountTargetOf = (datastore: string, mounts: readonly Mount[]): string | null => mounts.find((m) => exportOf(m) === datastore)?.target ?? null;

const hypervisors = (hosts: readonly HostRecord[]) => hosts.filter((h) => h.inventory.virt);

/** Every VM disk once (a running definition wins over a stale shut-off copy elsewhere). */
export function disksOnDatastores(hosts: readonly HostRecord[]): DiskOnDatastore[] {
  const byKey = new Map<string, DiskOnDatastore>();
  for (const h of hypervisors(hosts)) {
    // Sorted once per host, not per disk: a fleet has thousands of disks.
    const mounts = indexMounts(h.inventory.storage?.mounts ?? []);
    for (const d of h.inventory.virt!.domains) {
      const running = d.state === "running" || d.state === "paused";
      for (const disk of d.disks) {
        const key = `${d.name}/${disk.target}`;
        if (byKey.get(key)?.running) continue;
        byKey.set(key, {
          instance: d.name,
          tenant: d.tenant,
          host: h.name,
          running,
          disk: disk.target,
          path: disk.path,
          sizeBytes: disk.capacityBytes ?? 0,
          datastore: lookup(disk.path, mounts)?.datastore ?? null,
        });
      }
    }
  }
  return [...byKey.values()];
}

/** `disks` when the caller already has them (disksOnDatastores walks every VM of the fleet). */
export function datastoreCapacity(hosts: readonly HostRecord[], disks = disksOnDatastores(hosts)): DatastoreCapacity[] {
  const diskCount = new Map<string | null, number>();
  for (const k of disks) diskCount.set(k.datastore, (diskCount.get(k.datastore) ?? 0) + 1);
  const hvs = hypervisors(hosts);
  return storageServersOverview(hosts).datastores.map((d) => ({
    path: d.path,
    totalBytes: d.totalBytes,
    usedBytes: d.usedBytes,
    freeBytes: Math.max(0, d.totalBytes - d.usedBytes),
    usedPct: d.usedPct,
    level: d.level,
    mountedOn: hvs
      .filter((h) => mountTargetOf(d.path, h.inventory.storage?.mounts ?? []) !== null)
      .map((h) => h.name),
    disks: diskCount.get(d.path) ?? 0,
  }));
}

export const pctOf = (used: number, total: number) => (total > 0 ? (100 * used) / total : 0);
