import { test, expect, signIn, ADMIN } from "./fixtures.js";

/**
 * The image catalog on the Storage page: an admin imports an image (the lab's storage server
 * "fetches" it in lab time), sees it listed, and deletes it after confirming. The listed page
 * goes to docs/screenshots/images-desktop.png for people to look at.
 */
test("an admin imports an image into a datastore and deletes it again", async ({ page }) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 1440, height: 1000 });
  await signIn(page, ADMIN.email, ADMIN.password);
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

/**
 * An admin builds Nimbus's own base image from the Storage page: the build runs as an
 * operation on the storage server (steps live in the Images panel, its own page for the log),
 * and the image is listed as built. Screenshots at desktop and phone width.
 */
test("an admin builds the base image, follows the operation and sees the image listed", async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1440, height: 1000 });
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/storage");
  const images = page.getByTestId("images");
  await expect(images.getByTestId("image-debian-12").first()).toBeVisible();

  await page.getByTestId("image-build-open").click();
  const dialog = page.getByTestId("image-build-dialog");
  await expect(dialog.getByLabel("Image")).toHaveValue("debian-12-docker");
  await dialog.getByTestId("image-build-start").click();
  await expect(dialog).toHaveCount(0);

  // The build is in the panel while it runs, its steps moving.
  const build = page.getByTestId("image-build-debian-12-docker");
  await expect(build).toContainText("Build image debian-12-docker into /instance");
  await expect(build).toContainText(/Building image|Build the image/);
  await images.scrollIntoViewIfNeeded();
  await page.screenshot({ path: "docs/screenshots/image-build-running-desktop.png", fullPage: true });

  const row = images.getByTestId("image-debian-12-docker");
  await expect(row).toContainText("built (debian-12-docker)", { timeout: 60_000 });
  await expect(row).toContainText("qcow2");
  await expect(build).toContainText("Image debian-12-docker is ready");
  await page.screenshot({ path: "docs/screenshots/image-build-done-desktop.png", fullPage: true });

  // The operation's own page: the three steps with the build's lines.
  await build.getByTestId("image-build-details").click();
  await expect(page).toHaveURL(/\/operations\//);
  for (const id of ["check", "build", "publish"]) await expect(page.getByTestId(`step-${id}`)).toHaveAttribute("data-state", "succeeded");
  await page.getByTestId("step-log-build").locator("summary").click();
  await expect(page.getByTestId("step-log-build")).toContainText("mmdebstrap");
  await page.screenshot({ path: "docs/screenshots/image-build-operation-desktop.png", fullPage: true });

  // Phone width: the panel's buttons and the build row stay usable.
  await page.goto("/storage");
  await page.setViewportSize({ width: 390, height: 844 });
  await images.scrollIntoViewIfNeeded();
  await expect(page.getByTestId("image-build-open")).toBeVisible();
  await page.screenshot({ path: "docs/screenshots/image-build-phone.png", fullPage: true });

  // Leave the catalog as the other specs expect it.
  await page.setViewportSize({ width: 1440, height: 1000 });
  await images.getByTestId("image-delete-debian-12-docker").click();
  await page.getByTestId("confirm-dialog").getByTestId("confirm").click();
  await expect(images.getByTestId("image-debian-12-docker")).toHaveCount(0);
});
