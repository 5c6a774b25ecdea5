import type { Page } from "@playwright/test";
import { test, expect, signIn, seedUser, mutate, query } from "./fixtures.js";

/**
 * The serial console in a browser against the embedded lab: a tenant member opens its own
 * instance's Console tab, sees the getty's login prompt, types a user name and gets `Password:`;
 * a reload shows the same screen (the server replays the session's scrollback). Nothing on the
 * way is refused by the page's Content-Security-Policy (xterm injects its styles). Screenshots at
 * desktop (light and dark) and phone width: docs/screenshots/console-*.png.
 */
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };

const screen = (page: Page) => page.getByTestId("console-terminal").locator(".xterm-rows");

test("a tenant opens its instance's console, sees the login prompt, types a user name and gets Password:", async ({ page, admin }) => {
  const cspViolations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to apply|Refused to load/i.test(m.text())) cspViolations.push(m.text());
  });
  const tenant = await seedUser(admin, "tenant", "acme");
  await signIn(page, tenant.email, tenant.password);
  await page.goto("/instances/acme-web1");
  await page.getByTestId("tab-console").click();
  await expect(page).toHaveURL(/tab=console/);
  await expect(page.getByTestId("console-state")).toHaveText("Connected");
  await expect(screen(page)).toContainText("acme-web1 login:");

  await page.getByTestId("console-terminal").click();
  await page.keyboard.type("alice");
  await page.keyboard.press("Enter");
  await expect(screen(page)).toContainText("Password:");
  await expect(screen(page)).toContainText("acme-web1 login: alice");

  // A reload lands on the console again, with the same screen replayed by the server.
  await page.reload();
  await expect(page.getByTestId("console-state")).toHaveText("Connected");
  await expect(screen(page)).toContainText("acme-web1 login: alice");
  await expect(screen(page)).toContainText("Password:");

  // Log in (the lab's guests take any password) and ask the guest something.
  await page.getByTestId("console-terminal").click();
  await page.keyboard.type("secret");
  await page.keyboard.press("Enter");
  await expect(screen(page)).toContainText("alice@acme-web1:~$");
  await page.keyboard.type("ip -br a");
  await page.keyboard.press("Enter");
  await expect(screen(page)).toContainText("192.168.10.11/24");
  await expect(screen(page)).not.toContainText("secret");

  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: `docs/screenshots/console-desktop${scheme === "dark" ? "-dark" : ""}.png` });
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize(PHONE);
  await expect(page.getByRole("button", { name: "Ctrl-C" })).toBeVisible();
  await page.getByTestId("console-terminal").click();
  await page.keyboard.type("hostname");
  await page.keyboard.press("Enter");
  await expect(screen(page)).toContainText(/hostname\s*acme-web1/);
  await page.screenshot({ path: "docs/screenshots/console-phone.png" });
  await page.setViewportSize(DESKTOP);

  // Disconnect ends the session on the server; the state says so, and Reconnect opens a new one.
  await page.getByTestId("console-disconnect").click();
  await expect(page.getByTestId("console-state")).toHaveText("Closed");
  await expect(page.getByTestId("console-note")).toContainText("Closed: closed by you");
  await page.getByTestId("console-reconnect").click();
  await expect(page.getByTestId("console-state")).toHaveText("Connected");
  await expect(screen(page)).toContainText("alice@acme-web1:~$");
  expect(cspViolations).toEqual([]);
});

test("the console follows its instance through a live migration: re-attached on the new host, the screen kept, no Reconnect", async ({ page, admin }) => {
  const tenant = await seedUser(admin, "tenant", "globex");
  await signIn(page, tenant.email, tenant.password);
  await page.goto("/instances/globex-app1?tab=console");
  await expect(page.getByTestId("console-state")).toHaveText("Connected");
  await expect(screen(page)).toContainText("globex-app1 login:");
  await page.getByTestId("console-terminal").click();
  await page.keyboard.type("gus");
  await page.keyboard.press("Enter");
  await expect(screen(page)).toContainText("Password:");
  const from = (await query(admin, "instances.get", { name: "globex-app1" })).instance.host as string;
  const op = await mutate(admin, "instances.migrate", { instance: "globex-app1", destination: from === "kvm1" ? "kvm2" : "kvm1", options: {} });
  await expect(screen(page)).toContainText("console re-attached, same session", { timeout: 30_000 });
  await expect(page.getByTestId("console-state")).toHaveText("Connected");
  // What was on screen before the move is still there; the guest answers on its new host.
  await expect(screen(page)).toContainText("globex-app1 login: gus");
  await page.getByTestId("console-terminal").click();
  // An empty password at the Password: prompt it was left at: the guest answers from its new host.
  await page.keyboard.press("Enter");
  await expect(screen(page)).toContainText("Login incorrect");
  await expect(page.getByRole("button", { name: "Reconnect" })).toHaveCount(0);
  await expect(screen(page)).not.toContainText(/kvm\d/);
  await page.screenshot({ path: "docs/screenshots/console-after-migration.png" });
  await expect.poll(async () => (await query(admin, "operations.get", { id: op.id })).state, { timeout: 30_000 }).toBe("succeeded");
});

test("another tenant's instance has no console tab: the page answers as for a missing instance", async ({ page, admin }) => {
  const globex = await seedUser(admin, "tenant", "globex");
  await signIn(page, globex.email, globex.password);
  await page.goto("/instances/acme-web1?tab=console");
  await expect(page.getByText(/not found/i).first()).toBeVisible();
  await expect(page.getByTestId("console-terminal")).toHaveCount(0);
});

test("a stopped instance says it has no console", async ({ page, admin }) => {
  const staff = await seedUser(admin, "operator");
  await signIn(page, staff.email, staff.password);
  await page.goto("/instances/initech-legacy?tab=console");
  await expect(page.getByTestId("console-state")).toHaveText("Not running");
  await expect(page.getByTestId("console-note")).toContainText("not running");
});
