import { replaceLoadedRows } from "@/lib/paged-list";
import { pageShifted } from "@/lib/sparse-pages";
import { compareInstances, matchesInstance, type InstanceListQuery, type InstancePage, type InstanceSort, type InstanceView } from "@nimbus/domain";

/** What an infinite query of instances.page caches: the pages loaded so far. */
export interface InstancePages {
  pages: InstancePage[];
  pageParams: unknown[];
}

/**
 * One host's pushed instances applied to the pages a browser has loaded (pure). Rows of that host
 * that are shown are replaced in place; nothing else of the fleet is sent or kept. The loaded
 * pages are asked again (`refetch`) only when the event may change what they show or count: a
 * shown row left the host or stopped matching the filters, or a matching row this browser has
 * not got sorts into the loaded range (a new VM, or one that now matches), or a shown row's sort
 * value changed (its position may move). A row that sorts past the loaded range is left to the
 * page that will load it. Rows keep their ids either way, so a reload remounts nothing.
 */
export function patchInstancePages(
  data: InstancePages | undefined,
  filter: InstanceListQuery,
  host: string,
  instances: readonly InstanceView[],
): { data: InstancePages | undefined; refetch: boolean } {
  if (!data || !Array.isArray(data.pages) || !data.pages.length) return { data, refetch: false };
  const f = { q: filter.q ?? "", state: filter.state ?? "", host: filter.host ?? "", tenant: filter.tenant ?? "" };
  const fresh = new Map(instances.map((i) => [i.name, i]));
  const shown = new Set<string>();
  const cmp = compareInstances((filter.sort ?? "name") as InstanceSort, filter.desc ?? false);
  let refetch = false;
  const { pages, changed } = replaceLoadedRows(data.pages, (row: InstanceView) => {
    if (row.host !== host) return row;
    shown.add(row.name);
    const next = fresh.get(row.name);
    if (!next) {
      refetch = true; // deleted or moved away: the row goes, the count changes
      return row;
    }
    if (!matchesInstance(next, f)) refetch = true;
    // Same name and host: the comparison is 0 exactly when the sorted-by value is unchanged.
    else if (cmp(next, row) !== 0) refetch = true;
    return next === row || JSON.stringify(next) === JSON.stringify(row) ? row : next;
  });
  const loaded = pages.flatMap((p) => p.items);
  const loadedNames = new Set(loaded.map((row) => row.name));
  const last = loaded.at(-1);
  const head = loaded[0];
  // Pages from the middle of the list: a row that sorts before them may be on an earlier page (not loaded here, not news).
  const mid = (pages[0]?.offset ?? 0) > 0;
  // Every matching row from this run's first offset on is here (the end of the list is loaded).
  const complete = (pages[0]?.offset ?? 0) + loaded.length >= (pages[0]?.total ?? 0);
  for (const i of instances) {
    if (shown.has(i.name) || !matchesInstance(i, f)) continue;
    // Already shown under another host (a migration's two reports): the row's own host will tell.
    if (loadedNames.has(i.name)) continue;
    if (mid && head && cmp(i, head) < 0) continue;
    if (complete || !last || cmp(i, last) <= 0) refetch = true;
  }
  return { data: changed ? { ...data, pages } : data, refetch };
}

/**
 * The same for one page of a sparse table (the Instances page asks each page by offset): the
 * page is reloaded when its rows or their order may change, or when a matching row it has not
 * got sorts between its first and last rows (or after, on the list's last page). A row already
 * in the list that sorts before a middle page is not news there; a row that arrived or left
 * (`added` / `removed`, as the server says), or whose state changed under a filter or order by
 * state (`restated`), shifts every page from its position on, loaded or not (`pageShifted`):
 * this page reloads, and the new count it brings marks the table's other
 * pages stale (`useSparsePages`), so no row is repeated or missing at a seam.
 */
export function patchInstancePage(
  page: InstancePage | undefined,
  filter: InstanceListQuery,
  host: string,
  instances: readonly InstanceView[],
  delta: { added?: readonly string[]; removed?: readonly string[]; restated?: readonly string[] } = {},
): { data: InstancePage | undefined; refetch: boolean } {
  if (!page || !Array.isArray(page.items)) return { data: page, refetch: false };
  const f = { q: filter.q ?? "", state: filter.state ?? "", host: filter.host ?? "", tenant: filter.tenant ?? "" };
  // An empty page past the end: any new matching row may land on it.
  if (!page.items.length) return { data: page, refetch: instances.some((i) => matchesInstance(i, f)) };
  const next = patchInstancePages({ pages: [page], pageParams: [page.offset] }, filter, host, instances);
  const data = next.data?.pages[0];
  if (next.refetch || !data) return { data, refetch: next.refetch };
  const sort = (filter.sort ?? "name") as InstanceSort;
  const cmp = compareInstances(sort, filter.desc ?? false);
  const shown = new Set(page.items.map((i) => i.name));
  const added = new Set(delta.added ?? []);
  const arrived = instances.some((i) => added.has(i.name) && !shown.has(i.name) && matchesInstance(i, f) && pageShifted(page, i, cmp));
  // A row that left is not here to match or place: by name, its position is known; otherwise anywhere.
  const left = (f.host === "" || f.host === host) && (delta.removed ?? []).some((name) => !shown.has(name) && pageShifted(page, sort === "name" ? { ...page.items[0]!, name, host } : undefined, cmp));
  // A row whose state changed entered or left a filter by state (the pages after it moved), or moved in an order by state (from anywhere).
  const restated = new Set(delta.restated ?? []);
  const byState = f.state !== "" || sort === "state";
  const reordered = byState && instances.some((i) => restated.has(i.name) && !shown.has(i.name) && matchesInstance(i, { ...f, state: "" }) && pageShifted(page, sort === "state" ? undefined : i, cmp));
  return { data, refetch: arrived || left || reordered };
}
