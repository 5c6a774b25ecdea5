import { test, expect } from "@playwright/test";

const ADMIN = { email: "admin@nimbus.local", password: "e2e-admin-password-1" };

/** Through the UI, against real daemons: a real VM live-migrates, a real swarm service scales. */
test.beforeEach(async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: /sign in/i }).click();
  await expect(page.getByTestId("user-name")).toBeVisible();
});

test("the hosts page shows the real lab's seven hosts online", async ({ page }) => {
  await page.goto("/hosts");
  for (const host of ["kvm1", "kvm2", "swarm1", "swarm2", "swarm3", "nfs1", "nfs2"]) {
    await expect(page.getByRole("link", { name: host, exact: true })).toBeVisible({ timeout: 60_000 });
  }
  await expect(page.getByText("Unreachable")).toHaveCount(0);
});

test("a real VM live-migrates from the UI with progress, and ends on the other hypervisor", async ({ page }) => {
  const request = page.request;
  const res = await request.get("/api/trpc/instances.get?input=" + encodeURIComponent(JSON.stringify({ name: "acme-web1" })));
  const source: string = (await res.json()).result.data.instance.host;
  const destination = source === "kvm1" ? "kvm2" : "kvm1";
  await page.goto("/instances/acme-web1");
  await page.getByTestId("migrate-button").click();
  await page.getByTestId(`target-${destination}`).click();
  await page.getByTestId("migrate-start").click();
  await expect(page.getByTestId("operation-progress").first()).toBeVisible();
  const outcome = page.getByTestId("operation-outcome").first();
  await expect(outcome).toHaveAttribute("data-state", "succeeded", { timeout: 150_000 });
  await expect(outcome).toContainText(`migrated to ${destination}`);
});

test("a real swarm service scales from the UI and converges", async ({ page }) => {
  const request = page.request;
  const swarm = (await (await request.get("/api/trpc/swarm.overview")).json()).result.data;
  const svc = swarm.services.find((s: { name: string }) => s.name === "acme-web");
  const target = svc.replicasDesired === 3 ? 2 : 3;
  await page.goto("/swarm");
  await page.getByTestId("scale-acme-web").click();
  await page.getByTestId("scale-replicas").fill(String(target));
  await page.getByTestId("scale-submit").click();
  await expect(page.getByTestId("replicas-acme-web")).toHaveText(`${target}/${target}`, { timeout: 120_000 });
});
