import {
  compareHealthChecks,
  compareOperations,
  compareValues,
  matchesHealthCheck,
  matchesOperation,
  moveRecord,
  OperationListQuery,
  type HealthCheck,
  type HealthListQuery,
  type HealthPage,
  type MoveRecord,
  type Operation,
  type OperationPage,
  type Page,
} from "@nimbus/domain";
import { mergeOperation } from "./live-patch";
import { patchPagedRow, replaceLoadedRows } from "./paged-list";

/** What an infinite query of a paged list caches: the pages loaded so far. */
export interface LoadedPages<P> {
  pages: P[];
  pageParams: unknown[];
}
type Patched<P> = { data: LoadedPages<P> | undefined; refetch: boolean };

const withPages = <P>(data: LoadedPages<P> | undefined, pages: P[] | undefined): LoadedPages<P> | undefined => (data && pages && pages !== data.pages ? { ...data, pages } : data);

/**
 * One pushed operation against the loaded pages of the Operations page (pure). The browser
 * receives only what its viewer may see (masked for tenants), so the filters are matched as
 * staff would; the server's page stays the authority whenever a reload is asked.
 */
export function patchOperationPages(data: LoadedPages<OperationPage> | undefined, input: unknown, op: Operation): Patched<OperationPage> {
  const parsed = OperationListQuery.safeParse(input ?? {});
  if (!parsed.success) return { data, refetch: false };
  const f = parsed.data;
  const fresh = matchesOperation(op, f, { tenant: null }) ? op : null;
  const { pages, refetch } = patchPagedRow(data, op.id, fresh, compareOperations(f.sort, f.desc), mergeOperation, op.state === "pending");
  return { data: withPages(data, pages), refetch };
}

/** The Moves page's query (history.movesPage's input) as the operations filter the server applies. */
interface MovesInput {
  instance?: string;
  host?: string;
  kind?: "" | "migrate" | "storage-move";
  result?: "" | "succeeded" | "failed" | "cancelled" | "running";
  requestedBy?: string;
  q?: string;
  desc?: boolean;
}

/** One pushed operation against the loaded pages of the Moves page (pure): its row rebuilt with the domain's rule. */
export function patchMovePages(data: LoadedPages<Page<MoveRecord>> | undefined, input: MovesInput | undefined, op: Operation, now: string): Patched<Page<MoveRecord>> {
  if (op.kind !== "migrate" && op.kind !== "storage-move") return { data, refetch: false };
  const m = input ?? {};
  const f = OperationListQuery.parse({
    kinds: m.kind ? [m.kind] : ["migrate", "storage-move"],
    targetType: "instance",
    target: m.instance ?? "",
    host: m.host ?? "",
    state: m.result === "running" ? "active" : (m.result ?? ""),
    requestedBy: m.requestedBy ?? "",
    q: m.q ?? "",
  });
  const desc = m.desc ?? true;
  const fresh = matchesOperation(op, f, { tenant: null }) ? moveRecord(op, now) : null;
  const compare = (a: MoveRecord, b: MoveRecord) => {
    const c = compareValues(a.startedAt, b.startedAt) || compareValues(a.id, b.id);
    return desc ? -c : c;
  };
  const { pages, refetch } = patchPagedRow(data, op.id, fresh, compare, undefined, op.state === "pending");
  return { data: withPages(data, pages), refetch };
}

/**
 * Pushed health changes against the loaded pages of the Health page (pure). A shown check whose
 * message or "affects" changed is patched in place; anything that moves the counts or the order
 * (a state or acknowledgement change, a new or removed check that belongs to the filter) asks for
 * the pages again: the counts in the summary are the whole fleet's.
 */
export function patchHealthPages(data: LoadedPages<HealthPage> | undefined, input: HealthListQuery | undefined, upsert: readonly HealthCheck[], remove: readonly string[]): Patched<HealthPage> {
  if (!data || !Array.isArray(data.pages) || !data.pages.length) return { data, refetch: false };
  const fresh = new Map(upsert.map((c) => [c.id, c]));
  const gone = new Set(remove);
  const shown = new Set<string>();
  // Any change of state, acknowledgement or membership moves the fleet's counts.
  let refetch = remove.length > 0;
  const { pages, changed } = replaceLoadedRows(data.pages, (row: HealthCheck) => {
    shown.add(row.id);
    if (gone.has(row.id)) refetch = true;
    const next = fresh.get(row.id);
    if (!next) return row;
    if (!matchesHealthCheck(next, input ?? {}) || compareHealthChecks(next, row) !== 0 || next.state !== row.state || !!next.ack !== !!row.ack) refetch = true;
    return JSON.stringify(next) === JSON.stringify(row) ? row : next;
  });
  // A check not loaded here: new, or changed state somewhere else in the fleet (the counts move).
  for (const c of upsert) if (!shown.has(c.id)) refetch = true;
  return { data: changed ? { ...data, pages } : data, refetch };
}
