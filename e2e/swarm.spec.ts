import { test, expect, uiSignIn, ADMIN } from "./fixtures.js";

test("an admin scales a swarm service and watches replicas converge", async ({ page }) => {
  await uiSignIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/swarm");
  const replicas = page.getByTestId("replicas-web");
  await expect(replicas).toContainText("3/3");
  await page.getByTestId("scale-web").click();
  await page.getByTestId("scale-replicas").fill("5");
  await page.getByTestId("scale-submit").click();
  // Tasks start one by one: 4 running out of 5 shows on the way.
  await expect(replicas).toContainText(/[34]\/5/);
  await expect(replicas).toContainText("5/5", { timeout: 30_000 });
});
