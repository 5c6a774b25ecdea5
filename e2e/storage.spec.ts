import { test, expect, signIn, ADMIN, mutate, query } from "./fixtures.js";

interface Capacity {
  suggestions: { datastore: string; moves: { instance: string; disk: string; to: string }[] }[];
}

test.describe("storage migration", () => {
  test.beforeEach(async ({ admin }) => {
    await mutate(admin, "lab.inject", { name: "fill-datastore", args: ["/instance", "84"] });
  });
  test.afterEach(async ({ admin }) => {
    await mutate(admin, "lab.inject", { name: "restore-datastore", args: ["/instance"] });
  });

  test("a disk moves from the capacity suggestion, with its progress, to done", async ({ page, admin }) => {
    test.setTimeout(120_000);
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto("/storage");
    // The suggestion the page shows once the pushed capacity crossed 80 %.
    const suggestion = page.getByTestId("suggestion-/instance");
    await expect(suggestion).toContainText("Move this disk to get under 80 %");
    const capacity = (await query(admin, "datastores.capacity", {})) as Capacity;
    const move = capacity.suggestions.find((s) => s.datastore === "/instance")!.moves[0]!;
    await expect(suggestion.getByTestId(`suggested-move-${move.instance}-${move.disk}`)).toContainText(move.to);

    await page.getByTestId(`move-suggested-${move.instance}-${move.disk}`).click();
    const dialog = page.getByTestId("move-disk-dialog");
    const target = dialog.getByTestId(`disk-target-${move.to}`);
    await expect(target).toHaveAttribute("data-verdict", "pass");
    await expect(target.getByRole("radio")).toBeChecked();
    await expect(target).toContainText("live block copy");
    // Fast enough for a test, still a limit (the lab copies at what it is given).
    await dialog.getByTestId("move-bandwidth").fill("2000");
    await dialog.getByTestId("move-disk-start").click();
    await expect(dialog).toHaveCount(0);

    const row = page.getByTestId(`disk-move-${move.instance}`);
    await expect(row.getByTestId("operation-headline")).toContainText(/Moving disk… copying \d+ %/);
    await expect(row.getByRole("progressbar")).toBeVisible();
    await expect(row.getByTestId("operation-outcome")).toHaveAttribute("data-state", "succeeded", { timeout: 90_000 });
    await expect(row).toContainText(`${move.disk} of ${move.instance} moved to ${move.to}`);

    // The VM now uses the copy, and its history says who moved it from where to where.
    await page.goto(`/instances/${move.instance}`);
    await expect(page.getByText(`${move.to}/${move.instance}`, { exact: false }).first()).toBeVisible();
    const history = page.getByTestId("moves-table");
    await expect(history).toContainText(`/instance → ${move.to}`);
    await expect(history).toContainText("Succeeded");
  });
});
