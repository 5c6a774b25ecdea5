import { test, expect, uiSignIn, seedUser, ADMIN } from "./fixtures.js";

test("a tenant sees only its own instances and network", async ({ page, admin }) => {
  const user = await seedUser(admin, "tenant", "acme");
  await uiSignIn(page, user.email, user.password);
  await page.goto("/instances");
  await expect(page.getByRole("link", { name: "acme-web1" })).toBeVisible();
  await expect(page.getByRole("link", { name: "acme-db" })).toBeVisible();
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
  await expect(page.getByRole("heading", { name: "acme-web1" })).toBeVisible();
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
  const form = page.getByTestId("user-form");
  await form.getByLabel("Email", { exact: true }).fill(email);
  await form.getByLabel("Name", { exact: true }).fill("New Operator");
  await form.getByLabel("Initial password").fill("a-brand-new-password-1");
  await form.getByLabel("Role", { exact: true }).selectOption("operator");
  await page.getByTestId("create-user").click();
  await expect(page.getByText(`${email} can now sign in`)).toBeVisible();
  await expect(page.getByRole("table").getByText(email, { exact: true })).toBeVisible();

  const other = await browser.newContext();
  const newPage = await other.newPage();
  await uiSignIn(newPage, email, "a-brand-new-password-1");
  await expect(newPage.getByTestId("user-name")).toContainText("New Operator");
  await other.close();
});
