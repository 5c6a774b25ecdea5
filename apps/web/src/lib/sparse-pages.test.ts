import { describe, expect, it } from "vitest";
import { currentTotal, pageIsCurrent, pageShifted, pagesForWindow, pagesToEvict, rowAt, type SparsePage } from "./sparse-pages";

/** Pages of `size` rows numbered from 0, as the server answers them, `total` rows in all. */
const pagesOf = (total: number, size: number, count = total) => {
  const pages = new Map<number, SparsePage<number>>();
  for (let offset = 0; offset < count; offset += size) pages.set(offset / size, { offset, total, items: Array.from({ length: Math.min(size, total - offset) }, (_, i) => offset + i) });
  return pages;
};

describe("pagesForWindow: which pages a window needs", () => {
  it("the first page and the pages under the window, wherever it is: End at 20,003 rows is two pages", () => {
    expect(pagesForWindow({ start: 19_960, end: 20_002 }, 20_003, 500)).toEqual([0, 39, 40]);
    // The middle: one page, whichever row the scrollbar was dropped on.
    expect(pagesForWindow({ start: 10_010, end: 10_060 }, 20_003, 500)).toEqual([0, 20]);
    expect(pagesForWindow({ start: 0, end: 40 }, 20_003, 500)).toEqual([0]);
  });

  it("a window over a seam asks both pages; rows ahead ask the next page before it is reached", () => {
    expect(pagesForWindow({ start: 480, end: 520 }, 20_003, 500)).toEqual([0, 1]);
    expect(pagesForWindow({ start: 900, end: 950 }, 20_003, 500)).toEqual([0, 1]);
    expect(pagesForWindow({ start: 900, end: 950 }, 20_003, 500, 100)).toEqual([0, 1, 2]);
  });

  it("never past the count (a window left from a longer list, a hostile index), never below 0", () => {
    expect(pagesForWindow({ start: 19_000, end: 19_050 }, 30, 5)).toEqual([0, 5]);
    expect(pagesForWindow({ start: 1e9, end: 1e9 + 50 }, 1_000, 500)).toEqual([0, 1]);
    expect(pagesForWindow({ start: -50, end: 10 }, 1_000, 500, 100)).toEqual([0]);
    expect(pagesForWindow({ start: 0, end: 0 }, 0, 500)).toEqual([0]);
    // Before the count is known: the first page.
    expect(pagesForWindow({ start: 0, end: 0 }, undefined, 500)).toEqual([0]);
  });
});

describe("rows from sparse pages", () => {
  it("the row at an index comes from its page; an index whose page is not here is a placeholder", () => {
    const pages = pagesOf(20_003, 500);
    pages.delete(20);
    const at = (i: number) => rowAt(i, 500, (p) => pages.get(p), 20_003);
    expect(at(0)).toBe(0);
    expect(at(20_002)).toBe(20_002);
    expect(at(9_999)).toBe(9_999);
    expect(at(10_000)).toBeUndefined();
    expect(at(20_003)).toBeUndefined();
    expect(at(-1)).toBeUndefined();
  });

  it("a page fetched before the count moved is a placeholder (no repeat or gap at its seams) until fetched again", () => {
    const before = pagesOf(1_000, 100);
    // A VM created ahead of page 3: page 2 was fetched again (1,001 rows), page 3 not yet.
    const page2 = { offset: 200, total: 1_001, items: [0, ...before.get(2)!.items.slice(0, 99)] };
    const pages = new Map(before).set(2, page2);
    const total = currentTotal([
      { total: 1_000, at: 1 },
      { total: 1_001, at: 5 },
      { total: 1_000, at: 2 },
    ]);
    expect(total).toBe(1_001);
    expect(pageIsCurrent(pages.get(3), total)).toBe(false);
    expect(rowAt(299, 100, (p) => pages.get(p), total)).toBe(298);
    expect(rowAt(300, 100, (p) => pages.get(p), total)).toBeUndefined();
    expect(currentTotal([undefined, undefined])).toBeUndefined();
  });

  it("a page cached under another window (its offset is not where this size puts it) is not used", () => {
    const page = { offset: 5, total: 100, items: [5, 6, 7, 8, 9] };
    expect(rowAt(0, 5, () => page, 100)).toBeUndefined();
  });
});

describe("pagesToEvict: the cache stays bounded", () => {
  it("keeps pages in use, then the most recent, up to the cap", () => {
    const cached = Array.from({ length: 40 }, (_, k) => ({ key: k, inUse: k === 0 || k === 7, at: k }));
    const gone = pagesToEvict(cached, 12);
    expect(cached.length - gone.length).toBe(12);
    expect(gone).not.toContain(0);
    expect(gone).not.toContain(7);
    expect(gone).not.toContain(39);
    expect(gone).toContain(1);
    expect(pagesToEvict(cached.slice(0, 5), 12)).toEqual([]);
    // More pages in use than the cap: those stay, every other goes.
    expect(pagesToEvict(cached.map((c) => ({ ...c, inUse: c.key < 20 })), 12).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, k) => 20 + k));
  });
});

describe("pageShifted: a row created or deleted outside the loaded pages", () => {
  const byValue = (a: number, b: number) => a - b;
  // Rows are their own sort values: 0..999, pages of 100; page 5 holds 500..599.
  const pages = pagesOf(1_000, 100);
  const page5 = pages.get(5)!;

  it("pages from the change's position on moved (reloaded); pages wholly before it did not", () => {
    expect(pageShifted(page5, 250.5, byValue)).toBe(true); // created (or deleted) on page 2, not loaded: page 5 moved by one
    expect(pageShifted(page5, 550.5, byValue)).toBe(true); // inside it
    expect(pageShifted(page5, 599, byValue)).toBe(true); // at its last row
    expect(pageShifted(page5, 650.5, byValue)).toBe(false); // after it: page 5 keeps its rows
    expect(pageShifted(pages.get(0)!, 650.5, byValue)).toBe(false);
  });

  it("the last page (and an empty one past it) moves with any change; an unknown position moves every page", () => {
    expect(pageShifted(pages.get(9)!, 5_000, byValue)).toBe(true);
    expect(pageShifted({ offset: 1_000, total: 1_000, items: [] }, 5, byValue)).toBe(true);
    expect(pageShifted(page5, undefined, byValue)).toBe(true);
  });

  it("with the table's rule, a page reloaded after a change before it makes the other cached pages after it placeholders until fetched again (no repeat or gap at a seam)", () => {
    // Pages 5 and 6 are loaded; row 250 is deleted (page 2 is not loaded). Both shifted: page 5 is asked again first.
    expect([5, 6].map((p) => pageShifted(pages.get(p)!, 250, byValue))).toEqual([true, true]);
    const page5After = { offset: 500, total: 999, items: Array.from({ length: 100 }, (_, i) => 501 + i) };
    const cached = new Map(pages).set(5, page5After);
    const total = currentTotal([
      { total: 1_000, at: 1 },
      { total: 999, at: 9 },
      { total: 1_000, at: 2 },
    ]);
    // Row 600 (page 6's first, now on page 5) is shown once; page 6 waits as placeholders.
    expect(rowAt(599, 100, (p) => cached.get(p), total)).toBe(600);
    expect(rowAt(600, 100, (p) => cached.get(p), total)).toBeUndefined();
    expect(pageIsCurrent(cached.get(6), total)).toBe(false);
  });
});
