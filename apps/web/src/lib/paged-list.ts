import { useMemo, useRef, type RefObject } from "react";

/** One page as the list procedures answer (instances.page, hosts.page). */
interface PageLike<T> {
  items: T[];
  offset: number;
  total: number;
}

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

/**
 * One pushed row (an operation, a move) applied to the loaded pages of a list the server orders
 * (pure). `fresh` is the row as the list would show it, or null when it no longer belongs (the
 * filters exclude it). A shown row is replaced in place; the pages are asked again (`refetch`)
 * only when what they show, count or order may change: a shown row left the filter or its sort
 * value moved, or a matching row not loaded sorts into the loaded range. Rows keep their ids, so
 * a reload remounts nothing.
 */
export function patchPagedRow<T extends { id: string }, P extends PageLike<T>>(
  data: { pages: P[] } | undefined,
  id: string,
  fresh: T | null,
  compare: (a: T, b: T) => number,
  merge: (prev: T, next: T) => T = (_prev, next) => next,
  /** The row was just created (not a change of one the list already counts somewhere). */
  isNew = false,
): { pages: P[] | undefined; refetch: boolean } {
  const loaded = data?.pages;
  if (!loaded || !Array.isArray(loaded) || !loaded.length) return { pages: loaded, refetch: false };
  let found = false;
  let refetch = false;
  const { pages, changed } = replaceLoadedRows(loaded, (row: T) => {
    if (row.id !== id) return row;
    found = true;
    if (!fresh) {
      refetch = true;
      return row;
    }
    if (compare(fresh, row) !== 0) refetch = true;
    const next = merge(row, fresh);
    return next === row || JSON.stringify(next) === JSON.stringify(row) ? row : next;
  });
  if (!found && fresh) {
    const rows = loaded.flatMap((p) => p.items);
    const head = rows[0];
    const last = rows.at(-1);
    const offset = loaded[0]?.offset ?? 0;
    const complete = offset + rows.length >= (loaded[0]?.total ?? 0);
    // Before a middle page (a sparse table's): a row already counted is on an earlier page, not news here;
    // a new one moved every row of this page by one (pageShifted).
    if (offset > 0 && head && compare(fresh, head) < 0) refetch ||= isNew;
    else if (complete || !last || compare(fresh, last) <= 0) refetch = true;
  }
  return { pages: changed ? pages : loaded, refetch };
}

/**
 * Columns of a table whose rows the server sorts: only the columns it sorts by offer a sort
 * (`sortable` undefined: every column, sorted in the browser).
 */
export function serverSortable<C extends { id?: string }>(columns: C[], sortable: readonly string[] | undefined): C[] {
  if (!sortable) return columns;
  const idOf = (c: C) => c.id ?? ("accessorKey" in c ? String(c.accessorKey) : "");
  return columns.map((c) => (sortable.includes(idOf(c)) ? c : { ...c, enableSorting: false }));
}

/**
 * Column definitions built once per table for what `build` was given (values that change every
 * render, like the clock, are read through the ref). tanstack's flexRender renders a cell function
 * as a component: new functions on each render would remount every cell, closing an open menu.
 */
export function useStableColumns<V, C>(value: V, build: (value: RefObject<V>) => C, deps: readonly unknown[]): C {
  const ref = useRef(value);
  ref.current = value;
  // eslint-disable-next-line react-hooks/exhaustive-deps -- rebuilt only when what shapes the columns changes
  return useMemo(() => build(ref), deps);
}
