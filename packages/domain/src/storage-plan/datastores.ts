import type { Mount } from "../inventory.js";
import type { HostRecord } from "../fleet.js";
import { CAPACITY_CRIT_PCT, CAPACITY_WARN_PCT, storageOverview } from "../overviews.js";

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
const under = (path: string, dir: string) => path === dir || path.startsWith(dir.replace(/\/?$/, "/"));

/** The datastore a disk path lies on through this host's mounts (the deepest mount wins). */
export function datastoreOfPath(path: string, mounts: readonly Mount[]): { datastore: string; mountTarget: string } | null {
  const m = mounts.filter((x) => under(path, x.target)).sort((a, b) => b.target.length - a.target.length)[0];
  return m ? { datastore: exportOf(m), mountTarget: m.target } : null;
}

/** Where this host mounts a datastore, if it does. */
export const mountTargetOf = (datastore: string, mounts: readonly Mount[]): string | null => mounts.find((m) => exportOf(m) === datastore)?.target ?? null;

const hypervisors = (hosts: readonly HostRecord[]) => hosts.filter((h) => h.inventory.virt);

/** Every VM disk once (a running definition wins over a stale shut-off copy elsewhere). */
export function disksOnDatastores(hosts: readonly HostRecord[]): DiskOnDatastore[] {
  const byKey = new Map<string, DiskOnDatastore>();
  for (const h of hypervisors(hosts)) {
    const mounts = h.inventory.storage?.mounts ?? [];
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
          datastore: datastoreOfPath(disk.path, mounts)?.datastore ?? null,
        });
      }
    }
  }
  return [...byKey.values()];
}

export function datastoreCapacity(hosts: readonly HostRecord[]): DatastoreCapacity[] {
  const disks = disksOnDatastores(hosts);
  return storageOverview(hosts).datastores.map((d) => ({
    path: d.path,
    totalBytes: d.totalBytes,
    usedBytes: d.usedBytes,
    freeBytes: Math.max(0, d.totalBytes - d.usedBytes),
    usedPct: d.usedPct,
    level: d.level,
    mountedOn: hypervisors(hosts)
      .filter((h) => mountTargetOf(d.path, h.inventory.storage?.mounts ?? []) !== null)
      .map((h) => h.name),
    disks: disks.filter((k) => k.datastore === d.path).length,
  }));
}

export const pctOf = (used: number, total: number) => (total > 0 ? (100 * used) / total : 0);
