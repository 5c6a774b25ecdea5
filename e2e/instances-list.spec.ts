import { test, expect, signIn, apiSignIn, ADMIN, mutate, query, seedUser } from "./fixtures.js";
import type { Page } from "@playwright/test";

/**
 * The Instances page asks the server for pages (instances.page): filters, search and sort live in
 * the URL and are answered by the server with counts; pages load by offset as the table needs them; a tenant
 * sees only its own. Screenshots go to docs/screenshots/instances-list-*.png.
 */
type Row = { name: string; host: string; tenant: string | null; state: string; memoryMiB: number; macs: string[] };
type Page1 = { items: Row[]; total: number; all: number };
const PHONE = { width: 390, height: 844 };
const shot = async (page: Page, name: string) => page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage: true, animations: "disabled" });
const rowNames = (page: Page) => page.locator('[data-testid^="instance-row-"]').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-testid")!.slice("instance-row-".length)));

test("filters, search and sort go to the server and the URL; counts say how many match", async ({ page, admin }) => {
  const everything = (await query(admin, "instances.page", { limit: 500 })) as Page1;
  expect(everything.total).toBeGreaterThan(5);
  const globex = everything.items.filter((i) => i.tenant === "globex");
  const requests: string[] = [];
  page.on("request", (r) => r.url().includes("instances.page") && requests.push(decodeURIComponent(r.url())));

  await page.setViewportSize({ width: 1440, height: 900 });
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/instances");
  await expect(page.getByText(`${everything.total} instances`, { exact: true })).toBeVisible();
  await expect.poll(() => rowNames(page)).toEqual(everything.items.map((i) => i.name));
  // The whole fleet is never asked for: the page reads pages.
  expect(requests.every((u) => u.includes('"limit":'))).toBe(true);

  // A tenant from the menu: the URL keeps it, the server filters and counts.
  await page.getByLabel("Tenant", { exact: true }).selectOption("globex");
  await expect(page).toHaveURL(/tenant=globex/);
  await expect(page.getByText(`${globex.length} of ${everything.total} instances`, { exact: true })).toBeVisible();
  await expect.poll(() => rowNames(page)).toEqual(globex.map((i) => i.name));
  expect(requests.some((u) => u.includes('"tenant":"globex"'))).toBe(true);

  // Sort by RAM, largest first (server order), still filtered.
  // A figure sorts largest first on its first click (the table's rule for numbers).
  await page.getByRole("button", { name: /^RAM/ }).click();
  await expect(page).toHaveURL(/sort=-memoryMiB/);
  const byRam = [...globex].sort((a, b) => b.memoryMiB - a.memoryMiB || (a.name < b.name ? -1 : 1)).map((i) => i.name);
  await expect.poll(() => rowNames(page)).toEqual(byRam);

  // Search by a MAC address (any case), from a shared URL.
  const web1 = everything.items.find((i) => i.name === "acme-web1")!;
  await page.goto(`/instances?q=${encodeURIComponent(web1.macs[0]!.toUpperCase())}`);
  await expect.poll(() => rowNames(page)).toEqual(["acme-web1"]);
  await expect(page.getByText(`1 of ${everything.total} instances`, { exact: true })).toBeVisible();
  await page.getByLabel("Search").fill("no-such-vm-anywhere");
  await expect(page.getByText("No instances match")).toBeVisible();
  await expect(page).toHaveURL(/q=no-such-vm-anywhere/);
});

test("pages load as the table needs them, in order, without gaps or repeats", async ({ page, admin }) => {
  const everything = (await query(admin, "instances.page", { limit: 500 })) as Page1;
  const pageRequests: string[] = [];
  page.on("request", (r) => r.url().includes("instances.page") && pageRequests.push(decodeURIComponent(r.url())));
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/instances?per=5");
  // Compared with what the server holds at each try: an earlier spec's work (an image build's
  // helper VM, a delete settling) may still change the fleet while this page loads.
  await expect
    .poll(async () => {
      const now = (await query(admin, "instances.page", { limit: 500 })) as Page1;
      const shown = await rowNames(page);
      const counted = await page.getByText(`${now.total} instances`, { exact: true }).count();
      return { same: JSON.stringify(shown) === JSON.stringify(now.items.map((i) => i.name)), counted, shown: shown.length };
    })
    .toMatchObject({ same: true, counted: 1 });
  expect(everything.total).toBeGreaterThan(10);
  // Pages of five, asked by offset: at least the offsets 0, 5 and 10 were asked for.
  for (const offset of [0, 5, 10]) expect(pageRequests.some((u) => u.includes(`"offset":${offset}`) && u.includes('"limit":5'))).toBe(true);
});

