import { z } from "zod";
import { OperationKind, OperationTarget, type Operation } from "../operations.js";
import { MAX_SEARCH, PageWindow, compareValues, pageOf, type Page } from "./page.js";

export const OPERATION_SORTS = ["createdAt", "updatedAt", "kind", "state", "target", "requestedBy"] as const;
export type OperationSort = (typeof OPERATION_SORTS)[number];

/** "active" is pending or running: what a person means by "still going". */
export const OPERATION_STATE_FILTERS = ["", "active", "pending", "running", "succeeded", "failed", "cancelled"] as const;

/**
 * One page of operations: filters as the URL carries them ("" = any), a sort and a window. The
 * store answers it in SQL; `queryOperations` below is the same rule over an array (the memory
 * store, and the reference the SQL is tested against). Free text matches the id, kind, target
 * and requester, and for staff the summary and host too (a tenant's summary is masked, so a
 * search there could tell a host's name by what matches).
 */
export const OperationListQuery = z.object({
  q: z.string().max(MAX_SEARCH).default(""),
  kind: z.union([OperationKind, z.literal("")]).default(""),
  /** Only these kinds (the moves history: migrate and storage-move). */
  kinds: z.array(OperationKind).max(OperationKind.options.length).optional(),
  state: z.enum(OPERATION_STATE_FILTERS).default(""),
  targetType: z.union([OperationTarget.shape.type, z.literal("")]).default(""),
  /** A target's exact name. */
  target: z.string().max(253).default(""),
  /** Ran on this host or moved a VM to it (staff only: the router drops it for tenants). */
  host: z.string().max(253).default(""),
  requestedBy: z.string().max(128).default(""),
  sort: z.enum(OPERATION_SORTS).default("createdAt"),
  desc: z.boolean().default(true),
  ...PageWindow,
});
export type OperationListQuery = z.input<typeof OperationListQuery>;
export type OperationListFilter = z.output<typeof OperationListQuery>;

/** Who asks: staff see every operation; a tenant only its own tenant's (and searches no host text). */
export type OperationScope = { tenant: null } | { tenant: string };

export type OperationPage = Page<Operation>;

const sortValue: Record<OperationSort, (o: Operation) => string> = {
  createdAt: (o) => o.createdAt,
  updatedAt: (o) => o.updatedAt,
  kind: (o) => o.kind,
  state: (o) => o.state,
  target: (o) => o.target.name,
  requestedBy: (o) => o.requestedBy,
};

/** Equal sort values fall back to the id, in the same direction: pages never overlap or skip. */
export function compareOperations(sort: OperationSort, desc: boolean): (a: Operation, b: Operation) => number {
  const value = sortValue[sort];
  return (a, b) => {
    const c = compareValues(value(a), value(b)) || compareValues(a.id, b.id);
    return desc ? -c : c;
  };
}

/** The fields a search looks in for this scope (the SQL store searches the same columns). */
export const operationSearchColumns = (staff: boolean) =>
  staff ? (["id", "kind", "target", "requestedBy", "summary", "host"] as const) : (["id", "kind", "target", "requestedBy"] as const);
const searchValue = { id: (o: Operation) => o.id, kind: (o: Operation) => o.kind, target: (o: Operation) => o.target.name, requestedBy: (o: Operation) => o.requestedBy, summary: (o: Operation) => o.summary, host: (o: Operation) => o.host };

/** Whether an operation belongs on the page for this scope and these filters (one rule for every caller). */
export function matchesOperation(o: Operation, f: OperationListFilter, scope: OperationScope): boolean {
  const staff = scope.tenant === null;
  if (!staff && o.tenant !== scope.tenant) return false;
  if (f.kind && o.kind !== f.kind) return false;
  if (f.kinds && !f.kinds.includes(o.kind)) return false;
  if (f.state === "active" ? o.state !== "pending" && o.state !== "running" : f.state && o.state !== f.state) return false;
  if (f.targetType && o.target.type !== f.targetType) return false;
  if (f.target && o.target.name !== f.target) return false;
  if (staff && f.host && o.host !== f.host && o.params.destination !== f.host) return false;
  if (f.requestedBy && o.requestedBy !== f.requestedBy) return false;
  const q = f.q.trim().toLowerCase();
  return !q || operationSearchColumns(staff).some((c) => searchValue[c](o).toLowerCase().includes(q));
}

/** One page from operations held in memory (the memory store; the reference for the SQL one). */
export function queryOperations(ops: readonly Operation[], input: OperationListQuery, scope: OperationScope): OperationPage {
  const f = OperationListQuery.parse(input);
  const offset = f.offset;
  const ordered = [...ops].sort(compareOperations(f.sort, f.desc));
  const { items, total } = pageOf(ordered, (o) => matchesOperation(o, f, scope), offset, f.limit);
  const all = scope.tenant === null ? ops.length : ops.filter((o) => o.tenant === scope.tenant).length;
  return { items, total, all, offset, limit: f.limit };
}
