import { replaceLoadedRows } from "@/lib/paged-list";
import { compareHosts, matchesHost, type HostListQuery, type HostPage, type HostSort, type HostSummary } from "@nimbus/domain";

/** What an infinite query of hosts.page caches: the pages loaded so far. */
export interface HostPages {
  pages: HostPage[];
  pageParams: unknown[];
}

/**
 * A pushed batch of host summaries applied to the loaded pages of the Hosts page (pure): shown
 * rows are replaced in place (CPU, memory, state stay live). The pages are asked again only when
 * what they show or count may change: a shown host no longer matches the filters, or a matching
 * host this browser has not got belongs in the loaded range (sorted by name, the default; under
 * a live figure such as CPU the order is the one of loading, or every report would reload).
 */
export function patchHostPages(data: HostPages | undefined, filter: HostListQuery, summaries: readonly HostSummary[]): { data: HostPages | undefined; refetch: boolean } {
  if (!data || !Array.isArray(data.pages) || !data.pages.length || !summaries.length) return { data, refetch: false };
  const fresh = new Map(summaries.map((s) => [s.name, s]));
  const shown = new Set<string>();
  let refetch = false;
  const { pages, changed } = replaceLoadedRows(data.pages, (row: HostSummary) => {
    shown.add(row.name);
    const next = fresh.get(row.name);
    if (!next || next === row) return row;
    if (!matchesHost(next, filter)) refetch = true;
    return next;
  });
  const loaded = pages.flatMap((p) => p.items);
  // A sparse table's page from the middle of the list: a host sorting before it is on an earlier page (not news here).
  const offset = pages[0]?.offset ?? 0;
  const complete = offset + loaded.length >= (pages[0]?.total ?? 0);
  const head = loaded[0];
  const last = loaded.at(-1);
  const sort = (filter.sort ?? "name") as HostSort;
  const cmp = compareHosts(sort, filter.desc ?? false);
  for (const s of summaries) {
    if (shown.has(s.name) || !matchesHost(s, filter)) continue;
    if (offset > 0 && head && cmp(s, head) < 0) continue;
    if ((complete && offset === 0) || (sort === "name" && (complete || !last || cmp(s, last) <= 0))) refetch = true;
  }
  return { data: changed ? { ...data, pages } : data, refetch };
}
