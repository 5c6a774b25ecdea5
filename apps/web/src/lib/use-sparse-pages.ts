"use client";
import { keepPreviousData, useQueries, useQueryClient, type QueryKey, type UseQueryOptions, type UseQueryResult } from "@tanstack/react-query";
import { useCallback, useEffect, useState } from "react";
import { useDebounced } from "./use-debounced";
import { useUrlParam } from "./url-state";
import { currentTotal, pageIsCurrent, pagesForWindow, pagesToEvict, rowAt as rowAtOf, type RowWindow, type SparsePage } from "./sparse-pages";

/**
 * Pages kept in the cache across every filter of the list: those in view and the first stay,
 * then the most recently fetched (at 500 rows a page, a few MB whatever the scroll).
 */
export const SPARSE_PAGE_CAP = 12;
/** The window must rest this long before its pages are asked: dragging the scrollbar over 20,000 rows loads only where it stops. */
export const SPARSE_SETTLE_MS = 80;

/** Rows per page request: the URL's `per` when given (bounded as the servers bound a page), else `fallback`. */
export function usePerPage(fallback: number): number {
  const [per] = useUrlParam("per");
  return Math.min(500, Math.max(5, Number(per) || fallback));
}

/**
 * A server-paged list read sparsely by offset (TanStack Query, one query per page): the first
 * page gives the count and the menus, the table is sized to the count, and only the pages under
 * the window in view (plus `aheadRows` either side) are asked, wherever it is. The live channel
 * patches or invalidates page queries like any other query; a page fetched before the count
 * changed is shown as placeholders and fetched again (see `pageIsCurrent`).
 */
export function useSparsePages<T, P>({
  size,
  optionsFor,
  pathKey,
  resetKey,
  aheadRows = Math.floor(size / 4),
  toPage = (raw) => raw as SparsePage<T>,
}: {
  /** Rows per page. */
  size: number;
  /** The query of the page starting at `offset` (the filters, sort and `size` are the caller's). */
  optionsFor: (offset: number) => { queryKey: QueryKey };
  /** The procedure's key prefix: cached pages beyond the cap are dropped under it. */
  pathKey: QueryKey;
  /** Changes with the filters and sort: the window starts again at the top. */
  resetKey: string;
  aheadRows?: number;
  /** The page in a procedure's own shape (audit.list's records) as rows, offset and count. */
  toPage?: (raw: P) => SparsePage<T>;
}) {
  const qc = useQueryClient();
  const [reported, setReported] = useState<{ key: string; window: RowWindow }>({ key: resetKey, window: { start: 0, end: 0 } });
  const settled = useDebounced(reported, SPARSE_SETTLE_MS);
  const window = settled.key === resetKey ? settled.window : { start: 0, end: 0 };
  const onWindowChange = useCallback((w: RowWindow) => setReported({ key: resetKey, window: w }), [resetKey]);

  // The count as last known (from the cache, before this render's queries are read): sizes the wanted range.
  const cachedFirst = qc.getQueryData<P>(optionsFor(0).queryKey);
  const wanted = pagesForWindow(window, cachedFirst === undefined ? undefined : toPage(cachedFirst).total, size, aheadRows);
  const results: UseQueryResult<P>[] = useQueries({
    queries: wanted.map(
      (p) =>
        ({
          ...optionsFor(p * size),
          // The first page of the previous filter stays on screen (its count, its rows) while the new one loads.
          placeholderData: p === 0 ? keepPreviousData : undefined,
        }) as UseQueryOptions<P>,
    ),
  });
  const head = results[0]!;
  const totalOf = (raw: P | undefined) => (raw === undefined ? undefined : toPage(raw).total);
  const fresh = results.map((r) => (r.data && !r.isPlaceholderData ? { total: totalOf(r.data)!, at: r.dataUpdatedAt } : undefined));
  const total = currentTotal(fresh) ?? totalOf(head.data);

  // A page that disagrees with the current count was fetched before rows were created or deleted ahead of it: again.
  const staleKeys = results
    .map((r, k) => (r.data && !r.isPlaceholderData && !r.isFetching && totalOf(r.data) !== total ? JSON.stringify(optionsFor(wanted[k]! * size).queryKey) : null))
    .filter((k): k is string => k !== null)
    .join("\n");
  useEffect(() => {
    for (const key of staleKeys ? staleKeys.split("\n") : []) void qc.invalidateQueries({ queryKey: JSON.parse(key) as QueryKey, exact: true });
  }, [qc, staleKeys]);

  // Bounded memory: beyond the cap, pages no table shows are dropped, the oldest first.
  const fetchedAt = results.map((r) => r.dataUpdatedAt).join();
  const pathHash = JSON.stringify(pathKey);
  useEffect(() => {
    const cache = qc.getQueryCache();
    const queries = cache.findAll({ queryKey: JSON.parse(pathHash) as QueryKey });
    const evict = new Set(pagesToEvict(queries.map((q) => ({ key: q.queryHash, inUse: q.getObserversCount() > 0, at: q.state.dataUpdatedAt })), SPARSE_PAGE_CAP));
    for (const q of queries) if (evict.has(q.queryHash)) cache.remove(q);
  }, [qc, pathHash, fetchedAt]);

  // Rows from the pages this render holds; a page scrolled back to before the window settles is read from the cache.
  const asPage = (raw: P | undefined) => (raw === undefined ? undefined : toPage(raw));
  const byPage = new Map<number, SparsePage<T> | undefined>(wanted.map((p, k) => [p, asPage(results[k]!.data)]));
  const pageOf = (p: number): SparsePage<T> | undefined => {
    if (!byPage.has(p)) byPage.set(p, asPage(qc.getQueryData<P>(optionsFor(p * size).queryKey)));
    return byPage.get(p);
  };
  // The first page of the previous filter (shown while the new one loads) counts for itself.
  const headTotal = head.isPlaceholderData ? totalOf(head.data) : total;
  const rowAt = (index: number): T | undefined =>
    index < size && head.isPlaceholderData ? rowAtOf(index, size, pageOf, headTotal) : rowAtOf(index, size, pageOf, total);
  const loaded = wanted.filter((p) => pageIsCurrent(pageOf(p), total)).length;

  return {
    /** The first page: the count and the filter menus. */
    first: head.data,
    total,
    rowAt,
    onWindowChange,
    isPending: head.isPending,
    error: results.find((r) => r.error)?.error ?? null,
    fetching: results.some((r) => r.isFetching),
    /** Pages under the window not yet here (a placeholder is on screen). */
    waiting: wanted.length - loaded,
    refetch: () => results.forEach((r) => void r.refetch()),
  };
}
