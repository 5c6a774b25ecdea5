/**
 * Screenshots of every screen against a running Nimbus, light and dark, for people to look at
 * (README, reviews). Not a test: e2e/ holds those.
 *
 *   NIMBUS_URL=http://127.0.0.1:3100 NIMBUS_EMAIL=… NIMBUS_PASSWORD=… pnpm --filter @nimbus/web screenshots [outDir]
 *
 * Uses Debian's Chromium (/usr/bin/chromium); never downloads a browser.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "@playwright/test";
import { chromiumLaunchOptions } from "../../../e2e/chromium.js";

const base = process.env.NIMBUS_URL ?? "http://127.0.0.1:3000";
const email = process.env.NIMBUS_EMAIL ?? "";
const password = process.env.NIMBUS_PASSWORD ?? "";
const outDir = process.argv[2] ?? "/tmp/shots";
const only = process.env.SHOTS_ONLY?.split(",");

/** Wait until skeletons are gone: what a person would wait for before reading the page. */
async function settle(page: Page) {
  await page.waitForLoadState("networkidle").catch(() => undefined);
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'), undefined, { timeout: 15_000 }).catch(() => undefined);
  await page.waitForTimeout(300); // let the progress bars' width transition finish
}

async function signIn(page: Page) {
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 15_000 });
}

async function shoot(page: Page, name: string, theme: string) {
  if (only && !only.includes(name)) return;
  await settle(page);
  const file = join(outDir, `${name}-${theme}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(file);
}

async function run(browser: Browser, theme: "light" | "dark") {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: theme });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await shoot(page, "login", theme);
  await signIn(page);

  for (const [name, path] of [
    ["overview", "/"],
    ["hosts", "/hosts"],
    ["instances", "/instances"],
    ["network", "/network"],
    ["swarm", "/swarm"],
    ["storage", "/storage"],
    ["health", "/health"],
    ["operations", "/operations"],
    ["users", "/admin/users"],
    ["tenants", "/admin/tenants"],
    ["audit", "/audit"],
    ["lab", "/lab"],
  ] as const) {
    await page.goto(`${base}${path}`);
    await shoot(page, name, theme);
  }

  await page.goto(`${base}/hosts`);
  await settle(page);
  await page.locator('[data-testid^="host-row-"] a').first().click();
  await shoot(page, "host-detail", theme);

  await page.goto(`${base}/instances`);
  await settle(page);
  const row = page.locator('[data-testid^="instance-row-"]').filter({ hasText: "Running" }).first();
  await row.getByRole("button", { name: /Actions for/ }).click();
  await page.getByTestId("action-migrate").click();
  await page.getByTestId("migrate-form").waitFor();
  await shoot(page, "migrate-dialog", theme);
  await page.keyboard.press("Escape");

  await row.locator("a").first().click();
  await shoot(page, "instance-detail", theme);

  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: theme, storageState: await context.storageState() });
  const p = await phone.newPage();
  await p.goto(`${base}/health`);
  await shoot(p, "health-phone", theme);
  await phone.close();
  await context.close();
}

async function main() {
  if (!email || !password) throw new Error("set NIMBUS_EMAIL and NIMBUS_PASSWORD (the first-run admin printed by the server)");
  mkdirSync(outDir, { recursive: true });
  const browser = await chromium.launch(chromiumLaunchOptions(process.env.CHROMIUM));
  try {
    for (const theme of ["light", "dark"] as const) await run(browser, theme);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
