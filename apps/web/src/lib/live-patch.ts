import {
  byUrgency,
  moveHistory,
  type HealthCheck,
  type HostNetworkView,
  type HostRecord,
  type HostSummary,
  type InstanceView,
  type MoveHistoryFilter,
  type MoveRecord,
  type Operation,
} from "@nimbus/domain";

/**
 * Pure updates of cached query data from pushed live events. Each returns new arrays/objects (the
 * cache compares by identity) and leaves a missing cache entry missing: an event never creates a
 * list the page has not loaded yet.
 */

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);

/**
 * Put the summaries of one batch in place. Rows keep their positions (the list is sorted by name
 * and names do not change), so a batch of CPU updates costs one pass, not a sort per host.
 */
export function replaceHostSummaries(list: HostSummary[] | undefined, summaries: readonly HostSummary[]): HostSummary[] | undefined {
  if (!list || !summaries.length) return list;
  const fresh = new Map(summaries.map((s) => [s.name, s]));
  const next = list.map((h) => {
    const s = fresh.get(h.name);
    if (!s) return h;
    fresh.delete(h.name);
    return s;
  });
  return fresh.size ? [...next, ...fresh.values()].sort(byName) : next;
}

/**
 * Apply a health delta to the cached list, worst first in the server's own order (byUrgency):
 * changed checks leave their old place and are merged in where they now belong.
 */
export function applyHealthChanges(list: HealthCheck[] | undefined, upsert: readonly HealthCheck[], remove: readonly string[]): HealthCheck[] | undefined {
  if (!list || (!upsert.length && !remove.length)) return list;
  const gone = new Set([...remove, ...upsert.map((c) => c.id)]);
  const kept = list.filter((c) => !gone.has(c.id));
  const added = [...upsert].sort(byUrgency);
  // Both runs are sorted: one merge, not a sort of 10,000 checks per change.
  const merged: HealthCheck[] = [];
  let i = 0;
  let j = 0;
  while (i < kept.length || j < added.length) {
    if (j >= added.length || (i < kept.length && byUrgency(kept[i]!, added[j]!) <= 0)) merged.push(kept[i++]!);
    else merged.push(added[j++]!);
  }
  return merged;
}

/** The event carries every domain one host now reports; a migrated VM moves rows by itself. */
export function replaceHostInstances(
  list: InstanceView[] | undefined,
  host: string,
  instances: InstanceView[],
): InstanceView[] | undefined {
  if (!list) return list;
  return [...list.filter((i) => i.host !== host), ...instances].sort((a, b) => byName(a, b) || a.host.localeCompare(b.host));
}

/**
 * A host page's "Bridges and ports" from the pushed network section: the ports of VMs that left
 * go, those of VMs that arrived come. A page whose host had no network section yet is left as it
 * is (the caller refetches it: the event carries bridges, not interfaces).
 */
export function withHostBridges<D extends { host: HostRecord }>(detail: D | undefined, view: HostNetworkView): D | undefined {
  const net = detail?.host.inventory.net;
  if (!detail || !net || detail.host.name !== view.host || net.bridges === view.bridges) return detail;
  return { ...detail, host: { ...detail.host, inventory: { ...detail.host.inventory, net: { ...net, bridges: view.bridges } } } };
}

/** Do a host page's NFS mounts differ from the fleet's pushed mount list? */
export function hostMountsDiffer(host: HostRecord, mounts: readonly { host: string; source: string; target: string }[]): boolean {
  const key = (m: { source: string; target: string }) => `${m.source} ${m.target}`;
  const shown = (host.inventory.storage?.mounts ?? []).map(key).sort().join("\n");
  return shown !== mounts.filter((m) => m.host === host.name).map(key).sort().join("\n");
}

/**
 * An instance page after one host's instances were pushed. Its row is patched when this is the
 * VM's host; its definition (disks, NICs: not in the event) is refetched when the row changed,
 * when the VM left this host, or when it shows up on another (a migration, an evacuation, a disk
 * move), and the server says again which copy is the instance.
 */
