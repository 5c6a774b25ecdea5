import { fileURLToPath } from "node:url";
import type { Locator, Page } from "@playwright/test";
import { test, expect, signIn, ADMIN, mutate, query, seedUser } from "./fixtures.js";

/**
 * The screens tell the truth: a powered-off host's VMs are not shown as running, detail panels
 * follow a move without a reload, the map and the tables work on a phone. Screenshots at
 * desktop and phone width go to docs/screenshots/ for people to look at.
 */
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
const shot = (name: string) => fileURLToPath(new URL(`../docs/screenshots/hardening-${name}.png`, import.meta.url));

interface Instance {
  name: string;
  host: string;
  state: string;
  tenant: string | null;
  diskPaths: string[];
}
interface Operation {
  id: string;
  state: string;
}

const instances = (admin: Parameters<typeof query>[0]) => query(admin, "instances.list", {}) as Promise<Instance[]>;

/** Waits for an operation to end as the API reports it. */
async function settled(admin: Parameters<typeof query>[0], op: Operation, timeout = 90_000) {
  await expect
    .poll(async () => ((await query(admin, "operations.get", { id: op.id })) as Operation).state, { timeout })
    .toMatch(/succeeded|failed|cancelled/);
  return ((await query(admin, "operations.get", { id: op.id })) as Operation).state;
}

/** Inside the phone's width, left to right (below the fold is fine: people scroll down, not sideways). */
async function expectWithinWidth(locator: Locator, what: string) {
  await expect(locator, what).toBeVisible();
  const box = (await locator.boundingBox())!;
  expect(box.x, `${what} starts in view`).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width, `${what} ends in view`).toBeLessThanOrEqual(PHONE.width);
}

/** A reload would drop this mark: what a test sees after it came over the live channel. */
const markPage = (page: Page) => page.evaluate("window.__noReload = true");
const notReloaded = async (page: Page) => expect(await page.evaluate("window.__noReload === true")).toBe(true);

test.describe("a powered-off host", () => {
  let wereRunning: string[] = [];
  test.afterEach(async ({ admin }) => {
    await mutate(admin, "lab.inject", { name: "start-host", args: ["kvm2"] }).catch(() => undefined);
    // Its VMs start again (autostart) before the next spec relies on them.
    await expect
      .poll(async () => (await instances(admin)).filter((i) => wereRunning.includes(i.name) && i.state !== "running").map((i) => i.name), { timeout: 60_000 })
      .toEqual([]);
  });

  test("its VMs read Unknown everywhere, are not counted as running, and the migrate dialog refuses them", async ({ page, admin, browser }) => {
    test.setTimeout(120_000);
    const before = await instances(admin);
    wereRunning = before.filter((i) => i.state === "running").map((i) => i.name);
    const onKvm2 = before.filter((i) => i.host === "kvm2" && i.state === "running");
    const vm = onKvm2.find((i) => i.tenant === "acme") ?? onKvm2[0]!;
    expect(vm, "a running VM on kvm2").toBeTruthy();

    // The dialog is open when the host goes: it must not keep saying every check passes.
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.goto(`/instances/${vm.name}`);
    await markPage(page);
    await page.getByTestId("migrate-button").click();
    const target = page.getByTestId("target-kvm1");
    await expect(target).toBeVisible();
    await expect(target).not.toContainText("Blocked");

    await mutate(admin, "lab.inject", { name: "stop-host", args: ["kvm2"] });
    await expect(target).toContainText("Blocked");
    await expect(target).toContainText(`${vm.name}'s state is unknown: its host kvm2 is unreachable`);
    await expect(page.getByTestId("migrate-start")).toBeDisabled();
    await page.keyboard.press("Escape");

    // The instance page: a grey badge, no Live migrate, no Start.
    const badge = page.locator('[data-tone="unknown"]', { hasText: "Unknown — host unreachable" }).first();
    await expect(badge).toBeVisible();
    await expect(page.getByTestId("migrate-button")).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Start", exact: true })).toHaveCount(0);
    await notReloaded(page);

    // The list: every VM of kvm2 unknown, none green.
    await page.goto("/instances");
    for (const i of before.filter((x) => x.host === "kvm2")) {
      const row = page.getByTestId(`instance-row-${i.name}`);
      await expect(row).toContainText("Unknown — host unreachable");
      await expect(row.locator('[data-tone="ok"]')).toHaveCount(0);
    }
    await page.screenshot({ path: shot("host-off-instances-desktop"), fullPage: true });

    // The host page: nothing running on it as far as anyone knows.
    await page.goto("/hosts/kvm2");
    await expect(page.getByRole("heading", { name: new RegExp(`^Virtual machines \\(0 running of ${before.filter((x) => x.host === "kvm2").length}\\)`) })).toBeVisible();
    await expect(page.getByTestId(`instance-row-${vm.name}`)).toContainText("Unknown — host unreachable");

    // The Overview counts them apart.
    const kvm2Count = before.filter((x) => x.host === "kvm2").length;
    const running = before.filter((x) => x.host !== "kvm2" && x.state === "running").length;
    await page.goto("/");
    const stats = page.getByTestId("overview-stats");
    await expect(stats).toContainText(`${running} / ${before.length}`);
    await expect(stats).toContainText(`${kvm2Count} unknown (host unreachable)`);
    await page.screenshot({ path: shot("host-off-overview-desktop"), fullPage: true });
    await page.setViewportSize(PHONE);
    await page.goto("/instances");
    await expect(page.getByTestId(`instance-row-${vm.name}`)).toContainText("Unknown — host unreachable");
    await page.screenshot({ path: shot("host-off-instances-phone"), fullPage: true });
    await page.setViewportSize(DESKTOP);

    // The server refuses it too, with the same reason.
    const preflight = (await query(admin, "instances.preflight", { name: vm.name })) as { destinations: { verdict: string }[] };
    expect(preflight.destinations.every((d) => d.verdict === "fail")).toBe(true);

    // A tenant sees its VM unknown as well, in the dark theme on a phone.
    const tenant = await seedUser(admin, "tenant", vm.tenant ?? "acme");
    const context = await browser.newContext({ viewport: DESKTOP, colorScheme: "dark" });
    const tenantPage = await context.newPage();
    await signIn(tenantPage, tenant.email, tenant.password);
    await tenantPage.setViewportSize(PHONE);
    await tenantPage.goto("/instances");
    const tenantRow = tenantPage.getByTestId(`instance-row-${vm.name}`);
    await expect(tenantRow).toContainText("Unknown — host unreachable");
    await tenantPage.screenshot({ path: shot("host-off-tenant-phone-dark"), fullPage: true });
    await context.close();
  });
});