test("a tenant's page: its own instances only, host tokens, no host menu", async ({ page, admin }) => {
  const tenant = await seedUser(admin, "tenant", "acme");
  await signIn(page, tenant.email, tenant.password);
  await page.goto("/instances");
  await expect.poll(() => rowNames(page)).toEqual(["acme-db", "acme-web1", "acme-web2"]);
  await expect(page.getByText("3 instances", { exact: true })).toBeVisible();
  await expect(page.getByLabel("Host")).toHaveCount(0);
  await expect(page.getByTestId("instances-table")).not.toContainText("kvm");
  // Searching another tenant's or a host's name finds nothing.
  for (const term of ["globex", "kvm1"]) {
    await page.goto(`/instances?q=${term}`);
    await expect(page.getByText("No instances match")).toBeVisible();
  }
});

test("screenshots: desktop and phone, light and dark", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  for (const [viewport, device] of [[{ width: 1440, height: 900 }, "desktop"], [PHONE, "phone"]] as const) {
    await page.setViewportSize(viewport);
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto("/instances?state=running&sort=-memoryMiB");
      await expect(page.locator('[data-testid^="instance-row-"]').first()).toBeVisible();
      await shot(page, `instances-list-${device}-${scheme}`);
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
});

test("the Hosts page: role and connection filters and sort go to the server, with counts", async ({ page, admin }) => {
  type Host = { name: string; roles: string[]; state: string; cpuUsagePct: number | null };
  const everything = (await query(admin, "hosts.page", { limit: 500 })) as { items: Host[]; total: number };
  const storage = everything.items.filter((h) => h.roles.includes("storage")).map((h) => h.name);
  expect(storage.length).toBeGreaterThan(0);
  const hostRows = () => page.locator('[data-testid^="host-row-"]').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-testid")!.slice("host-row-".length)));
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.goto("/hosts");
  await expect(page.getByText(`${everything.total} hosts`, { exact: true })).toBeVisible();
  await expect.poll(hostRows).toEqual(everything.items.map((h) => h.name));
  await page.getByLabel("Role").selectOption("storage");
  await expect(page).toHaveURL(/role=storage/);
  await expect(page.getByText(`${storage.length} of ${everything.total} hosts`, { exact: true })).toBeVisible();
  await expect.poll(hostRows).toEqual(storage);
  await page.goto("/hosts?q=kvm&sort=-name");
  await expect.poll(hostRows).toEqual(everything.items.map((h) => h.name).filter((n) => n.includes("kvm")).reverse());
  // Pages by offset (three hosts a request): every host once, in the server's order, no gap or repeat at a seam.
  const requests: string[] = [];
  page.on("request", (r) => r.url().includes("hosts.page") && requests.push(decodeURIComponent(r.url())));
  await page.goto("/hosts?per=5");
  await expect.poll(hostRows).toEqual(everything.items.map((h) => h.name));
  expect(everything.total).toBeGreaterThan(5);
  expect(requests.some((u) => u.includes('"offset":5') && u.includes('"limit":5'))).toBe(true);
});

