import type { Page } from "@playwright/test";
import { test, expect, signIn, mutate, query, hostOnline, ADMIN } from "./fixtures.js";

/**
 * The swarm's operations from the UI: Cancel of a service update (docker rolls it back), each
 * published port with its mode and the nodes that answer, and "Create swarm" from an empty
 * Swarm page (the lab's swarm torn down, then put back for the specs after this one).
 * Screenshots go to docs/screenshots/swarm-*.png.
 */
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };

async function shots(page: Page, name: string, phone = true) {
  for (const theme of ["light", "dark"] as const) {
    await page.evaluate((dark) => document.documentElement.classList.toggle("dark", dark), theme === "dark");
    for (const [width, size] of phone ? ([["desktop", DESKTOP], ["phone", PHONE]] as const) : ([["desktop", DESKTOP]] as const)) {
      await page.setViewportSize(size);
      await page.screenshot({ path: `docs/screenshots/${name}-${width}-${theme}.png`, fullPage: true });
    }
  }
  await page.evaluate(() => document.documentElement.classList.remove("dark"));
  await page.setViewportSize(DESKTOP);
}

test("Cancel of a service update: docker rolls it back, and the page says so", async ({ page, admin }) => {
  // The lab holds the update after its first new task, so it is still running when Cancel is
  // clicked at any lab speed (the cancel's rollback is not held).
  await mutate(admin, "lab.inject", { name: "hold-service-update", args: ["nginx:1.27-alpine"] });
  try {
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto("/swarm/services/web");
    await expect(page.getByTestId("service-image")).toHaveText("nginx:1.25-alpine");
    await page.getByTestId("service-update").click();
    await page.getByTestId("update-image").fill("nginx:1.27-alpine");
    await page.getByTestId("update-submit").click();
    // The dialog's overlay is gone before anything else is clicked (it took the first click once).
    await expect(page.getByTestId("update-dialog")).toHaveCount(0);
    // While it runs: Cancel, with what it does beside it.
    await expect(page.getByTestId("operation-cancel-hint")).toContainText("Rolls the service back to its previous image");
    await page.getByTestId("operation-cancel").click();
    await expect(page.getByTestId("operation-outcome")).toContainText(/cancelled: docker rolled it back to nginx:1\.25-alpine/, { timeout: 30_000 });
    await expect(page.getByTestId("operation-outcome")).toHaveAttribute("data-state", "cancelled");
    await expect(page.getByTestId("service-image")).toHaveText("nginx:1.25-alpine");
    await shots(page, "swarm-update-cancelled", false);
  } finally {
    await mutate(admin, "lab.inject", { name: "release-service-update", args: ["nginx:1.27-alpine"] });
  }
});

test("each published port says its mode; host mode names the nodes that answer", async ({ page, admin }) => {
  const file = "services:\n  edge:\n    image: nginx:1.25\n    ports: [{ target: 80, published: 8099, mode: host }]\n    deploy:\n      replicas: 2\n";
  const op = (await mutate(admin, "stacks.deploy", { name: "e2e-edge", compose: [file] })) as { id: string };
  await expect.poll(async () => ((await query(admin, "operations.get", { id: op.id })) as { state: string }).state, { timeout: 30_000 }).toBe("succeeded");
  try {
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto("/swarm");
    await expect(page.getByTestId("ports-web").getByTestId("port-8080")).toContainText("mesh · every node");
    const edge = page.getByTestId("ports-e2e-edge_edge").getByTestId("port-8099");
    await expect(edge).toHaveAttribute("data-mode", "host");
    await expect(edge).toContainText(/host · (manager|worker\d), (manager|worker\d)/, { timeout: 20_000 });
    await shots(page, "swarm-published-ports");
    await page.goto("/swarm/stacks");
    await expect(page.getByTestId("stack-ports-e2e-edge_edge")).toContainText(/host · (manager|worker\d), (manager|worker\d)/);
    await shots(page, "stacks-published-ports");
  } finally {
    await mutate(admin, "stacks.remove", { name: "e2e-edge" });
  }
});

test("Create swarm from an empty Swarm page: the manager VM is built, runs swarm init, and the swarm is listed", async ({ page, admin }) => {
  test.setTimeout(180_000);
  await mutate(admin, "lab.inject", { name: "swarm-teardown", args: [] });
  try {
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto("/swarm");
    await expect(page.getByTestId("no-swarm")).toContainText("No swarm manager answers", { timeout: 30_000 });
    await expect(page.getByTestId("swarm-nodes")).toContainText("No swarm nodes");
    await shots(page, "swarm-empty");

    await page.getByTestId("create-swarm").click();
    const dialog = page.getByTestId("create-swarm-dialog");
    await expect(dialog).toContainText(/Hosts of the fleet that do not answer yet: .*manager/);
    await dialog.getByLabel("Manager").fill("manager");
    await shots(page, "swarm-create-dialog", false);
    await dialog.getByTestId("create-swarm-submit").click();
    await expect(dialog).toHaveCount(0);
    await expect(page.getByTestId("node-operations")).toContainText("Create a swarm: manager manager");

    // The VM boots, runs docker swarm init; its host answers and reports the new swarm, pushed to this page.
    await expect(page.getByTestId("node-row-manager")).toContainText("Ready", { timeout: 120_000 });
    await expect(page.getByTestId("node-row-manager")).toContainText("leader");
    await expect(page.getByTestId("no-swarm")).toHaveCount(0);
    await expect(page.getByTestId("node-operations")).toHaveCount(0);
    await expect(page.getByTestId("swarm-services")).toContainText("No services");
    await shots(page, "swarm-created");
  } finally {
    // The other specs expect the lab's own swarm: put it back and wait for its hosts.
    await mutate(admin, "lab.inject", { name: "swarm-restore", args: [] });
    for (const h of ["manager", "worker1", "worker2"]) await hostOnline(admin, h);
    await expect.poll(async () => ((await query(admin, "swarm.overview", {})) as { services: { name: string; replicasRunning: number }[] }).services.find((s) => s.name === "web")?.replicasRunning, { timeout: 60_000 }).toBe(3);
  }
});
