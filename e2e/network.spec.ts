import { test, expect, signIn, ADMIN, mutate } from "./fixtures.js";

test.describe("network map", () => {
  test.afterEach(async ({ admin }) => {
    await mutate(admin, "lab.inject", { name: "repair-tunnel", args: ["kvm1", "5001"] }).catch(() => undefined);
  });

  test("filter by tenant, open a host, and watch a broken tunnel's finding come and go without a reload", async ({ page, admin }) => {
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto("/network");
    await page.getByLabel("Tenant").selectOption("acme");
    await expect(page).toHaveURL(/tenant=acme/);
    const map = page.getByTestId("network-map");
    await expect(map).toContainText("acme-web1");
    await expect(map).not.toContainText("globex-app1");

    // The host's title bar: its body is covered by its bridges.
    await map.getByTestId("rf__node-host:kvm1").click({ position: { x: 40, y: 14 } });
    await expect(page.getByTestId("map-details")).toContainText("kvm1");

    // A marker that a reload would wipe out.
    await page.evaluate("window.__stillTheSamePage = true");
    await page.getByRole("button", { name: /^Findings/ }).click();
    await expect(page.getByTestId("finding-mesh-incomplete")).toHaveCount(0);

    await mutate(admin, "lab.inject", { name: "break-tunnel", args: ["kvm1", "5001"] });
    await expect(page.getByTestId("finding-mesh-incomplete").first()).toContainText("5001");

    await mutate(admin, "lab.inject", { name: "repair-tunnel", args: ["kvm1", "5001"] });
    await expect(page.getByTestId("finding-mesh-incomplete")).toHaveCount(0);
    expect(await page.evaluate("window.__stillTheSamePage")).toBe(true);
  });
});
