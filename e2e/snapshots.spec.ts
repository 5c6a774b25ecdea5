import type { Locator, Page } from "@playwright/test";
import { test, expect, signIn, seedUser, screenshotsWritten } from "./fixtures.js";

/**
 * Instance snapshots in a browser against the embedded lab: a tenant member takes a snapshot of
 * its own running instance, reverts to it (asked first: the VM runs) and deletes it. The panel is
 * photographed at desktop and phone width into docs/screenshots/snapshots-*.png.
 */
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };

async function panelScreenshots(page: Page, panel: Locator) {
  await expect(page.locator("[data-sonner-toast]")).toHaveCount(0);
  for (const [width, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    await page.setViewportSize(size);
    await panel.scrollIntoViewIfNeeded();
    if (screenshotsWritten) await panel.screenshot({ path: `docs/screenshots/snapshots-${width}.png` });
  }
  await page.setViewportSize(DESKTOP);
}

test("a tenant takes a snapshot of its running instance, reverts to it after a confirmation, and deletes it", async ({ page, admin }) => {
  const tenant = await seedUser(admin, "tenant", "acme");
  await signIn(page, tenant.email, tenant.password);
  await page.goto("/instances/acme-web1");
  const panel = page.locator("section").filter({ has: page.getByTestId("take-snapshot") }).last();
  await expect(page.getByText("No snapshots")).toBeVisible();

  await page.getByTestId("take-snapshot").click();
  const dialog = page.getByTestId("take-snapshot-dialog");
  await dialog.getByTestId("snapshot-name").fill("--atomic");
  await expect(dialog.getByTestId("take-snapshot-submit")).toBeDisabled();
  await dialog.getByTestId("snapshot-name").fill("before-upgrade");
  await dialog.getByTestId("snapshot-description").fill("clean install, before the kernel upgrade");
  await dialog.getByTestId("take-snapshot-submit").click();
  await expect(dialog).toHaveCount(0);
  const row = page.getByTestId("snapshot-before-upgrade");
  await expect(row).toContainText("current");
  await expect(row).toContainText("Running");
  await expect(row).toContainText("clean install, before the kernel upgrade");
  await panelScreenshots(page, panel);

  await row.getByTestId("revert-before-upgrade").click();
  const confirm = page.getByTestId("confirm-dialog");
  await expect(confirm).toContainText("acme-web1 is running");
  await confirm.getByTestId("confirm").click();
  await expect(page.getByText("acme-web1 reverted to before-upgrade")).toBeVisible();

  await row.getByTestId("delete-snapshot-before-upgrade").click();
  await expect(confirm).toContainText("You can no longer revert acme-web1 to it");
  await confirm.getByTestId("confirm").click();
  await expect(row).toHaveCount(0);
  await expect(page.getByText("No snapshots")).toBeVisible();
});
