import { moveRecord, queryHealth, queryOperations, type HealthCheck, type MoveRecord, type Operation, type OperationPage, type Page } from "@nimbus/domain";
import { describe, expect, it } from "vitest";
import { healthChecks, operations } from "@/fixtures/views";
import { patchHealthPages, patchMovePages, patchOperationPages, type LoadedPages } from "./list-pages-patch";

/** Loaded pages as the server sends them: `size` per page, the first `loaded` rows here. */
function loaded<P extends { items: unknown[]; offset: number }>(page: (offset: number, limit: number) => P, loadedRows: number, size = 2): LoadedPages<P> {
  const pages: P[] = [];
  for (let offset = 0; offset < loadedRows; offset += size) pages.push(page(offset, Math.min(size, loadedRows - offset)));
  return { pages, pageParams: pages.map((p) => p.offset) };
}
const opPages = (ops: Operation[], n: number, input = {}) => loaded((offset, limit) => queryOperations(ops, { ...input, offset, limit }, { tenant: null }), n);
const later = (op: Operation, over: Partial<Operation>): Operation => ({ ...op, updatedAt: new Date(Date.parse(op.updatedAt) + 1_000).toISOString(), ...over });

describe("patchOperationPages: one pushed operation against the Operations page's loaded pages", () => {
  const newest = queryOperations(operations, {}, { tenant: null }).items[0]!;

  it("a shown operation's progress is patched in place, the other pages keep their identity, no reload", () => {
    const data = opPages(operations, 4);
    const { data: next, refetch } = patchOperationPages(data, {}, later(newest, { summary: "still going" }));
    expect(refetch).toBe(false);
    expect(next!.pages[0]!.items[0]!.summary).toBe("still going");
    expect(next!.pages[1]).toBe(data.pages[1]);
  });

  it("an operation that ends under a 'running' filter leaves it: the pages are asked again", () => {
    const running = operations.filter((o) => o.state === "running" || o.state === "pending");
    const data = opPages(running, running.length, { state: "active" });
    const shown = data.pages[0]!.items[0]!;
    expect(patchOperationPages(data, { state: "active" }, later(shown, { state: "succeeded", finishedAt: shown.updatedAt })).refetch).toBe(true);
  });

  it("a new operation sorting first reloads; one the filter excludes changes nothing", () => {
    const data = opPages(operations, 2);
    const fresh = { ...newest, id: "op-new", createdAt: "2099-01-01T00:00:00.000Z", updatedAt: "2099-01-01T00:00:00.000Z" };
    expect(patchOperationPages(data, {}, fresh).refetch).toBe(true);
    expect(patchOperationPages(opPages(operations, 2, { kind: "scale" }), { kind: "scale" }, { ...fresh, kind: "migrate" })).toEqual({ data: opPages(operations, 2, { kind: "scale" }), refetch: false });
    // Sorted oldest first with pages still to load: a brand-new one belongs to a later page.
    const oldestFirst = opPages(operations, 2, { desc: false });
    expect(patchOperationPages(oldestFirst, { desc: false }, fresh).refetch).toBe(false);
  });

  it("one page from the middle of a sparse table: an existing operation of an earlier page changing is not news; a new one before it moved every row", () => {
    const all = queryOperations(operations, {}, { tenant: null }).items;
    expect(all.length).toBeGreaterThan(3);
    const middle: LoadedPages<OperationPage> = { pages: [queryOperations(operations, { offset: 1, limit: 2 }, { tenant: null })], pageParams: [1] };
    expect(patchOperationPages(middle, {}, later(all[0]!, { summary: "progress" })).refetch).toBe(false);
    const created = { ...all[0]!, id: "op-created", state: "pending" as const, createdAt: "2099-01-01T00:00:00.000Z", updatedAt: "2099-01-01T00:00:00.000Z" };
    expect(patchOperationPages(middle, {}, created).refetch).toBe(true);
  });

  it("an input it cannot read (a hand-edited cache key) changes nothing", () => {
    const data = opPages(operations, 2);
    expect(patchOperationPages(data, { limit: 10_000 }, newest)).toEqual({ data, refetch: false });
  });
});

describe("patchMovePages", () => {
  it("a running migration's row is rebuilt with the domain's rule; one that is not a move is ignored", () => {
    const moves = operations.filter((o) => o.kind === "migrate");
    const now = "2030-01-01T00:00:00.000Z";
    const page = queryOperations(moves, {}, { tenant: null });
    const data: LoadedPages<Page<MoveRecord>> = { pages: [{ ...page, items: page.items.map((o) => moveRecord(o, now)!) }], pageParams: [0] };
    const shown = page.items[0]!;
    const next = patchMovePages(data, {}, later(shown, { error: "cut short" }), now);
    expect(next.refetch).toBe(false);
    expect(next.data!.pages[0]!.items[0]!.error).toBe("cut short");
    expect(patchMovePages(data, {}, operations.find((o) => o.kind === "scale")!, now)).toEqual({ data, refetch: false });
    // Filtered to failed moves: one shown that now succeeded leaves the page.
    expect(patchMovePages(data, { result: "failed" }, later(shown, { state: "succeeded" }), now).refetch).toBe(true);
  });
});

describe("patchHealthPages", () => {
  const pages = (checks: HealthCheck[]) => loaded((offset, limit) => queryHealth(checks, { offset, limit }), checks.length);

  it("a shown check's new message is patched in place; a state change or a check elsewhere reloads (the counts move)", () => {
    const data = pages(healthChecks);
    const shown = data.pages[0]!.items[0]!;
    const worded = patchHealthPages(data, {}, [{ ...shown, message: "new words" }], []);
    expect(worded.refetch).toBe(false);
    expect(worded.data!.pages[0]!.items[0]!.message).toBe("new words");
    expect(patchHealthPages(data, {}, [{ ...shown, state: "ok" }], []).refetch).toBe(true);
    expect(patchHealthPages(data, {}, [{ ...shown, id: "host:elsewhere" }], []).refetch).toBe(true);
    expect(patchHealthPages(data, {}, [], [shown.id]).refetch).toBe(true);
    expect(patchHealthPages(data, {}, [], [])).toEqual({ data, refetch: false });
  });
});
