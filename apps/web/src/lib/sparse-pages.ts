/**
 * Sparse paging (pure): a server-paged table knows its row count from the first page and loads
 * only the pages under the rows in view, by offset, wherever the scroll is. These rules decide
 * which pages to ask for, which row a cached page gives, which page answers are still to be
 * trusted when the count moves, and which cached pages to let go.
 */

/** One page as the list procedures answer (instances.page). */
export interface SparsePage<T> {
  items: T[];
  offset: number;
  total: number;
}

/** Rows [start, end] of the list that are in view (the virtualizer's window, overscan included). */
export interface RowWindow {
  start: number;
  end: number;
}

/**
 * The page numbers covering a window plus `aheadRows` either side, clamped to the list. Page 0
 * (the count and the filter menus) is always asked, so it comes first; the rest in order.
 */
export function pagesForWindow(window: RowWindow, total: number | undefined, size: number, aheadRows = 0): number[] {
  if (size <= 0) return [0];
  const last = total === undefined ? window.end + aheadRows : Math.max(0, total - 1);
  const from = Math.max(0, Math.min(window.start - aheadRows, last));
  const to = Math.max(from, Math.min(window.end + aheadRows, last));
  const pages = [0];
  for (let p = Math.floor(from / size); p <= Math.floor(to / size); p++) if (p !== 0) pages.push(p);
  return pages;
}

/**
 * The count to size the table by: the one the most recently fetched page says. Pages fetched
 * before the count changed may have shifted (rows created or deleted before them).
 */
export function currentTotal(pages: readonly ({ total: number; at: number } | undefined)[]): number | undefined {
  let best: { total: number; at: number } | undefined;
  for (const p of pages) if (p && (!best || p.at > best.at)) best = p;
  return best?.total;
}

/**
 * A page answer is shown only while it agrees with the current count: one fetched before rows
 * were created or deleted ahead of it may hold rows that moved to the next page (a repeat at the
 * seam) or miss some (a gap). Its rows show as placeholders until it is fetched again.
 */
export const pageIsCurrent = (page: SparsePage<unknown> | undefined, total: number | undefined): boolean =>
  !!page && (total === undefined || page.total === total);

/** The row at `index` from the cached pages (page p covers [p*size, (p+1)*size)), or undefined: a placeholder. */
export function rowAt<T>(index: number, size: number, pageOf: (page: number) => SparsePage<T> | undefined, total: number | undefined): T | undefined {
  if (index < 0 || (total !== undefined && index >= total)) return undefined;
  const p = Math.floor(index / size);
  const page = pageOf(p);
  if (!page || !pageIsCurrent(page, total) || page.offset !== p * size) return undefined;
  return page.items[index - page.offset];
}

/**
 * Cached pages to drop so at most `cap` are kept (bounded memory at any scroll): pages in use
 * (in view, or the first) are kept, then the most recently fetched; the rest go.
 */
export function pagesToEvict<K>(cached: readonly { key: K; inUse: boolean; at: number }[], cap: number): K[] {
  const spare = cached.filter((c) => !c.inUse).sort((a, b) => b.at - a.at);
  const room = Math.max(0, cap - (cached.length - spare.length));
  return spare.slice(room).map((c) => c.key);
}

/**
 * Whether a row inserted into or removed from the list outside a cached page moves that page's
 * rows (pure): every page from the change's position on holds rows shifted by one, so it is
 * fetched again (its new count then marks the other pages after it stale: `pageIsCurrent`).
 * The change is at `row`'s sort position (`compare` is the list's order), or anywhere when it is
 * not known (`undefined`: a removed row the browser never had). Pages wholly before the position
 * keep their rows; the list's last page (or an empty one past it) moves with any change.
 */
export function pageShifted<T>(page: SparsePage<T>, row: T | undefined, compare: (a: T, b: T) => number): boolean {
  const last = page.items.at(-1);
  if (last === undefined || page.offset + page.items.length >= page.total) return true;
  return row === undefined || compare(row, last) <= 0;
}
