import { QueryClient } from "@tanstack/react-query";
import { createTRPCClient } from "@trpc/client";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import type { AppRouter } from "@nimbus/api";
import { compareInstances, type InstancePage, type InstanceView } from "@nimbus/domain";
import { describe, expect, it } from "vitest";
import { instances } from "@/fixtures/views";
import { applyLiveEvent } from "@/lib/queries";
import { patchInstancePage, patchInstancePages, type InstancePages } from "./instance-pages-patch";

/** Pages as the server sends them: sorted by name, `total` rows match, the first `loaded` are here. */
function pagesOf(rows: InstanceView[], loaded: number, size = 2): InstancePages {
  const sorted = [...rows].sort(compareInstances("name", false));
  const pages: InstancePage[] = [];
  for (let offset = 0; offset < loaded; offset += size)
    pages.push({ items: sorted.slice(offset, Math.min(offset + size, loaded)), total: sorted.length, all: sorted.length, offset, limit: size, tenants: [], hosts: null });
  return { pages, pageParams: pages.map((p) => p.offset) };
}
const hostOf = (name: string) => instances.find((i) => i.name === name)!.host;
const rowsOfHost = (host: string) => instances.filter((i) => i.host === host);

describe("patchInstancePages: one host's push against the loaded pages", () => {
  const shown = [...instances].sort(compareInstances("name", false))[0]!;
  const host = shown.host;

  it("replaces a shown row in place, keeps the others by identity, no refetch", () => {
    const data = pagesOf(instances, 4);
    const event = rowsOfHost(host).map((i) => (i.name === shown.name ? { ...i, vcpus: i.vcpus + 7 } : i));
    const { data: next, refetch } = patchInstancePages(data, { sort: "name" }, host, event);
    expect(refetch).toBe(false);
    const rows = next!.pages.flatMap((p) => p.items);
    expect(rows.find((i) => i.name === shown.name)!.vcpus).toBe(shown.vcpus + 7);
    expect(rows).toHaveLength(4);
    // Pages without a row of this host are the same objects (nothing re-renders there).
    for (const [i, page] of next!.pages.entries()) if (!page.items.some((r) => r.host === host)) expect(page).toBe(data.pages[i]);
  });

  it("an unchanged push changes nothing", () => {
    const data = pagesOf(instances, 4);
    const result = patchInstancePages(data, {}, host, rowsOfHost(host));
    expect(result).toEqual({ data, refetch: false });
  });

  it("a shown row that left its host, or stops matching the filter, reloads the pages", () => {
    const data = pagesOf(instances, 4);
    expect(patchInstancePages(data, {}, host, rowsOfHost(host).filter((i) => i.name !== shown.name)).refetch).toBe(true);
    const running = instances.filter((i) => i.state === "running");
    const target = [...running].sort(compareInstances("name", false))[0]!;
    const stopped = rowsOfHost(target.host).map((i) => (i.name === target.name ? { ...i, state: "shutoff" as const } : i));
    expect(patchInstancePages(pagesOf(running, Math.min(4, running.length)), { state: "running" }, target.host, stopped).refetch).toBe(true);
  });

  it("a new matching VM that sorts into the loaded range reloads; one past it waits for its page", () => {
    const data = pagesOf(instances, 4);
    const early = { ...shown, name: "0-first-of-all", uuid: "u-new" };
    expect(patchInstancePages(data, {}, host, [...rowsOfHost(host), early]).refetch).toBe(true);
    const late = { ...shown, name: "zzzz-last-of-all", uuid: "u-new2" };
    expect(patchInstancePages(data, {}, host, [...rowsOfHost(host), late]).refetch).toBe(instances.length <= 4);
    // Everything loaded: any new matching VM changes the count.
    expect(patchInstancePages(pagesOf(instances, instances.length), {}, host, [...rowsOfHost(host), late]).refetch).toBe(true);
    // A new VM the filter excludes changes nothing shown or counted.
    const acme = instances.filter((i) => i.tenant === "acme");
    const acmeHost = acme[0]!.host;
    const otherTenant = { ...early, host: acmeHost, tenant: "globex" };
    expect(patchInstancePages(pagesOf(acme, Math.min(2, acme.length)), { tenant: "acme" }, acmeHost, [...rowsOfHost(acmeHost), otherTenant]).refetch).toBe(false);
  });

  it("a shown row whose sorted-by value changed reloads (its position may move); other columns do not", () => {
    const data = pagesOf(instances, 4);
    const bigger = rowsOfHost(host).map((i) => (i.name === shown.name ? { ...i, memoryMiB: i.memoryMiB + 1 } : i));
    // Sorted by memory: the row may now belong elsewhere.
    expect(patchInstancePages(data, { sort: "memoryMiB" }, host, bigger).refetch).toBe(true);
    // Sorted by name: memory is only a cell to patch.
    expect(patchInstancePages(data, { sort: "name" }, host, bigger).refetch).toBe(false);
  });

  it("a shown VM that stops or starts on its host (sorted by name, no filter) is patched in place: no reload of the loaded pages", () => {
    // The change-to-browser case of issue 16 (bench/instances-latency.ts): a reload of every loaded
    // page (1,000 rows at fleet size) before the row shows its state would be the slow tail.
    const data = pagesOf(instances, instances.length);
    const flipped = rowsOfHost(host).map((i) => (i.name === shown.name ? { ...i, state: i.state === "running" ? ("shutoff" as const) : ("running" as const) } : i));
    for (const filter of [{}, { sort: "name" as const }, { sort: "name" as const, desc: true }, { sort: "memoryMiB" as const }]) {
      const { data: next, refetch } = patchInstancePages(data, filter, host, flipped);
      expect(refetch).toBe(false);
      expect(next!.pages.flatMap((p) => p.items).find((i) => i.name === shown.name)!.state).toBe(flipped.find((i) => i.name === shown.name)!.state);
    }
    // Sorted or filtered by state, the same change may move or drop the row: the pages are asked again.
    expect(patchInstancePages(data, { sort: "state" }, host, flipped).refetch).toBe(true);
    expect(patchInstancePages(data, { state: shown.state }, host, flipped).refetch).toBe(true);
  });

  it("the live channel patches the Instances page's infinite query under its own key", () => {
    const qc = new QueryClient();
    const trpc = createTRPCOptionsProxy<AppRouter>({ client: createTRPCClient<AppRouter>({ links: [] }), queryClient: qc });
    const input = { q: "", state: "", host: "", tenant: "", sort: "name" as const, desc: false, limit: 200 };
    // The key tRPC gives an infinite query (the paged inputs have no cursor any more, so the
    // proxy's infiniteQueryKey is not typed for them): the path and the input, type "infinite".
    const key = [...trpc.instances.page.pathKey(), { input, type: "infinite" }] as unknown as ReturnType<typeof trpc.instances.page.queryKey>;
    qc.setQueryData(key, pagesOf(instances, instances.length) as never);
    applyLiveEvent(qc, trpc, { type: "host-instances", host: hostOf(shown.name), instances: rowsOfHost(host).map((i) => (i.name === shown.name ? { ...i, memoryMiB: 99_999 } : i)) });
    const after = qc.getQueryData(key) as unknown as InstancePages;
    expect(after.pages.flatMap((p) => p.items).find((i) => i.name === shown.name)!.memoryMiB).toBe(99_999);
  });
});