test("a row's menu stays open through live changes of another row and of its own", async ({ page, admin }) => {
  // Two running VMs no other spec depends on being up (they are started again at the end).
  const [a, b] = ["initech-ci", "initech-files"];
  const running = (await query(admin, "instances.page", { state: "running", tenant: "initech", limit: 50 })) as Page1;
  expect(running.items.map((i) => i.name)).toEqual(expect.arrayContaining([a, b]));
  await signIn(page, ADMIN.email, ADMIN.password);
  const row = (name: string) => page.getByTestId(`instance-row-${name}`);
  const openMenu = async (name: string) => {
    await page.getByRole("button", { name: `Actions for ${name}` }).click();
    const menu = page.getByRole("menu");
    await expect(menu).toBeVisible();
    // Marked in the DOM: a remounted menu (or row) would come back without the mark, or not at all.
    await menu.evaluate((el) => el.setAttribute("data-e2e-mark", "kept"));
    return menu;
  };
  try {
    // Filtered to running VMs: b stopping leaves the filter, so the loaded pages are asked again.
    await page.goto("/instances?state=running");
    await expect(row(b!)).toBeVisible();
    const menu = await openMenu(a!);
    await mutate(admin, "instances.power", { name: b, action: "destroy" });
    await expect(row(b!)).toHaveCount(0);
    await expect(menu).toHaveAttribute("data-e2e-mark", "kept");
    await expect(page.getByTestId("action-shutdown")).toBeVisible();
    await page.keyboard.press("Escape");

    // Unfiltered: a's own state changes under its open menu; the menu stays and offers what now applies.
    await page.goto("/instances");
    const own = await openMenu(a!);
    await mutate(admin, "instances.power", { name: a, action: "destroy" });
    await expect(row(a!)).toContainText("Shut off");
    await expect(own).toHaveAttribute("data-e2e-mark", "kept");
    // The item is there to click (not detached): Start powers it on again.
    await page.getByTestId("action-start").click();
    await expect(row(a!)).toContainText("Running");
  } finally {
    for (const name of [a, b]) {
      const now = (await query(admin, "instances.page", { q: name, limit: 5 })) as Page1;
      if (now.items.find((i) => i.name === name)?.state !== "running") await mutate(admin, "instances.power", { name, action: "start" });
    }
  }
});

/** The inputs of every call of a procedure in tRPC GET requests, batched (`a,b?batch=1&input={"0":…,"1":…}`) or not. */
function pageInputs(urls: string[], path: string): { offset?: number; limit?: number }[] {
  const inputs: { offset?: number; limit?: number }[] = [];
  for (const u of urls) {
    const url = new URL(u);
    if (!url.pathname.startsWith("/api/trpc/")) continue;
    const paths = decodeURIComponent(url.pathname.slice("/api/trpc/".length)).split(",");
    const raw = url.searchParams.get("input");
    if (!paths.includes(path) || raw === null) continue;
    const input = JSON.parse(raw) as Record<string, { offset?: number; limit?: number }>;
    paths.forEach((p, i) => {
      if (p === path) inputs.push(url.searchParams.get("batch") === "1" ? input[String(i)]! : (input as { offset?: number; limit?: number }));
    });
  }
  return inputs;
}

