import type { APIRequestContext, Page } from "@playwright/test";
import { test, expect, signIn, ADMIN, mutate, query, seedUser, hostOnline } from "./fixtures.js";

/**
 * What each role sees, walked in a browser: only the buttons the role may use, a calm page for
 * the pages it may not open, one operation per click however fast the clicks, a question before
 * an instance is shut down or rebooted, acknowledgements with a note that can be taken back,
 * and words instead of validator text and ISO timestamps. Screenshots at desktop and phone
 * width, dark, go to docs/screenshots/roles-*.png for people to look at.
 */
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

// Dark from the first paint: switching the scheme mid-page races the theme's own listener.
test.use({ colorScheme: "dark" });

/** The page (dark) at both widths, saved for review. */
async function screenshots(page: Page, name: string) {
  for (const [width, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    await page.setViewportSize(size);
    await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
    await page.screenshot({ path: `docs/screenshots/roles-${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
}

interface Operation {
  id: string;
  state: string;
}
const serviceOperations = async (admin: APIRequestContext, name: string) =>
  (await query(admin, "operations.list", { target: { type: "service", name }, limit: 50 })) as Operation[];

test("a double click on Scale sends one request and starts one operation", async ({ page, admin }) => {
  const before = new Set((await serviceOperations(admin, "queue")).map((o) => o.id));
  const sent: string[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().includes("swarm.scale")) sent.push(r.url());
  });
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/swarm");
  await expect(page.getByTestId("replicas-queue")).toContainText("1/1");
  await page.getByTestId("scale-queue").click();
  await page.getByTestId("scale-replicas").fill("2");
  await page.getByTestId("scale-submit").dblclick();
  await expect(page.getByTestId("replicas-queue")).toContainText("2/2", { timeout: 30_000 });
  const started = (await serviceOperations(admin, "queue")).filter((o) => !before.has(o.id));
  expect(sent).toHaveLength(1);
  expect(started, JSON.stringify(started)).toHaveLength(1);
});

test("an operator sees the tenants without the admin's buttons, and a calm no-access page for users", async ({ page, admin }) => {
  const operator = await seedUser(admin, "operator");
  await signIn(page, operator.email, operator.password);
  await page.goto("/admin/tenants");
  await expect(page.getByTestId("tenants-table")).toContainText("acme");
  await expect(page.getByTestId("new-tenant")).toHaveCount(0);
  await expect(page.getByRole("button", { name: /Actions for/ })).toHaveCount(0);
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" })).toHaveCount(0);
  await screenshots(page, "operator-tenants");

  await page.goto("/admin/users");
  const noAccess = page.getByTestId("no-access");
  await expect(noAccess).toContainText("No access");
  await expect(noAccess).toContainText("Your role (Operator) may not open this page.");
  const main = page.locator("main");
  await expect(main).not.toContainText("FORBIDDEN");
  await expect(main).not.toContainText("Could not load");
  await expect(main.getByRole("button", { name: "Retry" })).toHaveCount(0);
  await expect(page.getByTestId("new-user")).toHaveCount(0);
  await screenshots(page, "operator-no-access");
  await noAccess.getByRole("link", { name: "Go to Overview" }).click();
  await expect(page).toHaveURL(/\/$/);
});

test("an on-call engineer lands on Health and gets no power, tenant or user buttons", async ({ page, admin }) => {
  const oncall = await seedUser(admin, "oncall");
  // Where a signed-out visit to the console starts: "/", then the sign-in page.
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel("Email").fill(oncall.email);
  await page.getByLabel("Password").fill(oncall.password);
  await page.getByRole("button", { name: /sign in/i }).click();
  await expect(page).toHaveURL(/\/health$/);
  await expect(page.getByTestId("health-summary")).toBeVisible();

  await page.goto("/instances/acme-web1");
  await expect(page.getByRole("heading", { name: "acme-web1" })).toBeVisible();
  for (const name of ["Shut down", "Reboot", "Start"]) await expect(page.getByRole("button", { name, exact: true })).toHaveCount(0);
  await expect(page.getByTestId("migrate-button")).toHaveCount(0);
  await page.goto("/admin/tenants");
  await expect(page.getByTestId("tenants-table")).toContainText("acme");
  await expect(page.getByTestId("new-tenant")).toHaveCount(0);
  await page.goto("/admin/users");
  await expect(page.getByTestId("no-access")).toContainText("Your role (On-call) may not open this page.");
});

test("a tenant member opening an infrastructure page gets the no-access page, not the page over an error", async ({ page, admin }) => {
  const member = await seedUser(admin, "tenant", "acme");
  await signIn(page, member.email, member.password);
  await page.goto("/hosts/kvm1");
  await expect(page.getByTestId("no-access")).toContainText("No access");
  await expect(page.locator("main")).not.toContainText("kvm1");
  await expect(page.locator("main")).not.toContainText("FORBIDDEN");
  await screenshots(page, "tenant-no-access");
});

test("Shut down and Reboot ask first; Cancel sends nothing", async ({ page }) => {
  const sent: string[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().includes("instances.power")) sent.push(r.postData() ?? "");
  });
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/instances/initech-ci");
  await expect(page.getByRole("heading", { name: "initech-ci" })).toBeVisible();

  await page.getByRole("button", { name: "Shut down", exact: true }).click();
  const dialog = page.getByTestId("confirm-dialog");
  await expect(dialog).toContainText("Shut down initech-ci?");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toHaveCount(0);
  expect(sent).toEqual([]);

  await page.getByRole("button", { name: "Reboot", exact: true }).click();
  await expect(dialog).toContainText("Reboot initech-ci?");
  await screenshots(page, "confirm-reboot");
  await dialog.getByTestId("confirm").click();
  await expect(page.getByText("Reboot sent to initech-ci")).toBeVisible();
  expect(sent).toHaveLength(1);
  expect(sent[0]).toContain("reboot");
});

test("refused input is said in words, not in validator text", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/admin/tenants");
  await page.getByTestId("new-tenant").click();
  const dialog = page.getByTestId("tenant-dialog");
  await dialog.getByLabel("Identifier").fill("longname");
  await dialog.getByLabel("Name").fill("x".repeat(81));
  await page.getByTestId("save-tenant").click();
  await expect(dialog).toContainText("at most 80 characters");
  await expect(dialog).not.toContainText("Too big");
  await dialog.getByRole("button", { name: "Cancel" }).click();

  await page.goto("/instances/acme-web1");
  await page.getByTestId("migrate-button").click();
  await page.getByLabel("Maximum downtime (ms)").fill("9".repeat(400));
  await page.getByTestId("migrate-start").click();
  await expect(page.getByTestId("migrate-form")).toContainText("a number that large is not accepted");
  await expect(page.getByTestId("migrate-form")).not.toContainText("Infinity");
});

test("an acknowledgement takes a note, leaves the red header, can be undone; times read as time ago; names link to objects", async ({ page, admin }) => {
  await mutate(admin, "lab.inject", { name: "cut-link", args: ["kvm2"] });
  try {
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto("/health");
    const check = page.getByTestId("check-host:kvm2");
    await expect(check).toHaveAttribute("data-state", "crit", { timeout: 30_000 });
    await expect(check).toContainText("last seen");
    await expect(page.getByTestId("health-checks")).not.toContainText(ISO);
    const summary = page.getByTestId("health-summary");
    await expect(summary).toHaveAttribute("data-state", "crit");

    await page.getByTestId("ack-host:kvm2").click();
    await page.getByTestId("ack-note").fill("link flapping, switch port being replaced");
    await page.getByTestId("confirm").click();
    const acked = page.getByTestId("health-acknowledged").getByTestId("check-host:kvm2");
    await expect(acked.getByTestId("ack")).toContainText("link flapping, switch port being replaced");
    await expect(summary).not.toHaveAttribute("data-state", "crit");
    await expect(summary).toContainText("1 acknowledged");
    await screenshots(page, "health-acknowledged");

    await page.getByTestId("unack-host:kvm2").click();
    await expect(page.getByTestId("health-acknowledged")).toHaveCount(0);
    await expect(summary).toHaveAttribute("data-state", "crit");
    await expect(check.getByTestId("ack")).toHaveCount(0);

    // The audit trail says who acknowledged, with which note, and who took it back.
    const audited = async (action: string) => ((await query(admin, "audit.list", { action })) as { records: { input: unknown }[] }).records;
    expect(JSON.stringify(await audited("health.acknowledge"))).toContain("switch port being replaced");
    expect(await audited("health.unacknowledge")).toHaveLength(1);

    await check.getByRole("link", { name: "acme-web2" }).click();
    await expect(page).toHaveURL(/\/instances\/acme-web2$/);
    await page.goBack();
    await check.getByRole("link", { name: "kvm2 agent" }).click();
    await expect(page).toHaveURL(/\/hosts\/kvm2$/);
  } finally {
    await mutate(admin, "lab.inject", { name: "restore-link", args: ["kvm2"] });
    await hostOnline(admin, "kvm2");
  }
});
