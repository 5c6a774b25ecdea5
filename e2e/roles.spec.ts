import { test, expect, uiSignIn, seedUser, ADMIN } from "./fixtures.js";

test("a tenant sees only its own instances and network", async ({ page, admin }) => {
  const user = await seedUser(admin, "tenant", "acme");
  await uiSignIn(page, user.email, user.password);
  await page.goto("/instances");
  await expect(page.getByText("acme-web1")).toBeVisible();
  await expect(page.getByText("acme-db")).toBeVisible();
  const body = page.locator("body");
  await expect(body).not.toContainText("globex");
  await expect(body).not.toContainText("initech");
  await expect(body).not.toContainText("kvm1");
  await page.goto("/network");
  await expect(body).toContainText("5001");
  await expect(body).not.toContainText("5002");
  await expect(body).not.toContainText("globex");
});

test("an on-call engineer sees the health page and no action buttons", async ({ page, admin }) => {
  const user = await seedUser(admin, "oncall");
  await uiSignIn(page, user.email, user.password);
  await page.goto("/health");
  await expect(page.getByRole("heading", { name: /health/i }).first()).toBeVisible();
  await expect(page.getByText("kvm1 agent")).toBeVisible();
  await page.goto("/instances/acme-web1");
  await expect(page.getByText("acme-web1").first()).toBeVisible();
  await expect(page.getByTestId("migrate-button")).toHaveCount(0);
  await page.goto("/swarm");
  await expect(page.getByTestId("replicas-web")).toBeVisible();
  await expect(page.getByTestId("scale-web")).toHaveCount(0);
});

test("an admin creates a user in the UI and that user signs in", async ({ page, browser }) => {
  await uiSignIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/admin/users");
  await page.getByTestId("new-user").click();
  const email = `new-${Date.now()}@e2e.test`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Name").fill("New Operator");
  await page.getByLabel("Initial password").fill("a-brand-new-password-1");
  await page.getByLabel("Role").last().selectOption("operator");
  await page.getByTestId("create-user").click();
  await expect(page.getByText(email)).toBeVisible();

  const other = await browser.newContext();
  const newPage = await other.newPage();
  await uiSignIn(newPage, email, "a-brand-new-password-1");
  await expect(newPage.getByTestId("user-name")).toContainText("New Operator");
  await other.close();
});
