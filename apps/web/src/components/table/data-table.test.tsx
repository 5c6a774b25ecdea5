import { createColumnHelper } from "@tanstack/react-table";
import { describe, expect, it } from "vitest";
import { renderHtml } from "@/fixtures/render";
import { countLabel } from "@/components/ui/toolbar";
import { DataTable, VIRTUALIZE_AFTER } from "./data-table";

type Row = { name: string; n: number };
const col = createColumnHelper<Row>();
const columns = [col.accessor("name", { header: "Name" }), col.accessor("n", { header: "N" })];
const rows = (count: number) => Array.from({ length: count }, (_, i) => ({ name: `vm-${String(i).padStart(5, "0")}`, n: i }));
const table = (data: Row[], manualSorting = false) =>
  renderHtml(
    <DataTable data={data} columns={columns} getRowId={(r) => r.name} rowTestId={(r) => `row-${r.name}`} emptyTitle="None" sorting={[{ id: "n", desc: true }]} onSortingChange={() => undefined} manualSorting={manualSorting} />,
  );
const rendered = (html: string) => [...html.matchAll(/data-testid="row-(vm-\d+)"/g)].map((m) => m[1]);

describe("DataTable at fleet size", () => {
  it("renders every row of a small list", () => {
    expect(rendered(table(rows(VIRTUALIZE_AFTER)))).toHaveLength(VIRTUALIZE_AFTER);
  });

  it("puts only a window of 20,000 rows in the DOM, with the rest as space to scroll", () => {
    const html = table(rows(20_000), true);
    const shown = rendered(html);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(100);
    // Server order kept (manual sorting): the first rows as given.
    expect(shown[0]).toBe("vm-00000");
    const spacer = Number(html.match(/<tbody aria-hidden="true"><tr style="height:(\d+)px"/)?.[1]);
    expect(spacer).toBeGreaterThan(19_000 * 30);
  });

  it("sorts in the browser unless the rows come sorted", () => {
    expect(rendered(table(rows(3)))).toEqual(["vm-00002", "vm-00001", "vm-00000"]);
    expect(rendered(table(rows(3), true))).toEqual(["vm-00000", "vm-00001", "vm-00002"]);
  });
});

describe("DataTable over sparse pages", () => {
  const sparseTable = (total: number, loaded: (i: number) => boolean) =>
    renderHtml(
      <DataTable
        data={undefined}
        sparse={{ total, rowAt: (i) => (loaded(i) ? rows(total)[i] : undefined), onWindowChange: () => undefined }}
        columns={columns}
        getRowId={(r) => r.name}
        rowTestId={(r) => `row-${r.name}`}
        emptyTitle="None"
        sorting={[]}
        onSortingChange={() => undefined}
        manualSorting
      />,
    );
  const placeholders = (html: string) => [...html.matchAll(/data-testid="row-placeholder" data-row-index="(\d+)"/g)].map((m) => Number(m[1]));

  it("is sized to the count from the start; rows not loaded are placeholders in their place", () => {
    const html = sparseTable(20_000, (i) => i < 10);
    expect(rendered(html)).toEqual(rows(10).map((r) => r.name));
    const holes = placeholders(html);
    expect(holes.length).toBeGreaterThan(0);
    expect(holes[0]).toBe(10);
    expect(holes.length + 10).toBeLessThan(100);
    const spacer = Number(html.match(/<tbody aria-hidden="true"><tr style="height:(\d+)px"/)?.[1]);
    expect(spacer).toBeGreaterThan(19_000 * 30);
  });

  it("a short list draws every position, loaded or not, and none when the count is 0", () => {
    const html = sparseTable(12, (i) => i % 2 === 0);
    expect(rendered(html)).toEqual(rows(12).filter((r) => r.n % 2 === 0).map((r) => r.name));
    expect(placeholders(html)).toEqual([1, 3, 5, 7, 9, 11]);
    const empty = sparseTable(0, () => true);
    expect(rendered(empty)).toEqual([]);
    expect(empty).toContain("None");
  });
});

describe("count line", () => {
  it("groups thousands", () => {
    expect(countLabel(12, 20_003, "instances")).toBe("12 of 20,003 instances");
    expect(countLabel(20_003, 20_003, "instances")).toBe("20,003 instances");
    expect(countLabel(1, 1, "hosts")).toBe("1 host");
  });
});