test.describe("detail panels after a move", () => {
  test("a host's Bridges and ports and an instance's Disks follow a migration and a disk move without a reload", async ({ page, admin, context }) => {
    test.setTimeout(180_000);
    const all = await instances(admin);
    const vm = all.find((i) => i.name === "acme-web1")!;
    const source = vm.host;
    const destination = source === "kvm1" ? "kvm2" : "kvm1";

    await signIn(page, ADMIN.email, ADMIN.password);
    const sourcePage = page;
    const destinationPage = await context.newPage();
    await sourcePage.goto(`/hosts/${source}`);
    await destinationPage.goto(`/hosts/${destination}`);
    const portOf = (p: Page) => p.locator('[data-testid^="bridge-"]').getByRole("link", { name: vm.name, exact: true });
    await expect(portOf(sourcePage)).toHaveCount(1);
    await expect(portOf(destinationPage)).toHaveCount(0);
    await markPage(sourcePage);
    await markPage(destinationPage);

    const migration = (await mutate(admin, "instances.migrate", { instance: vm.name, destination, options: {} })) as Operation;
    expect(await settled(admin, migration)).toBe("succeeded");
    await expect(portOf(sourcePage)).toHaveCount(0);
    await expect(portOf(destinationPage)).toHaveCount(1);
    await notReloaded(sourcePage);
    await notReloaded(destinationPage);
    await destinationPage.getByText("Bridges and ports").scrollIntoViewIfNeeded();
    await destinationPage.screenshot({ path: shot("panel-after-move-desktop"), fullPage: true });
    await destinationPage.close();

    // The disk moves to another datastore while its page is open.
    const targets = (await query(admin, "datastores.moveTargets", { instance: vm.name, disk: "vda" })) as { datastore: string; verdict: string }[];
    const to = targets.find((t) => t.verdict !== "fail")!.datastore;
    await page.goto(`/instances/${vm.name}`);
    await expect(page.getByText(vm.diskPaths[0]!, { exact: true })).toBeVisible();
    await markPage(page);
    const move = (await mutate(admin, "datastores.moveDisk", { instance: vm.name, disk: "vda", datastore: to, bandwidthMiBps: 5000 })) as Operation;
    expect(await settled(admin, move)).toBe("succeeded");
    await expect(page.getByText(new RegExp(`^${to}/`)).first()).toBeVisible();
    await expect(page.getByText(vm.diskPaths[0]!, { exact: true })).toHaveCount(0);
    await notReloaded(page);
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: shot("panel-after-move-phone"), fullPage: true });
  });
});

