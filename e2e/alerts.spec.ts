import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "@playwright/test";
import { test, expect, signIn, mutate, query, seedUser, hostOnline, ADMIN } from "./fixtures.js";

/**
 * The on-call page on a phone with a host powered off in the lab: the host-down alert fires, says
 * since when and what it affects, and is acknowledged with a note that everyone then sees (and
 * that is audited). The admins' Alerts page sends a test notification to a webhook this spec
 * serves on 127.0.0.1 and shows the delivery. Screenshots, light and dark, in docs/screenshots/alerts-*.png.
 */
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
const ALERT = "host-down|host:kvm2";

async function shoot(page: Page, name: string) {
  await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
  await page.screenshot({ path: `docs/screenshots/alerts-${name}.png`, fullPage: true });
}

/** The same page in the other colour scheme, from its first paint. */
async function inScheme(page: Page, scheme: "light" | "dark") {
  await page.emulateMedia({ colorScheme: scheme });
  await page.reload();
}

test("on a phone, the on-call engineer sees the host-down alert and acknowledges it with a note", async ({ page, admin }) => {
  const oncall = await seedUser(admin, "oncall");
  await mutate(admin, "lab.inject", { name: "stop-host", args: ["kvm2"] });
  try {
    await page.emulateMedia({ colorScheme: "light" });
    // Signed in at desktop width (the user menu folds away on a phone), then the phone.
    await signIn(page, oncall.email, oncall.password);
    await page.setViewportSize(PHONE);
    await page.goto("/health");
    const card = page.getByTestId(`alert-${ALERT}`);
    // Pushed by alerts.watch once the check falls: no reload.
    await expect(card).toBeVisible({ timeout: 45_000 });
    await expect(card).toHaveAttribute("data-severity", "critical");
    await expect(card).toContainText("Host down");
    await expect(card.getByTestId("alert-target")).toHaveAttribute("href", "/hosts/kvm2");
    await expect(card).toContainText(/since .*(ago|just now)/);
    // kvm2 runs acme's instances: the card names them and the tenant.
    await expect(card.getByTestId("alert-tenants")).toContainText("acme");
    await shoot(page, "oncall-phone-light");

    await card.getByTestId("alert-ack-open").click();
    await page.getByTestId("alert-ack-note").fill("kvm2 lost power, DC hands on it");
    await page.getByTestId("confirm").click();
    await expect(card.getByTestId("alert-ack")).toContainText(`Acknowledged by ${oncall.name}`);
    await expect(card.getByTestId("alert-ack")).toContainText("kvm2 lost power, DC hands on it");
    await expect(card).toHaveAttribute("data-acknowledged", "true");
    // The host's health check carries the same acknowledgement.
    await expect(page.getByTestId("check-host:kvm2").getByTestId("ack")).toContainText("kvm2 lost power");
    // The swarm VM on kvm2 went down with it: silenced for an hour rather than acknowledged.
    const worker = page.getByTestId("alert-host-down|host:worker2");
    await expect(worker).toBeVisible();
    await worker.getByTestId("alert-silence-open").click();
    await page.getByTestId("silence-for").selectOption("60");
    await page.getByTestId("confirm").click();
    await expect(worker.getByTestId("alert-silenced")).toContainText(new RegExp(`Silenced by ${oncall.name}, ends in (59 min|1 h)`));
    await shoot(page, "oncall-phone-acknowledged-light");
    await inScheme(page, "dark");
    await expect(page.getByTestId(`alert-${ALERT}`).getByTestId("alert-ack")).toBeVisible();
    await shoot(page, "oncall-phone-acknowledged-dark");

    const audited = (await query(admin, "audit.list", { action: "alerts.acknowledge", limit: 5, offset: 0 })) as { records: { userName: string; inputSummary: unknown }[] };
    expect(audited.records[0]?.userName).toBe(oncall.name);
    expect(JSON.stringify(audited.records[0]?.inputSummary)).toContain("DC hands on it");
    // On-call staff have no channel settings page.
    await page.goto("/alerts");
    await expect(page.getByTestId("channels")).toHaveCount(0);
  } finally {
    await mutate(admin, "lab.inject", { name: "start-host", args: ["kvm2"] });
    await hostOnline(admin, "kvm2");
  }
  // Back up: the alert resolves and leaves the page.
  await page.goto("/health");
  await expect(page.getByTestId(`alert-${ALERT}`)).toHaveCount(0, { timeout: 30_000 });
  const resolved = page.getByTestId("alerts-resolved");
  await resolved.locator("summary").click();
  await expect(resolved).toContainText("kvm2 agent");
  await expect(resolved).toContainText(`acknowledged by ${oncall.name}`);
});

test("an admin adds a webhook channel, sends a test, and sees the delivery with the HTTP status", async ({ page }) => {
  const received: { signature: string | undefined; body: string }[] = [];
  const hook = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      received.push({ signature: req.headers["x-nimbus-signature"] as string | undefined, body });
      res.statusCode = 202;
      res.end();
    });
  });
  const port = await new Promise<number>((r) => hook.listen(0, "127.0.0.1", () => r((hook.address() as AddressInfo).port)));
  try {
    await page.setViewportSize(DESKTOP);
    await page.emulateMedia({ colorScheme: "light" });
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto("/alerts");
    await expect(page.getByTestId("rule-host-down")).toContainText("Host down");
    await page.getByTestId("channel-add").click();
    await page.getByLabel("Id").fill("e2e-hook");
    await page.getByLabel("Name").fill("E2E hook");
    await page.getByLabel("URL").fill(`http://127.0.0.1:${port}/nimbus`);
    await page.getByLabel("Signing key (optional)").fill("e2e-signing-key-000001");
    await page.getByTestId("channel-save").click();
    const row = page.getByTestId("channel-e2e-hook");
    await expect(row).toContainText("E2E hook");
    await expect(row).toContainText("…0001");
    await expect(row).not.toContainText("e2e-signing-key");
    await page.getByTestId("channel-test-e2e-hook").click();
    await expect(page.getByText("Test sent through e2e-hook (HTTP 202)")).toBeVisible();
    expect(received).toHaveLength(1);
    expect(received[0]!.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(JSON.parse(received[0]!.body).alert.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/alerts$/);
    await expect(page.getByTestId("deliveries")).toContainText("e2e-hook");
    await expect(page.getByTestId("deliveries")).toContainText("202");

    await page.getByTestId("rule-edit-host-down").click();
    await page.getByTestId("rule-dialog").getByLabel("e2e-hook").check();
    await page.getByTestId("rule-save").click();
    await expect(page.getByTestId("rule-host-down")).toContainText("e2e-hook");
    await shoot(page, "settings-desktop-light");
    await inScheme(page, "dark");
    await expect(page.getByTestId("rule-host-down")).toContainText("e2e-hook");
    await shoot(page, "settings-desktop-dark");
    await page.setViewportSize(PHONE);
    await shoot(page, "settings-phone-dark");
  } finally {
    hook.close();
  }
});
