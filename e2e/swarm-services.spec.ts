import type { Page } from "@playwright/test";
import { test, expect, signIn, mutate, ADMIN } from "./fixtures.js";

/**
 * A service's own page: its tasks update live while it scales (pushed, no reload), its logs
 * stream, and an image update that fails pauses with the task's error. Screenshots of tasks +
 * logs at desktop and phone width, light and dark, and of the Swarm page's ports and networks.
 */
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };

async function shots(page: Page, name: string) {
  for (const theme of ["light", "dark"] as const) {
    await page.evaluate((dark) => document.documentElement.classList.toggle("dark", dark), theme === "dark");
    for (const [width, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
      await page.setViewportSize(size);
      await page.screenshot({ path: `docs/screenshots/${name}-${width}-${theme}.png`, fullPage: true });
    }
  }
  await page.evaluate(() => document.documentElement.classList.remove("dark"));
  await page.setViewportSize(DESKTOP);
}

test("open a service, watch its tasks follow a scale live, read its logs", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/swarm");
  await page.getByTestId("service-link-api").click();
  await expect(page).toHaveURL(/\/swarm\/services\/api$/);
  const tasks = page.getByTestId("service-tasks");
  const running = tasks.locator("tbody tr").filter({ hasText: "Running" }).filter({ hasText: /^api\.\d/ });
  await expect(page.getByTestId("service-replicas")).toContainText("2/2 running");
  await expect(running).toHaveCount(2);
  // Count the rows the table shows over time, to see the tasks arrive one by one (pushed).
  await page.evaluate(`(() => {
    const count = () => [...document.querySelectorAll('[data-testid="service-tasks"] tbody tr')].filter((r) => /Running/.test(r.textContent)).length;
    window.__running = [count()];
    new MutationObserver(() => count() !== window.__running.at(-1) && window.__running.push(count())).observe(document.body, { subtree: true, childList: true, characterData: true });
  })()`);
  // Scaled elsewhere (another console, the API): this page was not reloaded.
  const { id } = (await mutate(page.request, "swarm.scale", { service: "api", replicas: 4 })) as { id: string };
  expect(id).toBeTruthy();
  await expect(page.getByTestId("service-replicas")).toContainText("4/4 running", { timeout: 30_000 });
  await expect(tasks.locator("tbody tr").filter({ hasText: "Running" })).toHaveCount(4);
  const seen = (await page.evaluate("window.__running")) as number[];
  expect(seen, JSON.stringify(seen)).toEqual(expect.arrayContaining([3, 4]));
  // Each row says when it entered its state and where it runs.
  await expect(tasks.locator("tbody tr").first().locator("time")).toBeVisible();
  await expect(tasks.locator("tbody tr").first()).toContainText(/worker\d|manager/);

  // Logs: the tail, then new lines while following.
  const logs = page.getByTestId("logs-lines");
  await expect(logs).toContainText("listening on :8080");
  await expect(page.getByTestId("logs-state")).toContainText("Following");
  await expect(logs).toContainText("GET / 200", { timeout: 20_000 });
  await page.getByTestId("logs-clear").click();
  await expect(logs).toContainText("GET / 200", { timeout: 20_000 });
  // Without follow: the tail, then the end of the log is said.
  await page.getByTestId("logs-follow").uncheck();
  await page.getByTestId("logs-tail").selectOption("50");
  await expect(page.getByTestId("logs-state")).toContainText("End of log");
  await page.getByTestId("logs-follow").check();
  await expect(page.getByTestId("logs-state")).toContainText("Following");
  await expect(logs).toContainText("GET / 200", { timeout: 20_000 });
  await shots(page, "service-tasks-logs");
});

test("an image update that fails pauses with the task's error; rollback puts the old image back", async ({ page, admin }) => {
  await mutate(admin, "lab.inject", { name: "fail-service-image", args: ["rabbitmq-broken"] });
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/swarm/services/queue");
  await expect(page.getByTestId("service-image")).toHaveText("rabbitmq:3.12-alpine");
  await page.getByTestId("service-update").click();
  // Bad input is refused before anything is sent.
  await page.getByTestId("update-image").fill("--rm");
  await page.getByTestId("update-submit").click();
  await expect(page.getByTestId("update-dialog")).toContainText(/image is written like/);
  await page.getByTestId("update-image").fill("rabbitmq-broken");
  await page.getByTestId("update-submit").click();
  await expect(page.getByTestId("service-update-state")).toContainText("Update paused", { timeout: 30_000 });
  await expect(page.getByTestId("service-tasks")).toContainText("No such image: rabbitmq-broken");
  await expect(page.getByTestId("operation-outcome")).toContainText(/Update of queue failed: update of queue to rabbitmq-broken paused/);
  await shots(page, "service-update-paused");
  await page.getByTestId("service-rollback").click();
  await page.getByTestId("confirm").click();
  await expect(page.getByTestId("service-update-state")).toContainText("Rolled back", { timeout: 30_000 });
  await expect(page.getByTestId("service-image")).toHaveText("rabbitmq:3.12-alpine");
});

test("a blocked port shows on the Swarm page naming both nodes, and clears", async ({ page, admin }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/swarm");
  await expect(page.getByTestId("port-findings-ok")).toBeVisible();
  await expect(page.getByTestId("overlay-networks")).toContainText("10.0.0.0/24");
  await mutate(admin, "lab.inject", { name: "block-port", args: ["worker1", "4789/udp"] });
  await expect(page.getByTestId("port-finding-manager-worker1-4789-udp")).toContainText("worker1 has no socket listening on 4789/udp", { timeout: 20_000 });
  await shots(page, "swarm-ports-networks");
  await mutate(admin, "lab.inject", { name: "unblock-port", args: ["worker1", "4789/udp"] });
  await expect(page.getByTestId("port-findings-ok")).toBeVisible({ timeout: 20_000 });
});
