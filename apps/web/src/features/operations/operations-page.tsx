"use client";
import { useInfiniteQuery } from "@tanstack/react-query";
import { OPERATION_SORTS, OPERATION_STATE_FILTERS, OperationKind, type OperationListQuery, type OperationSort } from "@nimbus/domain";
import { useMemo } from "react";
import { PageHeader } from "@/components/ui/panel";
import { SearchInput, Select } from "@/components/ui/field";
import { Toolbar, countLabel } from "@/components/ui/toolbar";
import { useNow } from "@/lib/clock";
import { pagedQuery, useLoadedRows } from "@/lib/paged-list";
import { MoreRows } from "@/components/table/more-rows";
import { useTRPC } from "@/lib/trpc";
import { useDebounced } from "@/lib/use-debounced";
import { useUrlParam } from "@/lib/url-state";
import { useUrlSort } from "@/lib/url-sort";
import { LiveOperation } from "./live-operation";
import { OperationsTable } from "./operations-table";

/** Rows per request as the table scrolls. */
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
  // Filtered, sorted and paged by the database; more pages load as the table scrolls.
  const query = useMemo(() => operationsQuery({ q, kind, state, sort: sortId, desc }), [q, kind, state, sortId, desc]);
  const settled = useDebounced(query, 200);
  const ops = useInfiniteQuery(trpc.operations.page.infiniteQueryOptions(settled, pagedQuery));
  const { first, rows } = useLoadedRows(ops.data);
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
        operations={rows}
        now={now}
        isLoading={ops.isPending}
        error={ops.error}
        onRetry={() => void ops.refetch()}
        sorting={sorting}
        onSortingChange={setSorting}
        sortable={OPERATION_SORTS satisfies readonly OperationSort[]}
        onEndReached={ops.hasNextPage && !ops.isFetching ? () => void ops.fetchNextPage() : undefined}
        footer={<MoreRows testId="operations-more" loaded={rows?.length} total={first?.total} fetching={ops.isFetchingNextPage} />}
        filtered={!!(q || kind || state)}
        renderRunning={(op) => <LiveOperation initial={op} compact />}
      />
    </>
  );
}
