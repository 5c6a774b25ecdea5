import type { Page } from "@playwright/test";
import { test, expect, signIn, ADMIN, apiSignIn, mutate, query, seedUser } from "./fixtures.js";

const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };

const SHOP = `services:
  web:
    image: nginx:1.25
    ports: ["8095:80"]
    deploy:
      replicas: 3
  cache:
    image: redis:7
`;

async function shoot(page: Page, name: string) {
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: `docs/screenshots/stacks-${name}${scheme === "dark" ? "-dark" : ""}.png` });
  }
  await page.emulateMedia({ colorScheme: "light" });
}

async function openDeploy(page: Page, name: string, compose: string) {
  await page.getByTestId("stack-deploy-open").click();
  const dialog = page.getByTestId("stack-deploy-dialog");
  await dialog.getByTestId("stack-name").fill(name);
  await dialog.getByTestId("stack-compose").fill(compose);
  return dialog;
}

test("an admin deploys a stack: live errors, the diff, then its services converge", async ({ page, admin }) => {
  // A retry starts from no e2e-shop (a failed attempt may have left it deployed).
  if (((await query(admin, "stacks.list", {})) as { name: string }[]).some((st) => st.name === "e2e-shop")) {
    await mutate(admin, "stacks.remove", { name: "e2e-shop" });
    await expect.poll(async () => ((await query(admin, "stacks.list", {})) as { name: string }[]).some((st) => st.name === "e2e-shop"), { timeout: 30_000 }).toBe(false);
  }
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/swarm/stacks");
  // The scenario's stacks are listed from the start.
  await expect(page.getByTestId("stack-acme-shop")).toBeVisible();

  // A mistake is named with its place as it is typed; Deploy stays off.
  let dialog = await openDeploy(page, "e2e-shop", SHOP.replace("    deploy:", "    replicaz: 2\n    deploy:"));
  await expect(dialog.getByTestId("stack-error")).toContainText('services.web.replicaz: unknown key "replicaz"');
  await expect(dialog.getByTestId("stack-deploy-submit")).toBeDisabled();

  // Fixed: the diff says what would be created.
  await dialog.getByTestId("stack-compose").fill(SHOP);
  await expect(dialog.getByTestId("diff-added")).toHaveCount(2);
  await expect(dialog.getByTestId("stack-diff")).toContainText("e2e-shop_web");
  await expect(dialog.getByTestId("stack-deploy-submit")).toBeEnabled();
  await shoot(page, "deploy-desktop");
  await page.setViewportSize(PHONE);
  await dialog.getByTestId("stack-diff").scrollIntoViewIfNeeded();
  await shoot(page, "deploy-phone");
  await page.setViewportSize(DESKTOP);

  // The swarm's nodes have no room until the stack is listed: its tasks wait (pending), so the page
  // shows it below 4/4 whatever the lab's speed, then converging once there is room.
  const total = page.getByTestId("stack-e2e-shop").getByTestId("replicas").first();
  await mutate(admin, "lab.inject", { name: "swarm-nodes-full", args: ["all"] });
  try {
    await dialog.getByTestId("stack-deploy-submit").click();
    await expect(dialog).toContainText("Deploying e2e-shop");
    await dialog.getByTestId("stack-deploy-done").click();

    // The stack's total, recorded as it changes: it passes through values below 4/4 (pushed, not polled).
    await expect(total).toBeVisible({ timeout: 30_000 });
    await page.evaluate(`(() => {
      const read = () => document.querySelector('[data-testid="stack-e2e-shop"] [data-testid="replicas"]')?.textContent;
      window.__stack = [read()];
      new MutationObserver(() => read() !== window.__stack.at(-1) && window.__stack.push(read())).observe(document.body, { subtree: true, childList: true, characterData: true });
    })()`);
    await expect(total).toContainText(/[0-3]\/4/);
  } finally {
    await mutate(admin, "lab.inject", { name: "swarm-nodes-room", args: ["all"] });
  }
  await expect(total).toContainText("4/4", { timeout: 30_000 });
  const seen = (await page.evaluate("window.__stack")) as string[];
  expect(seen.some((v) => /[0-3]\/4/.test(v ?? "")), JSON.stringify(seen)).toBe(true);
  await expect(page.getByTestId("stack-e2e-shop")).toContainText("8095→80/tcp");
  await page.setViewportSize(DESKTOP);
  await shoot(page, "list-desktop");
  await page.setViewportSize(PHONE);
  await shoot(page, "list-phone");
  await page.setViewportSize(DESKTOP);

  // A redeploy with one more replica shows the change, field by field.
  dialog = await openDeploy(page, "e2e-shop", SHOP.replace("replicas: 3", "replicas: 4"));
  await expect(dialog.getByTestId("diff-changed")).toContainText("replicas");
  await expect(dialog.getByTestId("diff-unchanged")).toContainText("e2e-shop_cache");
  await shoot(page, "update-desktop");
  await dialog.getByRole("button", { name: "Cancel" }).click();

  // Remove, confirmed: the stack goes.
  await page.getByTestId("stack-remove-e2e-shop").click();
  await page.getByRole("button", { name: "Remove stack" }).click();
  await expect(page.getByTestId("stack-e2e-shop")).toHaveCount(0, { timeout: 30_000 });
});

test("a tenant deploys a stack in its own namespace and cannot see another tenant's", async ({ page, admin, playwright }) => {
  const acme = await seedUser(admin, "tenant", "acme");
  const globex = await seedUser(admin, "tenant", "globex");
  await signIn(page, acme.email, acme.password);
  await page.goto("/swarm/stacks");
  const dialog = await openDeploy(page, "mine", SHOP.replace("8095", "8096"));
  await expect(dialog.getByText("Deployed as acme-mine")).toBeVisible();
  await expect(dialog.getByTestId("diff-added")).toHaveCount(2);
  await dialog.getByTestId("stack-deploy-submit").click();
  await dialog.getByTestId("stack-deploy-done").click();
  await expect(page.getByTestId("stack-acme-mine").getByTestId("replicas").first()).toContainText("4/4", { timeout: 30_000 });
  // No tenant column for a member, and never another tenant's stack.
  await expect(page.getByTestId("stack-globex")).toHaveCount(0);

  const other = await playwright.request.newContext({ baseURL: page.url().replace(/\/swarm.*$/, "") });
  await apiSignIn(other, globex.email, globex.password);
  const theirs = (await query(other, "stacks.list", {})) as { name: string }[];
  expect(theirs.map((s) => s.name)).not.toContain("acme-mine");
  expect(theirs.map((s) => s.name)).toContain("globex");
  await other.dispose();

  const globexPage = await page.context().browser()!.newPage();
  await signIn(globexPage, globex.email, globex.password);
  await globexPage.goto("/swarm/stacks");
  await expect(globexPage.getByTestId("stack-globex")).toBeVisible();
  await expect(globexPage.getByTestId("stack-acme-mine")).toHaveCount(0);
  await globexPage.close();
});
