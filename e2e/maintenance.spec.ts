import { test, expect, signIn, ADMIN, mutate, query } from "./fixtures.js";

interface Plan {
  moves: { instance: string; destination: string }[];
  drains: { node: string }[];
}

test.describe("host maintenance", () => {
  // Whatever happened, kvm1 goes back to placement for the specs that follow.
  test.afterEach(async ({ admin }) => {
    await mutate(admin, "maintenance.exit", { host: "kvm1" }).catch(() => undefined);
  });

  test("a dry run first, then the evacuation VM by VM; the host ends empty and in maintenance, then exits", async ({ page, admin }) => {
    test.setTimeout(180_000);
    const plan = (await query(admin, "maintenance.plan", { host: "kvm1" })) as Plan;
    expect(plan.moves.length).toBeGreaterThan(0);

    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto("/hosts/kvm1");
    await page.getByTestId("maintenance-enter").click();
    const dialog = page.getByTestId("maintenance-dialog");
    await expect(dialog.getByTestId("maintenance-plan")).toBeVisible();
    await expect(dialog.getByTestId("maintenance-plan-summary")).toContainText("Headroom policy");
    for (const move of plan.moves) {
      const line = dialog.getByTestId(`plan-move-${move.instance}`);
      await expect(line.getByTestId("plan-destination")).toHaveText(move.destination);
      await expect(line).toContainText(`Why ${move.destination}:`);
    }
    for (const drain of plan.drains) await expect(dialog.getByTestId("maintenance-drains-plan")).toContainText(`Worker ${drain.node} is drained before its VM moves`);
    // A dry run moves nothing and flags nothing.
    const before = (await query(admin, "maintenance.list", {})) as { host: string; flag: boolean }[];
    expect(before.find((v) => v.host === "kvm1")?.flag).toBe(false);

    await dialog.getByTestId("maintenance-execute").click();
    const live = dialog.getByTestId("maintenance-live");
    await expect(live.getByTestId("maintenance-items")).toBeVisible();
    for (const move of plan.moves) await expect(live.getByTestId(`maintenance-item-${move.instance}`)).toBeVisible();
    // Each VM's own migration shows while it runs, then the VM is marked moved.
    await expect(live.locator('[data-testid^="maintenance-item-"][data-state="migrating"]').first()).toBeVisible();
    await expect(live.getByTestId("operation-outcome")).toHaveAttribute("data-state", "succeeded", { timeout: 150_000 });
    for (const move of plan.moves) await expect(live.getByTestId(`maintenance-item-${move.instance}`)).toHaveAttribute("data-state", "succeeded");
    await dialog.getByTestId("maintenance-close").click();

    await expect(page.getByTestId("maintenance-state")).toHaveAttribute("data-state", "in-maintenance");
    await expect(page.getByTestId("maintenance-message")).toContainText("kvm1 is in maintenance and empty");
    await expect(page.getByRole("heading", { name: /^Virtual machines \(0 running/ })).toBeVisible();

    await page.goto("/hosts");
    await expect(page.getByTestId("host-maintenance-kvm1")).toHaveAttribute("data-state", "in-maintenance");

    await page.goto("/hosts/kvm1");
    await page.getByTestId("maintenance-exit").click();
    await expect(page.getByTestId("maintenance-enter")).toBeVisible();
    await expect(page.getByTestId("maintenance-state")).toHaveCount(0);
  });
});
