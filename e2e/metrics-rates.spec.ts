import type { APIRequestContext, Locator, Page } from "@playwright/test";
import { test, expect, query, seedUser, signIn, ADMIN } from "./fixtures.js";
import { DESKTOP, panelShots } from "./panel-shots.js";

/**
 * Rates charted from the agents' counters (stats.counters) against the embedded lab: kvm1's
 * network in and out beside its CPU, memory and disk; an instance's CPU, memory in use, network
 * and disk I/O, for staff and for its tenant (whose page names no host). Screenshots light and
 * dark, desktop and phone: docs/screenshots/charts-host-rates-*.png, charts-instance-*.png.
 */
const range = () => ({ from: Date.now() - 3_600_000, to: Date.now() + 60_000 });
const shots = (page: Page, panel: Locator, name: string) => panelShots(page, panel, name);

/** Waits until the server holds a few rated samples of the series (a rate needs two pushes, a line a few samples). */
async function rated(admin: APIRequestContext, kind: string, name: string, metric: string) {
  await expect
    .poll(async () => ((await query(admin, "metrics.series", { kind, name, metric, range: range() })) as { points: { avg: number | null }[] }).points.filter((p) => p.avg !== null).length, {
      timeout: 60_000,
    })
    .toBeGreaterThanOrEqual(3);
}

/** Refresh until the chart is drawn (the page asks once; the recorder samples every 10 s). */
async function drawn(panel: Locator, metric: string) {
  const chart = panel.getByTestId(`metric-chart-${metric}`);
  await expect(async () => {
    await panel.getByRole("button", { name: "Refresh charts" }).click();
    await expect(chart).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  return chart;
}

/** Drags across the last tenth of a chart (where a young lab's samples are): the panel charts that window again. */
async function zoomToEnd(page: Page, panel: Locator, chart: Locator) {
  const box = (await chart.locator(".u-over").boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.88, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.999, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  // Away from the plot, so no cursor is drawn on it; then every chart shows the zoomed window's answer.
  await page.mouse.move(0, 0);
  await expect(panel.getByTestId("zoomed-range")).toBeVisible();
  await expect(panel.locator("[data-stale]")).toHaveCount(0);
}

const RATE = /now \d+(\.\d+)? (B|KiB|MiB|GiB)\/s/;

test("kvm1's page charts its network in and out from its counters, beside CPU, memory and disk", async ({ page, admin }) => {
  await rated(admin, "host", "kvm1", "netRx");
  await page.setViewportSize(DESKTOP);
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/hosts/kvm1");
  const panel = page.locator("#metrics-host");
  await zoomToEnd(page, panel, await drawn(panel, "netRx"));
  for (const m of ["netRx", "netTx"]) {
    await expect(panel.getByTestId(`metric-chart-${m}`).getByTestId("metric-summary")).toContainText(RATE);
    await expect(panel.getByTestId(`metric-chart-${m}`).locator("canvas")).toBeVisible();
  }
  await expect(panel.getByTestId("metric-chart-netRx")).toContainText("Network in");
  await expect(panel.getByTestId("metric-chart-cpu").getByTestId("metric-summary")).toContainText(/now \d+(\.\d)? %/);
  await shots(page, panel, "charts-host-rates");
});

test("an instance's page charts its CPU, memory in use, network and disk I/O; its tenant sees the same charts and no host", async ({ page, admin }) => {
  for (const m of ["cpu", "netRx", "diskWrite"]) await rated(admin, "instance", "acme-web1", m);
  const tenant = await seedUser(admin, "tenant", "acme");
  await page.setViewportSize(DESKTOP);
  await signIn(page, tenant.email, tenant.password);
  await page.goto("/instances/acme-web1");
  const panel = page.locator("#metrics-instance");
  await zoomToEnd(page, panel, await drawn(panel, "cpu"));
  await expect(panel.getByTestId("metric-chart-cpu").getByTestId("metric-summary")).toContainText(/now \d+(\.\d)? %/);
  await expect(panel.getByTestId("metric-chart-memoryUsed").getByTestId("metric-summary")).toContainText(/now \d+(\.\d)? (MiB|GiB)/);
  for (const m of ["netRx", "netTx", "diskRead", "diskWrite"]) await expect(panel.getByTestId(`metric-chart-${m}`).getByTestId("metric-summary")).toContainText(RATE);
  // What the tenant's charts say names no hypervisor.
  await expect(panel).not.toContainText(/kvm\d/);
  await shots(page, panel, "charts-instance");
});