export function instanceDetailAfter<D extends { instance: InstanceView }>(
  detail: D | undefined,
  host: string,
  instances: readonly InstanceView[],
): { detail: D | undefined; refetch: boolean } {
  if (!detail) return { detail, refetch: false };
  const fresh = instances.find((i) => i.name === detail.instance.name);
  if (detail.instance.host !== host) return { detail, refetch: fresh !== undefined };
  if (!fresh) return { detail, refetch: true };
  if (JSON.stringify(fresh) === JSON.stringify(detail.instance)) return { detail, refetch: false };
  return { detail: { ...detail, instance: fresh }, refetch: true };
}

export function replaceHostNetwork(list: HostNetworkView[] | undefined, view: HostNetworkView): HostNetworkView[] | undefined {
  if (!list) return list;
  return [...list.filter((n) => n.host !== view.host), view].sort((a, b) => a.host.localeCompare(b.host));
}

/**
 * The newer of two versions of one operation. An update older than the cached one (a mutation
 * response arriving after the first pushed progress) is dropped, and a percent (migration, disk
 * move, evacuation) is never lowered, so the bar cannot run backwards.
 */
export function mergeOperation(prev: Operation | undefined, next: Operation): Operation {
  if (!prev || prev.id !== next.id) return next;
  if (Date.parse(next.updatedAt) < Date.parse(prev.updatedAt)) return prev;
  const p = prev.progress;
  const n = next.progress;
  // Migrations, disk moves and evacuations all carry a monotonic percent; scaling does not.
  if (p && n && p.kind === n.kind && "percent" in p && "percent" in n && n.percent < p.percent) {
    return { ...next, progress: { ...n, percent: p.percent } };
  }
  if (p && !n && !isFinalState(next.state)) return { ...next, progress: p };
  return next;
}

const isFinalState = (s: Operation["state"]) => s === "succeeded" || s === "failed" || s === "cancelled";

export interface OperationsFilter {
  target?: { type: Operation["target"]["type"]; name: string };
  limit?: number;
}

export const operationMatches = (op: Operation, filter: OperationsFilter | undefined): boolean =>
  !filter?.target || (op.target.type === filter.target.type && op.target.name === filter.target.name);

/** Insert or update one operation in a newest-first list, honouring that list's filter and limit. */
export function upsertOperation(list: Operation[] | undefined, op: Operation, filter?: OperationsFilter): Operation[] | undefined {
  if (!list || !operationMatches(op, filter)) return list;
  const index = list.findIndex((o) => o.id === op.id);
  if (index >= 0) {
    const merged = mergeOperation(list[index], op);
    if (merged === list[index]) return list;
    const copy = [...list];
    copy[index] = merged;
    return copy;
  }
  const sorted = [op, ...list].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return filter?.limit ? sorted.slice(0, filter.limit) : sorted;
}

/**
 * What a table row shows inline for a target: its newest operation while it runs, and for a
 * minute after it ends so the outcome ("Migrated", "VM still running on kvm1: …") is seen.
 */
export function rowOperationFor(
  ops: readonly Operation[] | undefined,
  target: Operation["target"],
  now: number,
  keepMs = 60_000,
): Operation | undefined {
  const latest = ops?.find((o) => o.target.type === target.type && o.target.name === target.name);
  if (!latest) return undefined;
  if (!isFinalState(latest.state)) return latest;
  const ended = Date.parse(latest.finishedAt ?? latest.updatedAt);
  return now - ended < keepMs ? latest : undefined;
}

export type MovesFilter = MoveHistoryFilter & { limit?: number };

/**
 * Keep a cached moves history (overall or one VM's) current from one pushed operation: the row
 * is rebuilt with the domain's own rules, inserted newest first, and dropped when it stops
 * matching the list's filter (a "running" list loses a move once it ends).
 */
export function upsertMove(list: MoveRecord[] | undefined, op: Operation, filter: MovesFilter, now: string): MoveRecord[] | undefined {
  if (!list) return list;
  const [record] = moveHistory([op], filter, now);
  const index = list.findIndex((r) => r.id === op.id);
  if (!record) return index >= 0 ? list.filter((r) => r.id !== op.id) : list;
  if (index >= 0) {
    const copy = [...list];
    copy[index] = record;
    return copy;
  }
  const sorted = [record, ...list].sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id));
  return filter.limit ? sorted.slice(0, filter.limit) : sorted;
}
