"use client";
import { OPERATION_SORTS, OPERATION_STATE_FILTERS, OperationKind, type Operation, type OperationListQuery, type OperationPage, type OperationSort } from "@nimbus/domain";
import { useCallback, useMemo } from "react";
import { PageHeader } from "@/components/ui/panel";
import { SearchInput, Select } from "@/components/ui/field";
import { Toolbar, countLabel } from "@/components/ui/toolbar";
import { useNow } from "@/lib/clock";
import { usePerPage, useSparsePages } from "@/lib/use-sparse-pages";
import { useTRPC } from "@/lib/trpc";
import { useDebounced } from "@/lib/use-debounced";
import { useUrlParam } from "@/lib/url-state";
import { useUrlSort } from "@/lib/url-sort";
import { LiveOperation } from "./live-operation";
import { OperationsTable } from "./operations-table";

/** Rows per request, by offset, under the window in view. */
export const OPERATION_PAGE = 100;
const oneOf = <T extends string>(list: readonly T[], v: string): T | "" => ((list as readonly string[]).includes(v) ? (v as T) : "");

/** The page's URL as the query the server answers (what the live channel matches pushed rows against). */
export function operationsQuery(p: { q: string; kind: string; state: string; sort: string; desc: boolean }): OperationListQuery {
  return {
    q: p.q.trim(),
    kind: oneOf(OperationKind.options, p.kind),
    state: oneOf(OPERATION_STATE_FILTERS, p.state),
    sort: oneOf(OPERATION_SORTS, p.sort) || "createdAt",
    desc: p.desc,
    limit: OPERATION_PAGE,
  };
}

export function OperationsPage() {
  const trpc = useTRPC();
  const now = useNow();
  const [q, setQ] = useUrlParam("q");
  const [kind, setKind] = useUrlParam("kind");
  const [state, setState] = useUrlParam("state");
  const [sorting, setSorting] = useUrlSort([{ id: "createdAt", desc: true }]);
  const sortId = sorting[0]?.id ?? "createdAt";
  const desc = sorting[0]?.desc ?? true;
  // Filtered, sorted and paged by the database; the pages under the rows in view load, wherever the scroll is.
  const query = useMemo(() => operationsQuery({ q, kind, state, sort: sortId, desc }), [q, kind, state, sortId, desc]);
  const settled = useDebounced(query, 200);
  const perPage = usePerPage(OPERATION_PAGE);
  const optionsFor = useCallback((offset: number) => trpc.operations.page.queryOptions({ ...settled, offset, limit: perPage }), [trpc, settled, perPage]);
  const resetKey = JSON.stringify([settled, perPage]);
  const ops = useSparsePages<Operation, OperationPage>({ size: perPage, optionsFor, pathKey: trpc.operations.page.pathKey(), resetKey });
  const first = ops.first;
  return (
    <>
      <PageHeader title="Operations" description="Long work (creates, deletes, migrations, disk moves, evacuations, scaling) as it runs and how it ended. Open one for its steps and log. Updates arrive live." />
      <Toolbar count={first ? countLabel(first.total, first.all, "operations") : ""}>
        <SearchInput value={q} onChange={setQ} placeholder="Search target, user, ID" />
        <Select aria-label="Kind" value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="">Any kind</option>
          {OperationKind.options.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </Select>
        <Select aria-label="State" value={state} onChange={(e) => setState(e.target.value)}>
          <option value="">Any state</option>
          <option value="active">Running</option>
          <option value="succeeded">Succeeded</option>
          <option value="failed">Failed</option>
          <option value="cancelled">Cancelled</option>
        </Select>
      </Toolbar>
      <OperationsTable
        operations={undefined}
        sparse={ops.total === undefined ? undefined : { total: ops.total, rowAt: ops.rowAt, onWindowChange: ops.onWindowChange, resetKey }}
        now={now}
        isLoading={ops.isPending}
        error={ops.error}
        onRetry={ops.refetch}
        sorting={sorting}
        onSortingChange={setSorting}
        sortable={OPERATION_SORTS satisfies readonly OperationSort[]}
        filtered={!!(q || kind || state)}
        renderRunning={(op) => <LiveOperation initial={op} compact />}
      />
    </>
  );
}