describe("patchInstancePage: one host's push against one page of the sparse table", () => {
  const sorted = [...instances].sort(compareInstances("name", false));
  /** The page of `size` rows at `offset`, as the server answers it. */
  const pageAt = (offset: number, size = 2): InstancePage => ({ items: sorted.slice(offset, offset + size), total: sorted.length, all: sorted.length, offset, limit: size, tenants: [], hosts: null });

  it("a shown row is replaced in place; an unchanged push is nothing", () => {
    const page = pageAt(2);
    const row = page.items[0]!;
    const event = rowsOfHost(row.host).map((i) => (i.name === row.name ? { ...i, memoryMiB: 77_777 } : i));
    const { data, refetch } = patchInstancePage(page, {}, row.host, event);
    expect(refetch).toBe(false);
    expect(data!.items[0]!.memoryMiB).toBe(77_777);
    expect(data!.offset).toBe(2);
    expect(patchInstancePage(page, {}, row.host, rowsOfHost(row.host))).toEqual({ data: page, refetch: false });
  });

  it("a new VM inside a middle page's range reloads it; one before it is the earlier page's; one after it waits (unless it is the last page)", () => {
    expect(sorted.length).toBeGreaterThan(6);
    const page = pageAt(2);
    const host = page.items[0]!.host;
    const inside = { ...page.items[0]!, name: `${page.items[0]!.name}-0`, uuid: "u-inside" };
    expect(patchInstancePage(page, {}, host, [...rowsOfHost(host), inside]).refetch).toBe(true);
    const ahead = { ...page.items[0]!, name: "0-ahead-of-all", uuid: "u-ahead" };
    expect(patchInstancePage(page, {}, host, [...rowsOfHost(host), ahead]).refetch).toBe(false);
    expect(patchInstancePage(pageAt(0), {}, host, [...rowsOfHost(host), ahead]).refetch).toBe(true);
    const behind = { ...page.items[0]!, name: "zzzz-after-all", uuid: "u-behind" };
    expect(patchInstancePage(page, {}, host, [...rowsOfHost(host), behind]).refetch).toBe(false);
    const last = pageAt(sorted.length - 2);
    expect(patchInstancePage(last, {}, host, [...rowsOfHost(host), behind]).refetch).toBe(true);
  });

  it("a VM created or deleted before a middle page (not loaded here) reloads it: its rows moved by one (issue 16: no repeat or gap at its seams)", () => {
    const page = pageAt(4);
    const host = page.items[0]!.host;
    const ahead = { ...page.items[0]!, name: "0-ahead-of-all", uuid: "u-ahead" };
    // Already in the list (the host reports it again): not news for this page.
    expect(patchInstancePage(page, {}, host, [...rowsOfHost(host), ahead]).refetch).toBe(false);
    // The server says it arrived: every page from its position on shifted.
    expect(patchInstancePage(page, {}, host, [...rowsOfHost(host), ahead], { added: ["0-ahead-of-all"] }).refetch).toBe(true);
    // Arrived after this page (not its last): nothing here moved.
    const behind = { ...page.items[0]!, name: "zzzz-after-all", uuid: "u-behind" };
    expect(patchInstancePage(page, {}, host, [...rowsOfHost(host), behind], { added: ["zzzz-after-all"] }).refetch).toBe(false);
    // Arrived but outside the filter: nothing moved. (A middle page of one host's rows, filtered to that host.)
    const h1 = sorted[0]!.host;
    const h2 = sorted.find((i) => i.host !== h1)!.host;
    const ofH1 = { ...page, items: sorted.filter((i) => i.host === h1).slice(0, 2), total: 50 };
    expect(patchInstancePage(ofH1, { host: h1 }, h2, [...rowsOfHost(h2), { ...ahead, host: h2 }], { added: ["0-ahead-of-all"] }).refetch).toBe(false);
    expect(patchInstancePage(ofH1, { host: h1 }, h1, [...rowsOfHost(h1), { ...ahead, host: h1 }], { added: ["0-ahead-of-all"] }).refetch).toBe(true);
    // A row leaving another host was not in a list filtered to this one.
    expect(patchInstancePage(ofH1, { host: h1, sort: "memoryMiB" }, h2, rowsOfHost(h2), { removed: ["0-gone"] }).refetch).toBe(false);
    expect(patchInstancePage(ofH1, { host: h1, sort: "memoryMiB" }, h1, rowsOfHost(h1), { removed: ["0-gone"] }).refetch).toBe(true);
    // Deleted on an earlier page (by name, its place is known), or after this one.
    const earlier = sorted[0]!;
    expect(patchInstancePage(page, {}, earlier.host, rowsOfHost(earlier.host).filter((i) => i.name !== earlier.name), { removed: [earlier.name] }).refetch).toBe(true);
    expect(patchInstancePage(page, {}, host, rowsOfHost(host), { removed: ["zzzz-gone"] }).refetch).toBe(false);
    // Sorted by something else, a row that left could have been anywhere: reloaded.
    expect(patchInstancePage(page, { sort: "memoryMiB" }, host, rowsOfHost(host), { removed: ["zzzz-gone"] }).refetch).toBe(true);
  });

  it("a VM changing state before a middle page moves it only under a filter or order by state", () => {
    const page = pageAt(4);
    const earlier = sorted[0]!;
    const host = earlier.host;
    const stopped = rowsOfHost(host).map((i) => (i.name === earlier.name ? { ...i, state: "shutoff" as const } : i));
    const delta = { restated: [earlier.name] };
    // Unfiltered, by name: its place is the same, nothing moved.
    expect(patchInstancePage(page, {}, host, stopped, delta).refetch).toBe(false);
    // Ordered by state: it may have moved from or to anywhere.
    expect(patchInstancePage(page, { sort: "state" }, host, stopped, delta).refetch).toBe(true);
    // Filtered by state (a middle page of one host's running rows): it entered or left the filter before this page.
    const h1Running = sorted.filter((i) => i.host === host && i.state === "running" && i.name !== earlier.name);
    expect(h1Running.length).toBeGreaterThan(0);
    const filter = { state: "running", host };
    const middle = { ...page, items: h1Running.slice(0, 2), total: 50 };
    expect(patchInstancePage(middle, filter, host, stopped, delta).refetch).toBe(true);
    // Without the server's word that it changed, a row of an earlier page is not news.
    expect(patchInstancePage(middle, filter, host, stopped).refetch).toBe(false);
    // A list filtered to another host never had it.
    expect(patchInstancePage({ ...middle, items: sorted.filter((i) => i.host !== host).slice(0, 2) }, { state: "running", host: "elsewhere" }, host, stopped, delta).refetch).toBe(false);
  });

  it("a deleted row of the page reloads it (the count moves; the table then fetches its other pages)", () => {
    const page = pageAt(2);
    const row = page.items[1]!;
    expect(patchInstancePage(page, {}, row.host, rowsOfHost(row.host).filter((i) => i.name !== row.name)).refetch).toBe(true);
  });

  it("hostile or empty cache entries change nothing; an empty page past the end waits for a matching row", () => {
    expect(patchInstancePage(undefined, {}, "kvm1", instances)).toEqual({ data: undefined, refetch: false });
    expect(patchInstancePage({ items: "x" } as never, {}, "kvm1", instances).refetch).toBe(false);
    const empty = { ...pageAt(sorted.length), items: [] };
    expect(patchInstancePage(empty, { tenant: "no-such" }, "kvm1", rowsOfHost(sorted[0]!.host)).refetch).toBe(false);
    expect(patchInstancePage(empty, {}, sorted[0]!.host, rowsOfHost(sorted[0]!.host)).refetch).toBe(true);
  });

  it("the live channel patches the sparse table's page queries under their own keys", () => {
    const qc = new QueryClient();
    const trpc = createTRPCOptionsProxy<AppRouter>({ client: createTRPCClient<AppRouter>({ links: [] }), queryClient: qc });
    const page = pageAt(2);
    const row = page.items[0]!;
    const key = trpc.instances.page.queryKey({ q: "", state: "", host: "", tenant: "", sort: "name", desc: false, offset: 2, limit: 2 });
    qc.setQueryData(key, page as never);
    applyLiveEvent(qc, trpc, { type: "host-instances", host: row.host, instances: rowsOfHost(row.host).map((i) => (i.name === row.name ? { ...i, memoryMiB: 55_555 } : i)) });
    const after = qc.getQueryData(key) as unknown as InstancePage;
    expect(after.items[0]!.memoryMiB).toBe(55_555);
    expect(after.offset).toBe(2);
  });
});
