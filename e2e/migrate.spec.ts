import { test, expect, signIn, ADMIN, mutate } from "./fixtures.js";

test.describe("live migration", () => {
  test("an admin migrates a VM and watches it move with progress", async ({ page, admin }) => {
    const before = await (await admin.get(`/api/trpc/instances.get?input=${encodeURIComponent(JSON.stringify({ name: "acme-web2" }))}`)).json();
    const source: string = before.result.data.instance.host;
    const destination = source === "kvm1" ? "kvm2" : "kvm1";

    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto("/instances/acme-web2");
    await page.getByTestId("migrate-button").click();
    const target = page.getByTestId(`target-${destination}`);
    await expect(target).toBeVisible();
    await target.click();
    await expect(page.getByTestId("preflight-checks")).toContainText("Shared storage");
    await page.getByTestId("migrate-start").click();

    const progress = page.getByTestId("operation-progress").first();
    await expect(progress).toBeVisible();
    await expect(page.getByTestId("operation-headline").first()).toContainText(/%/);
    await expect(page.getByTestId("operation-outcome").first()).toHaveAttribute("data-state", "succeeded", { timeout: 45_000 });
    await expect(page.getByText(destination, { exact: true }).first()).toBeVisible();
  });

  test.describe("with VLAN 20 missing on the destination", () => {
    let destination = "";
    test.beforeEach(async ({ admin }) => {
      const info = await (await admin.get(`/api/trpc/instances.get?input=${encodeURIComponent(JSON.stringify({ name: "globex-app2" }))}`)).json();
      destination = info.result.data.instance.host === "kvm1" ? "kvm2" : "kvm1";
      await mutate(admin, "lab.inject", { name: "remove-vlan", args: [destination, "20"] });
    });
    // afterEach runs even when the test timed out, so the lab is repaired for the next test.
    test.afterEach(async ({ admin }) => {
      await mutate(admin, "lab.inject", { name: "restore-vlan", args: [destination, "20"] });
    });

    test("a failing preflight is shown with its reason and cannot be started", async ({ page }) => {
      await signIn(page, ADMIN.email, ADMIN.password);
      await page.goto("/instances/globex-app2");
      await page.getByTestId("migrate-button").click();
      const target = page.getByTestId(`target-${destination}`);
      await expect(target).toContainText("Blocked");
      await expect(target).toContainText(`VLAN 20 is not carried by any trunk of br-ovs on ${destination}`);
      await expect(page.getByTestId("migrate-start")).toBeDisabled();
    });
  });
});
