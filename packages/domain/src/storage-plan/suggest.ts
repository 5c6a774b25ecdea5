import { CAPACITY_WARN_PCT, capacityLevel } from "../overviews.js";
import { pctOf, type DatastoreCapacity, type DiskOnDatastore } from "./datastores.js";

/**
 * Which disks to move where so that every datastore gets back under the threshold (80 % by
 * default), copying as few bytes as possible: one disk that is just big enough beats several, and
 * the biggest go first otherwise. A destination must be mounted on the VM's host and stay under
 * the threshold itself; among those, the emptiest wins. Pure: the page shows it, nothing runs.
 */
export interface SuggestedMove {
  instance: string;
  disk: string;
  path: string;
  sizeBytes: number;
  running: boolean;
  from: string;
  to: string;
  /** Usage of the destination after this move. */
  toPctAfter: number;
  reason: string;
}

export interface DatastoreSuggestion {
  datastore: string;
  usedPct: number;
  level: "ok" | "warn" | "crit";
  targetPct: number;
  moves: SuggestedMove[];
  /** Usage once the suggested moves are done. */
  usedPctAfter: number;
  /** The moves bring it under the threshold. */
  enough: boolean;
  /** Why it cannot get there, when it cannot. */
  shortfall: string | null;
}

export interface SuggestInput {
  datastores: readonly DatastoreCapacity[];
  disks: readonly DiskOnDatastore[];
  targetPct?: number;
  /** VMs with an operation running: their disks are left alone. */
  busyInstances?: ReadonlySet<string>;
}

interface Projection {
  ds: DatastoreCapacity;
  used: number;
}

export function suggestStorageMoves(input: SuggestInput): DatastoreSuggestion[] {
  const target = input.targetPct ?? CAPACITY_WARN_PCT;
  const projected = new Map<string, Projection>(input.datastores.map((ds) => [ds.path, { ds, used: ds.usedBytes }]));
  const over = [...input.datastores].filter((ds) => ds.usedPct >= target).sort((a, b) => b.usedPct - a.usedPct);
  const limit = (p: Projection) => (p.ds.totalBytes * target) / 100;

  return over.map((ds) => {
    const from = projected.get(ds.path)!;
    const pool = input.disks
      .filter((d) => d.datastore === ds.path && d.sizeBytes > 0 && !input.busyInstances?.has(d.instance))
      .sort((a, b) => b.sizeBytes - a.sizeBytes || a.instance.localeCompare(b.instance));
    const destinationFor = (d: DiskOnDatastore) =>
      [...projected.values()]
        .filter((p) => p.ds.path !== ds.path && p.ds.mountedOn.includes(d.host) && p.used + d.sizeBytes < limit(p))
        .sort((a, b) => pctOf(a.used + d.sizeBytes, a.ds.totalBytes) - pctOf(b.used + d.sizeBytes, b.ds.totalBytes))[0];

    const moves: SuggestedMove[] = [];
    const take = (d: DiskOnDatastore, to: Projection, why: string) => {
      pool.splice(pool.indexOf(d), 1);
      to.used += d.sizeBytes;
      from.used -= d.sizeBytes;
      moves.push({ instance: d.instance, disk: d.disk, path: d.path, sizeBytes: d.sizeBytes, running: d.running, from: ds.path, to: to.ds.path, toPctAfter: pctOf(to.used, to.ds.totalBytes), reason: why });
    };
    while (from.used >= limit(from) && pool.length) {
      const need = from.used - limit(from) + 1;
      const placeable = pool.map((d) => ({ d, to: destinationFor(d) })).filter((x): x is { d: DiskOnDatastore; to: Projection } => !!x.to);
      if (!placeable.length) break;
      const single = placeable.filter((x) => x.d.sizeBytes >= need).sort((a, b) => a.d.sizeBytes - b.d.sizeBytes)[0];
      if (single) take(single.d, single.to, `the smallest disk that alone brings ${ds.path} under ${target} %`);
      else take(placeable[0]!.d, placeable[0]!.to, `the largest disk that fits elsewhere`);
    }
    const usedPctAfter = pctOf(from.used, ds.totalBytes);
    const enough = usedPctAfter < target;
    return {
      datastore: ds.path,
      usedPct: ds.usedPct,
      level: capacityLevel(ds.usedPct),
      targetPct: target,
      moves,
      usedPctAfter,
      enough,
      shortfall: enough ? null : shortfallOf(ds, pool.length, moves.length),
    };
  });
}

function shortfallOf(ds: DatastoreCapacity, leftOver: number, moved: number): string {
  if (ds.disks === 0) return `no VM disk lives on ${ds.path}: its space is used by other files`;
  if (leftOver === 0) return `moving every VM disk off ${ds.path} is not enough: other files use the rest`;
  return `no other datastore has room for the remaining disks${moved ? ` after ${moved} move(s)` : ""} without crossing the threshold itself`;
}
