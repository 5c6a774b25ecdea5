import type { Locator, Page } from "@playwright/test";
import { test, expect, mutate, query, signIn, ADMIN } from "./fixtures.js";
import { DESKTOP, panelShots } from "./panel-shots.js";

/**
 * Metric charts and the health timeline in a browser against the embedded lab: the host page
 * charts kvm1's samples (taken from its pushed inventory) and zooms by dragging; a VIP failover
 * made in the lab shows on the health page's timeline with its cause and duration, next to a
 * migration. Screenshots light and dark, desktop and phone: docs/screenshots/charts-*.png and
 * history-*.png.
 */
const shots = (page: Page, panel: Locator, name: string) => panelShots(page, panel, name, "[data-testid=timeline], canvas, [data-testid=timeline-empty]");

test("the host page charts kvm1's CPU, memory and disk from the pushed inventory, and a drag zooms in", async ({ page, admin }) => {
  // A few samples (one every 10 s), so the chart draws a line rather than a point.
  const range = () => ({ from: Date.now() - 3_600_000, to: Date.now() + 60_000 });
  await expect
    .poll(async () => ((await query(admin, "metrics.series", { kind: "host", name: "kvm1", metric: "cpu", range: range() })) as { points: unknown[] }).points.length, { timeout: 60_000 })
    .toBeGreaterThanOrEqual(4);
  await page.setViewportSize(DESKTOP);
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/hosts/kvm1");
  const panel = page.locator("#metrics-host");
  await expect(panel).toBeVisible();
  // The recorder samples every 10 s once the fleet answered; Refresh asks again (nothing polls).
  const cpu = panel.getByTestId("metric-chart-cpu");
  await expect(async () => {
    await panel.getByRole("button", { name: "Refresh charts" }).click();
    await expect(cpu).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 45_000 });
  for (const m of ["cpu", "memory", "disk"]) await expect(panel.getByTestId(`metric-chart-${m}`).getByTestId("metric-summary")).toContainText(/now \d+(\.\d)? %/);
  await expect(panel.getByTestId("metric-chart-memory").locator("canvas")).toBeVisible();

  // Drag across the last tenth of the CPU chart (where this young lab's samples are): the panel
  // shows the zoomed window, charted again from the server, and the 1 h preset is off.
  const plot = cpu.locator(".u-over");
  const box = (await plot.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.88, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.999, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  await expect(panel.getByTestId("zoomed-range")).toBeVisible();
  await expect(panel.getByRole("button", { name: "1 h" })).toHaveAttribute("aria-pressed", "false");
  await expect(cpu.getByTestId("metric-summary")).toContainText(/now \d+(\.\d)? %/);
  await shots(page, panel, "charts");
  await panel.getByRole("button", { name: "1 h" }).click();
  await expect(panel.getByTestId("zoomed-range")).toHaveCount(0);
  await expect(cpu).toBeVisible();
});

test("a VIP failover shows on the health timeline with its cause and duration, after a migration", async ({ page, admin }) => {
  // A migration first, then the NFS primary's daemon dies and the VIP moves to the backup.
  const vm = (await query(admin, "instances.get", { name: "acme-web2" })) as { instance: { host: string } };
  const op = (await mutate(admin, "instances.migrate", { instance: "acme-web2", destination: vm.instance.host === "kvm1" ? "kvm2" : "kvm1", options: {} })) as { id: string };
  await expect.poll(async () => ((await query(admin, "operations.get", { id: op.id })) as { state: string }).state, { timeout: 60_000 }).toMatch(/succeeded|failed/);
  await mutate(admin, "lab.inject", { name: "fail-nfs-primary", args: [] });
  try {
    const range = () => ({ from: Date.now() - 3_600_000, to: Date.now() + 60_000 });
    await expect
      .poll(async () => ((await query(admin, "history.timeline", { subject: { kind: "fleet" }, range: range() })) as { failovers: { heldAt: string | null }[] }).failovers.some((f) => f.heldAt), { timeout: 60_000 })
      .toBe(true);

    await page.setViewportSize(DESKTOP);
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto("/health");
    const panel = page.locator("#timeline");
    const events = panel.getByTestId("timeline-events");
    await expect(events).toBeVisible();
    const failover = events.locator("li[data-kind=failover]").first();
    await expect(failover).toContainText(/VIP \S+ moved from nfs1 to nfs2/);
    await expect(failover).toContainText("the NFS server stopped on nfs1");
    await expect(failover).toContainText(/without a holder for \d+|taken over at once/);
    const migration = events.locator("li[data-kind=operation]").filter({ hasText: "acme-web2" }).first();
    await expect(migration).toBeVisible();
    await expect(migration.getByRole("link")).toHaveAttribute("href", `/operations/${op.id}`);
    // The holder lane and the failing storage check are on the same time axis.
    await expect(panel.locator("[data-testid^='timeline-lane-vip:']")).toBeVisible();
    await expect(panel.locator("[data-testid^='timeline-lane-vip:'] [data-state=crit], [data-testid^='timeline-lane-vip:'] [data-state=ok]").first()).toBeVisible();
    await shots(page, panel, "history");

    // The same failover is on the datastore's side too: kvm1's host page has its own timeline.
    await page.goto("/hosts/kvm1");
    await expect(page.locator("#timeline")).toBeVisible();
  } finally {
    await mutate(admin, "lab.inject", { name: "restore-nfs-primary", args: [] });
  }
});
