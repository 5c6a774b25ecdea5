import { test, expect, signIn, ADMIN } from "./fixtures.js";
import type { Page } from "@playwright/test";

/**
 * Swarm nodes on demand on the Swarm page: an admin adds a worker (placement shown before
 * anything is built), watches its operation run and the node join as Ready; the quorum rule
 * refuses to demote the last manager and warns before a promote; the autoscaling panel lists a
 * policy, the scale dialog warns when a count is outside it, and the policy is removed. Screenshots of the page go to docs/screenshots/swarm-nodes-*.png.
 */
const PHONE = { width: 390, height: 844 };
const shot = async (page: Page, name: string) => page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage: true });

test("an admin adds a worker and watches it join; the quorum rule refuses and warns", async ({ page }) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1440, height: 1000 });
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/swarm");
  await expect(page.getByTestId("node-row-worker2")).toContainText("Ready");

  await page.getByTestId("add-worker").click();
  const dialog = page.getByTestId("add-worker-dialog");
  await expect(dialog.getByTestId("worker-name")).toHaveValue("worker3");
  await dialog.getByTestId("worker-memory").fill("512");
  const placement = dialog.getByTestId("worker-placement");
  await expect(placement).toContainText(/kvm[12]: every check passes/);
  await expect(placement).toContainText("On br0, beside the manager.");
  await shot(page, "swarm-nodes-add-worker-desktop");
  await dialog.getByTestId("add-worker-submit").click();
  await expect(dialog).toHaveCount(0);

  // The operation shows under the nodes while it runs, then the node is there, Ready.
  await expect(page.getByTestId("node-operations")).toContainText("Add worker worker3");
  await shot(page, "swarm-nodes-joining-desktop");
  await expect(page.getByTestId("node-row-worker3")).toContainText("Ready", { timeout: 120_000 });
  await expect(page.getByTestId("node-row-worker3")).toContainText("worker");
  await expect(page.getByTestId("node-operations")).toHaveCount(0);
  await shot(page, "swarm-nodes-desktop");

  // Demoting the only manager is refused with the reason; promoting a worker warns about an even count.
  await page.getByRole("button", { name: "Availability of manager" }).click();
  await page.getByTestId("node-role").click();
  await expect(page.getByTestId("quorum-impact")).toContainText("Refused: cannot demote the last manager");
  await page.getByTestId("confirm-dialog").getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("button", { name: "Availability of worker1" }).click();
  await page.getByTestId("node-role").click();
  await expect(page.getByTestId("quorum-warning")).toContainText("even count");
  await shot(page, "swarm-nodes-quorum-warning-desktop");
  await page.getByTestId("confirm-dialog").getByRole("button", { name: "Cancel" }).click();

  // Remove worker asks for the name; the rest of the swarm can hold worker3's tasks, so it is allowed.
  await page.getByRole("button", { name: "Availability of worker3" }).click();
  await page.getByTestId("node-remove").click();
  const remove = page.getByTestId("remove-worker-dialog");
  await expect(remove.getByTestId("remove-confirm")).toBeVisible();
  await expect(remove.getByTestId("remove-worker-submit")).toBeDisabled();
  await remove.getByRole("button", { name: "Cancel" }).click();

  // An autoscaling policy for web, listed with its bounds.
  await page.getByTestId("autoscale-add").click();
  const policy = page.getByTestId("policy-dialog");
  await policy.getByTestId("policy-minReplicas").fill("3");
  await policy.getByTestId("policy-maxReplicas").fill("6");
  await policy.getByTestId("policy-save").click();
  await expect(page.getByTestId("policy-web")).toContainText("(3–6)");
  await shot(page, "swarm-nodes-autoscale-desktop");

  // Scaling by hand past the policy says what the autoscaler will do about it, before anything runs.
  await page.getByTestId("scale-web").click();
  await page.getByTestId("scale-replicas").fill("7");
  await expect(page.getByTestId("scale-policy-note")).toContainText("the autoscaler will bring 7 back to 6");
  await page.screenshot({ path: "docs/screenshots/swarm-scale-policy-note-desktop.png" });
  await page.getByTestId("scale-replicas").fill("5");
  await expect(page.getByTestId("scale-policy-note")).toHaveCount(0);
  await page.getByTestId("scale-dialog").getByRole("button", { name: "Cancel" }).click();
  // The policy goes again: the specs after this one scale web freely.
  await page.getByTestId("edit-policy-web").click();
  await page.getByTestId("policy-dialog").getByRole("button", { name: "Remove policy" }).click();
  await expect(page.getByTestId("policy-web")).toHaveCount(0);

  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto("/swarm");
  await expect(page.getByTestId("node-row-worker3")).toContainText("Ready");
  await shot(page, "swarm-nodes-desktop-dark");
  await page.setViewportSize(PHONE);
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto("/swarm");
  await expect(page.getByTestId("node-row-worker3")).toBeVisible();
  await shot(page, "swarm-nodes-phone");
});
