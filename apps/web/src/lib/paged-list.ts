import { keepPreviousData } from "@tanstack/react-query";
import { useMemo } from "react";

/** One page as the list procedures answer (instances.page, hosts.page). */
interface PageLike<T> {
  items: T[];
  offset: number;
  total: number;
}

/** The offset of the page after `last`, or none when every matching row is loaded. */
export const nextOffset = (last: PageLike<unknown>): number | undefined => (last.offset + last.items.length < last.total ? last.offset + last.items.length : undefined);

/** Options every paged table's infinite query shares: offsets as cursors, the previous rows kept while a new filter loads. */
export const pagedQuery = { initialCursor: 0, getNextPageParam: nextOffset, placeholderData: keepPreviousData } as const;

/**
 * Loaded pages with some rows replaced (pure): `replace` returns the row to show, the same object
 * when it did not change. Pages without a changed row keep their identity (nothing re-renders there).
 */
export function replaceLoadedRows<T, P extends PageLike<T>>(pages: readonly P[], replace: (row: T) => T): { pages: P[]; changed: boolean } {
  let changed = false;
  const next = pages.map((page) => {
    let touched = false;
    const items = page.items.map((row) => {
      const fresh = replace(row);
      if (fresh !== row) touched = true;
      return fresh;
    });
    if (!touched) return page;
    changed = true;
    return { ...page, items };
  });
  return { pages: next, changed };
}

/** The first page (counts, filter menus) and every loaded row, in order, of an infinite list query. */
export function useLoadedRows<P extends PageLike<unknown>>(data: { pages: P[] } | undefined): { first: P | undefined; rows: P["items"] | undefined } {
  const pages = data?.pages;
  const rows = useMemo(() => pages?.flatMap((p) => p.items) as P["items"] | undefined, [pages]);
  return { first: pages?.[0], rows };
}