test("the Operations, Moves and Health pages: filters in the URL, answered by the server with counts", async ({ page, admin }) => {
  type Ops = { items: { id: string; kind: string; state: string }[]; total: number; all: number };
  await signIn(page, ADMIN.email, ADMIN.password);
  const requests: string[] = [];
  const rawRequests: string[] = [];
  page.on("request", (r) => {
    rawRequests.push(r.url());
    requests.push(decodeURIComponent(r.url()));
  });

  const all = (await query(admin, "operations.page", { limit: 500 })) as Ops;
  const migrations = (await query(admin, "operations.page", { kind: "migrate", limit: 500 })) as Ops;
  // Pages by offset: rows in the server's order whatever the page size (here five rows a request).
  await page.goto("/operations?per=5");
  const opRows = () => page.locator('[data-testid^="operation-row-"]').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-testid")!.slice("operation-row-".length)));
  const byServer = ((await query(admin, "operations.page", { limit: 500 })) as Ops).items.map((o) => o.id);
  // The rows drawn (all of them, or the window of a long list) are the server's first rows, in order.
  await expect.poll(async () => ((rows) => rows.length >= Math.min(byServer.length, 10) && JSON.stringify(rows) === JSON.stringify(byServer.slice(0, rows.length)))(await opRows())).toBe(true);
  // A five-row page asked by offset for every five rows drawn (a long list loads only its window).
  // Counted by the pages asked, not by HTTP requests: tRPC batches the pages one render asks for
  // into one request (two pages in one request was a CI flake of counting requests).
  const pages = pageInputs(rawRequests, "operations.page").filter((i) => i.limit === 5);
  expect(pages.every((i) => Number.isInteger(i.offset))).toBe(true);
  const asked = new Set(pages.map((i) => i.offset));
  const drawn = (await opRows()).length;
  for (let offset = 0; offset < drawn; offset += 5) expect(asked, `the page at offset ${offset} of ${drawn} rows drawn`).toContain(offset);
  await page.goto("/operations?kind=migrate");
  await expect(page.getByLabel("Kind")).toHaveValue("migrate");
  await expect(page.getByText(migrations.total === all.all ? `${all.all} operations` : `${migrations.total} of ${all.all} operations`, { exact: true })).toBeVisible();
  expect(requests.some((u) => u.includes("operations.page") && u.includes('"kind":"migrate"'))).toBe(true);
  await page.getByLabel("Search").fill("no-such-operation-anywhere");
  await expect(page).toHaveURL(/q=no-such-operation-anywhere/);
  await expect(page.getByText("No operations match")).toBeVisible();

  await page.goto("/moves?kind=migrate");
  await expect(page.getByLabel("Kind")).toHaveValue("migrate");
  await expect.poll(() => requests.some((u) => u.includes("history.movesPage") && u.includes('"kind":"migrate"'))).toBe(true);
  // Pickers ask for a few names; the fleet's lists are never loaded.
  await page.getByLabel("Instance").fill("acme");
  await expect(page).toHaveURL(/instance=acme/);
  expect(requests.some((u) => /instances\.list|hosts\.list/.test(u))).toBe(false);

  await page.goto("/health?problems=1");
  await expect(page.getByTestId("health-summary")).toBeVisible();
  await expect.poll(() => requests.some((u) => u.includes("health.page") && u.includes('"problems":true'))).toBe(true);
  expect(requests.some((u) => /health\.list|hosts\.list/.test(u))).toBe(false);
  // Longer than a page (five checks a request here): the cards in view by offset, in the server's order, skeletons until their page is in.
  const checks = ((await query(admin, "health.page", { limit: 500 })) as { items: { id: string }[]; total: number }).items.map((c) => c.id);
  expect(checks.length).toBeGreaterThan(5);
  await page.goto("/health?per=5");
  const cards = () => page.getByTestId("health-checks").locator('[data-testid^="check-"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-testid")!.slice("check-".length)));
  await expect.poll(async () => ((shown) => shown.length >= Math.min(checks.length, 10) && JSON.stringify(shown) === JSON.stringify(checks.slice(0, shown.length)))(await cards())).toBe(true);
  expect(requests.some((u) => u.includes("health.page") && u.includes('"offset":5') && u.includes('"limit":5'))).toBe(true);
  await page.mouse.move(0, 0);
  await shot(page, "lists-health-paged-desktop-light");

  // The audit log by offset too (five records a request): newest first, as the server lists them.
  for (let k = 0; k < 4; k++) await apiSignIn(admin, ADMIN.email, ADMIN.password);
  const records = ((await query(admin, "audit.list", { limit: 200 })) as { records: { id: number }[] }).records.map((r) => String(r.id));
  expect(records.length).toBeGreaterThan(5);
  await page.goto("/audit?per=5");
  const auditRows = () => page.locator('[data-testid^="audit-row-"]').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-testid")!.slice("audit-row-".length)));
  // The rows drawn (all of them, or the window of a long log) are the server's first records, in order (this page's own sign-ins may come on top).
  await expect.poll(async () => ((rows) => rows.length > 5 && JSON.stringify(rows) === JSON.stringify(records.slice(0, rows.length)))((await auditRows()).filter((id) => Number(id) <= Number(records[0])))).toBe(true);
  expect(requests.some((u) => u.includes("audit.list") && u.includes('"limit":5') && u.includes('"offset":5'))).toBe(true);
  // One load per page, its four looks (desktop and phone, light and dark) without reloading it.
  for (const [path, name] of [["/hosts", "hosts"], ["/operations", "operations"], ["/moves", "moves"], ["/health", "health"], ["/audit", "audit"]] as const) {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(path);
    await expect(page.getByText(/\d+ (hosts?|operations?|moves?|checks?|records)$/).first()).toBeVisible();
    for (const [viewport, device] of [[{ width: 1440, height: 900 }, "desktop"], [PHONE, "phone"]] as const) {
      await page.setViewportSize(viewport);
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.mouse.move(0, 0);
        await shot(page, `lists-${name}-${device}-${scheme}`);
      }
    }
    await page.emulateMedia({ colorScheme: "light" });
  }
});
