import type { Page } from "@playwright/test";
import { test, expect, uiSignIn, mutate, ADMIN } from "./fixtures.js";

/**
 * Load balancers: an admin puts an HAProxy on the lab's swarm manager in front of the web
 * service, sees every node as a backend UP sharing the requests, then a node refuses
 * connections (lab fault lb-backend-down) and its backend goes DOWN, and comes back UP when the
 * fault is undone; requests sent meanwhile move the share bars and the sessions live. Screenshots, desktop and phone, light and dark: docs/screenshots/load-balancers-*.png.
 */
const PHONE = { width: 390, height: 844 };

async function shoot(page: Page, name: string) {
  await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
  await page.screenshot({ path: `docs/screenshots/load-balancers-${name}.png`, fullPage: true });
}

async function inScheme(page: Page, scheme: "light" | "dark") {
  await page.emulateMedia({ colorScheme: scheme });
  await page.reload();
}

test("an admin creates a load balancer in front of a service, sees its backends, and a backend down shows DOWN", async ({ page, admin }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1440, height: 1000 });
  await page.emulateMedia({ colorScheme: "light" });
  await uiSignIn(page, ADMIN.email, ADMIN.password);
  await page.getByRole("link", { name: "Load balancers" }).first().click();
  await expect(page.getByText("No load balancers yet")).toBeVisible();

  await page.getByTestId("lb-create-open").click();
  const dialog = page.getByTestId("lb-dialog");
  await dialog.getByLabel("Name").fill("Shop");
  await dialog.getByTestId("lb-save").click();
  // The domain's rule, before anything is sent.
  await expect(dialog).toContainText("lower-case letters, digits and '-', starting with a letter");
  await dialog.getByLabel("Name").fill("shop");
  await expect(dialog.getByLabel("Edge host")).toHaveValue("manager");
  await expect(dialog.getByLabel("Service and published port")).toHaveValue("web");
  await dialog.getByLabel("Every (ms)").fill("1000");
  await dialog.getByLabel("Fall").fill("2");
  await dialog.getByTestId("lb-save").click();
  await expect(dialog).toHaveCount(0);

  const backends = page.getByTestId("lb-backends-shop");
  for (const node of ["manager", "worker1", "worker2"]) {
    const row = backends.getByTestId(`lb-backend-shop-${node}`);
    await expect(row).toHaveAttribute("data-state", "up");
    await expect(row).toContainText("L7OK");
  }
  await expect(page.getByTestId("lb-operation-shop")).toContainText("Done: apply load balancer shop on manager: 3 servers");
  await expect(page.getByTestId("lb-status-shop")).toContainText("Applied");
  await shoot(page, "desktop");
  await inScheme(page, "dark");
  await expect(backends.getByTestId("lb-backend-shop-worker1")).toHaveAttribute("data-state", "up");
  await shoot(page, "desktop-dark");
  await page.emulateMedia({ colorScheme: "light" });

  await mutate(admin, "lab.inject", { name: "lb-backend-down", args: ["worker1"] });
  try {
    await page.reload();
    const row = backends.getByTestId("lb-backend-shop-worker1");
    // No reload from here on: the change arrives over the live channel (the lb: health check).
    await expect(row).toHaveAttribute("data-state", "down", { timeout: 30_000 });
    await expect(row).toContainText("DOWN");
    await expect(row).toContainText("L4CON");
    await expect(page.getByTestId("lb-status-shop")).toContainText("2 of 3 up");
    // Requests go through while worker1 is out: its share of all requests falls, the others' grow,
    // and the sessions count moves, pushed over the live channel (no reload, no polling by the page).
    const share = (node: string) => backends.getByTestId(`lb-backend-shop-${node}`).getByRole("meter");
    const shareOf = async (node: string) => Number(await share(node).getAttribute("aria-valuenow"));
    const before = { worker1: await shareOf("worker1"), manager: await shareOf("manager") };
    await mutate(admin, "lab.inject", { name: "lb-requests", args: ["manager", "shop", "900"] });
    await expect.poll(() => shareOf("worker1")).toBeLessThan(before.worker1 / 2);
    await expect.poll(() => shareOf("manager")).toBeGreaterThan(before.manager);
    await expect(page.locator("#lb-shop")).toContainText(/\b(9\d\d|[1-9]\d{3,}) sessions since start/);
    await shoot(page, "backend-down");
    await page.setViewportSize(PHONE);
    await shoot(page, "phone-backend-down");
    await inScheme(page, "dark");
    await expect(row).toHaveAttribute("data-state", "down");
    await shoot(page, "phone-backend-down-dark");
    await page.emulateMedia({ colorScheme: "light" });
  } finally {
    await mutate(admin, "lab.inject", { name: "lb-backend-up", args: ["worker1"] });
  }
  await page.setViewportSize({ width: 1440, height: 1000 });
  await expect(backends.getByTestId("lb-backend-shop-worker1")).toHaveAttribute("data-state", "up", { timeout: 30_000 });

  await page.getByTestId("lb-delete-shop").click();
  await page.getByTestId("confirm-dialog").getByTestId("confirm").click();
  await expect(page.getByText("No load balancers yet")).toBeVisible();
});
