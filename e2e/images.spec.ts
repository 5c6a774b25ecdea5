import { test, expect, uiSignIn, ADMIN } from "./fixtures.js";

/**
 * The image catalog on the Storage page: an admin imports an image (the lab's storage server
 * "fetches" it in lab time), sees it listed, and deletes it after confirming. The listed page
 * goes to docs/screenshots/images-desktop.png for people to look at.
 */
test("an admin imports an image into a datastore and deletes it again", async ({ page }) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 1440, height: 1000 });
  await uiSignIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/storage");
  const images = page.getByTestId("images");
  await expect(images.getByTestId("image-debian-12").first()).toContainText("debian12");

  await page.getByTestId("image-import-open").click();
  const dialog = page.getByTestId("image-import-dialog");
  await dialog.getByLabel("Name").fill("bookworm-e2e");
  await dialog.getByLabel("Source").fill("/srv/images/bookworm.qcow2");
  await dialog.getByTestId("image-import-start").click();
  // The form says what is wrong before anything is sent.
  await expect(dialog).toContainText("a checksum is lower-case hex");
  await dialog.getByLabel("Checksum", { exact: true }).fill("ab".repeat(32));
  await dialog.getByTestId("image-import-start").click();
  await expect(dialog).toHaveCount(0, { timeout: 30_000 });

  const row = images.getByTestId("image-bookworm-e2e");
  await expect(row).toContainText("qcow2");
  await expect(row).toContainText("file /srv/images/bookworm.qcow2");
  await expect(row).toContainText("sha256:abababababab…");
  await expect(row.getByTestId("image-used-bookworm-e2e")).toHaveText("no instance");
  await page.getByTestId("images").scrollIntoViewIfNeeded();
  await page.screenshot({ path: "docs/screenshots/images-desktop.png", fullPage: true });

  await row.getByTestId("image-delete-bookworm-e2e").click();
  await page.getByTestId("confirm-dialog").getByTestId("confirm").click();
  await expect(images.getByTestId("image-bookworm-e2e")).toHaveCount(0);
});