test.describe("on a phone", () => {
  // Signed in at desktop width (the user menu the sign-in waits for sits in the sidebar), then a phone.
  test.beforeEach(async ({ page }) => {
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.setViewportSize(PHONE);
  });

  test("the network map draws at 390 px and on a tablet", async ({ page }) => {
    await page.goto("/network");
    const map = page.getByTestId("network-map");
    await expect(map).toContainText("acme-web1");
    const pane = map.locator(".react-flow");
    expect((await pane.boundingBox())!.height).toBeGreaterThan(300);
    await expect(map.getByTestId("rf__node-host:kvm1")).toBeInViewport();
    await page.screenshot({ path: shot("network-map-phone"), fullPage: true });

    await page.setViewportSize({ width: 800, height: 1100 });
    await expect(map.getByTestId("rf__node-host:kvm1")).toBeInViewport();
    expect((await pane.boundingBox())!.height).toBeGreaterThan(300);
  });

  /** Each table keeps its name, state and primary action in view, without scrolling sideways. */
  const TABLES: { path: string; table: string; headers: string[]; action?: string }[] = [
    { path: "/instances", table: "instances-table", headers: ["Instance", "State"], action: "Actions for" },
    { path: "/hosts", table: "hosts-table", headers: ["Host", "Connection", "VMs"], action: "Actions for" },
    { path: "/operations", table: "operations-table", headers: ["Operation", "State"] },
    { path: "/swarm", table: "swarm-services", headers: ["Service", "Replicas"], action: "Scale" },
    { path: "/swarm", table: "swarm-nodes", headers: ["Node", "Status", "Availability"], action: "Availability of" },
    { path: "/moves", table: "moves-table", headers: ["Instance", "Result"] },
    { path: "/storage", table: "datastores", headers: ["Path", "Level"] },
    { path: "/network?view=tables", table: "vni-table", headers: ["VNI", "Mesh"] },
    { path: "/network?view=tables", table: "vlan-table", headers: ["VLAN", "Tenants"] },
    { path: "/network?view=tables", table: "tenant-network-table", headers: ["Tenant", "VNI"] },
  ];

  test("every table keeps its key columns at 390 px", async ({ page, admin }) => {
    test.setTimeout(120_000);
    // Something in the operations and moves lists (the move test above leaves some; alone, this makes one).
    const moves = (await query(admin, "history.moves", { limit: 1 })) as unknown[];
    if (!moves.length) {
      const vm = (await instances(admin)).find((i) => i.name === "acme-web1")!;
      await settled(admin, (await mutate(admin, "instances.migrate", { instance: vm.name, destination: vm.host === "kvm1" ? "kvm2" : "kvm1", options: {} })) as Operation);
    }
    for (const t of TABLES) {
      await page.goto(t.path);
      const table = page.getByTestId(t.table);
      await expect(table.locator("tbody tr").first()).toBeVisible();
      for (const h of t.headers) {
        const header = table.getByRole("columnheader", { name: h, exact: true });
        await expect(header, `${t.table}: ${h}`).toBeVisible();
        await expectWithinWidth(header, `${t.table}: ${h}`);
      }
      if (t.action) await expectWithinWidth(table.locator("tbody tr").getByRole("button", { name: new RegExp(`^${t.action}`) }).first(), `${t.table}: ${t.action}`);
      // Nothing to scroll sideways to: what is left out was left out on purpose.
      // (A plain table's scroll container is its parent.)
      const overflow = await table.evaluate((el) => Math.max(el.scrollWidth - el.clientWidth, el.parentElement!.scrollWidth - el.parentElement!.clientWidth));
      expect(overflow, `${t.table} scrolls sideways by ${overflow} px`).toBeLessThanOrEqual(1);
      await page.screenshot({ path: shot(`phone-${t.table}`), fullPage: true });
    }

    // An instance's disks keep their path and the Move… button in view.
    await page.goto("/instances/acme-web1");
    await expectWithinWidth(page.getByTestId("move-disk-vda"), "Move… of a disk");
    const path = (await instances(admin)).find((i) => i.name === "acme-web1")!.diskPaths[0]!;
    await expectWithinWidth(page.getByText(path, { exact: true }), "a disk's path");
  });
});
