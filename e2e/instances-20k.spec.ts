import { test, expect, request as playwrightRequest, type APIRequestContext, type Browser, type Page, type Route } from "@playwright/test";
import { fileURLToPath } from "node:url";
import { ADMIN } from "./fixtures.js";
import { startGeneratedFleet, type GeneratedFleet } from "./generated-fleet.js";

/**
 * The Instances page at 20,000 VMs (issue 16): a server of its own over a generated lab of 200
 * hypervisors × 100 VMs (plus the default scenario's three swarm VMs). The page shows the count,
 * sizes the table to it, and loads pages by offset under the rows in view: End, Ctrl+End, Home and
 * a scrollbar dropped in the middle land on the right rows (the server's order, no gap or repeat)
 * after one or two page loads, with placeholders, never wrong rows, until they arrive; the DOM and
 * frame gaps stay bounded; a typed filter shows exactly the rows and count a brute-force filter
 * over the whole fleet gives. The figures are printed.
 */
const HOSTS = 200;
const VMS_PER_HOST = 100;
const INFRA_VMS = 3; // the swarm's manager and two workers, kept from the default scenario
const EXPECTED = HOSTS * VMS_PER_HOST + INFRA_VMS;
const PHONE = { width: 390, height: 844 };
/**
 * "Smoothly", as a test on a shared 2-core machine can say it without flaking: p50 is one frame
 * (16.7 ms); the tail is the frames on which a page of 500 rows arrives (CI measured p95 83 ms).
 */
const FRAME_GAP_P95_MS = 150;
/** Rows in the DOM at any time (the table is virtualized; 20,000 rendered rows would be ~20,000). */
const MAX_DOM_ROWS = 300;
/** From the last key typed to the matching rows and count on screen (the page debounces 200 ms). */
const FILTER_MS = 3_000;
/** From a key (End, Home) or a dropped scrollbar to the right rows on screen. */
const JUMP_MS = 10_000;
/** Page requests a jump may make (the pages under the window: one batch, two at most, and one spare). */
const MAX_JUMP_REQUESTS = 3;
/** Wheel steps over the first rows before the jumps (frame by frame, the pages ahead load as they come into view). */
const WHEELS = 6;

type Row = { name: string; host: string; tenant: string | null; role: string | null; vlans: number[]; vni: number | null; ipAddresses: string[]; macs: string[]; diskPaths: string[] };
type Page1 = { items: Row[]; total: number; all: number; offset: number };

/**
 * Two screenshots of a jump: while the pages under the new window are held back (placeholders
 * where the rows will be), then at the last rows once they arrived.
 */
async function jumpShots(page: Page, name: string, scheme: "light" | "dark") {
  await page.emulateMedia({ colorScheme: scheme });
  await page.goto("/instances");
  await expect(page.getByText(`${label(EXPECTED)} instances`, { exact: true })).toBeVisible();
  await expect(page.locator('[data-testid^="instance-row-"]').first()).toBeVisible();
  await page.mouse.move(0, 0); // no row under a hover
  const held: Route[] = [];
  let holding = true;
  const hold = (url: URL) => url.pathname.includes("instances.page");
  await page.route(hold, (route) => (holding ? void held.push(route) : route.continue()));
  const table = page.getByTestId("instances-table");
  await table.evaluate((el) => (el.scrollTop = el.scrollHeight * 0.6));
  await expect.poll(() => held.length).toBeGreaterThan(0);
  await expect(table.getByTestId("row-placeholder").first()).toBeVisible();
  await page.screenshot({ path: shot(`${name}-jump`) });
  holding = false;
  for (const route of held) await route.continue();
  await page.unroute(hold);
  await table.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(page.getByTestId(`instance-row-${everything.at(-1)!.name}`)).toBeVisible();
  await expect(table.getByTestId("row-placeholder")).toHaveCount(0);
  await page.screenshot({ path: shot(`${name}-end`) });
}

const shot = (name: string) => fileURLToPath(new URL(`../docs/screenshots/instances-20k-${name}.png`, import.meta.url));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] ?? NaN;
const label = (n: number) => n.toLocaleString("en");

/** The search as the page documents it: a number matches a VLAN or VNI exactly, any text a part of name, tenant, role, IP, MAC, disk or host. */
function bruteForce(rows: readonly Row[], term: string): Row[] {
  const q = term.trim().toLowerCase();
  return rows.filter((i) => {
    if (/^\d+$/.test(q) && (i.vlans.includes(Number(q)) || i.vni === Number(q))) return true;
    return [i.name, i.tenant ?? "", i.role ?? "", ...i.ipAddresses, ...i.macs, ...i.diskPaths, i.host].some((s) => s.toLowerCase().includes(q));
  });
}

let fleet: GeneratedFleet;
let api: APIRequestContext;
let storageState: Awaited<ReturnType<APIRequestContext["storageState"]>>;
/** Every instance, in the server's default order (by name), paged through the API. */
let everything: Row[];

async function query(path: string, input: unknown) {
  const res = await api.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`);
  const body = await res.json();
  if (!res.ok()) throw new Error(`${path}: ${JSON.stringify(body.error?.message ?? body)}`);
  return body.result.data;
}

async function signedInPage(browser: Browser, viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ baseURL: fleet.url, storageState, viewport });
  const page = await context.newPage();
  // Frame gaps as the page sees them: requestAnimationFrame deltas while a recording runs.
  await page.addInitScript(() => {
    const w = window as unknown as { __frames?: { start(): void; stop(): number[] } };
    let gaps: number[] = [];
    let on = false;
    let last = 0;
    const tick = (t: number) => {
      if (!on) return;
      if (last) gaps.push(t - last);
      last = t;
      requestAnimationFrame(tick);
    };
    w.__frames = {
      start() {
        gaps = [];
        last = 0;
        on = true;
        requestAnimationFrame(tick);
      },
      stop() {
        on = false;
        return gaps;
      },
    };
  });
  return page;
}

/** What the table holds now: the rendered rows' names, placeholders, every <tr> it has, and where its scroll is. */
const tableState = (page: Page) =>
  page.getByTestId("instances-table").evaluate((el) => ({
    names: [...el.querySelectorAll('[data-testid^="instance-row-"]')].map((r) => r.getAttribute("data-testid")!.slice("instance-row-".length)),
    placeholders: el.querySelectorAll('[data-testid="row-placeholder"]').length,
    trs: el.querySelectorAll("tr").length,
    atEnd: el.scrollTop + el.clientHeight >= el.scrollHeight - 2,
    scrollTop: el.scrollTop,
    scrollHeight: el.scrollHeight,
    clientHeight: el.clientHeight,
  }));

test.describe.configure({ mode: "serial" });
// Hundreds of scroll steps: a trace of each would cost more than the page under test.
test.use({ trace: "off" });

test.beforeAll(async () => {
  test.setTimeout(150_000);
  // NIMBUS_E2E_FLEET_URL: a generated fleet of this size already running (while working on this spec).
  const running = process.env.NIMBUS_E2E_FLEET_URL;
  fleet = running
    ? { url: running, readyMs: 0, cpuSeconds: () => ({ lab: NaN, server: NaN }), stop: async () => {} }
    : await startGeneratedFleet({ hosts: HOSTS, vmsPerHost: VMS_PER_HOST, adminPassword: ADMIN.password, timeoutMs: 120_000 });
  api = await playwrightRequest.newContext({ baseURL: fleet.url });
  const res = await api.post("/api/auth/sign-in/email", { data: ADMIN, headers: { origin: fleet.url } });
  expect(res.status(), await res.text()).toBe(200);
  storageState = await api.storageState();
  // Inventory is in once every host is online; page through it all (the brute-force reference).
  const pageThrough = async () => {
    const first = (await query("instances.page", { limit: 500 })) as Page1;
    const rest = await Promise.all(
      Array.from({ length: Math.ceil(first.total / 500) - 1 }, (_, k) => query("instances.page", { offset: (k + 1) * 500, limit: 500 }) as Promise<Page1>),
    );
    return { total: first.total, items: [first, ...rest].flatMap((p) => p.items) };
  };
  const paging = Date.now();
  let all = await pageThrough();
  await expect.poll(async () => (all = await pageThrough()).total, { timeout: 30_000 }).toBe(EXPECTED);
  everything = all.items;
  expect(new Set(everything.map((i) => i.name)).size).toBe(EXPECTED);
  const cpu = fleet.cpuSeconds();
  console.log(
    `20k fleet: ${HOSTS} hosts × ${VMS_PER_HOST} VMs + ${INFRA_VMS}: lab and server up, every host connected in ${(fleet.readyMs / 1000).toFixed(1)} s; ` +
      `paged through by the API in ${((Date.now() - paging) / 1000).toFixed(1)} s; CPU so far: server ${cpu.server.toFixed(1)} s, lab ${cpu.lab.toFixed(1)} s`,
  );
});

test.afterAll(async () => {
  const cpu = fleet?.cpuSeconds();
  if (cpu) console.log(`20k fleet CPU in all: server ${cpu.server.toFixed(1)} s, lab ${cpu.lab.toFixed(1)} s`);
  await api?.dispose();
  await fleet?.stop();
});

test("20,000 VMs: the count, End / Ctrl+End / Home / a dropped scrollbar land on the right rows in one or two page loads, bounded DOM and frame gaps", async ({ browser }) => {
  test.setTimeout(60_000);
  const page = await signedInPage(browser, { width: 1440, height: 900 });
  const order = everything.map((i) => i.name);
  const at = new Map(order.map((n, k) => [n, k]));
  const requests: string[] = [];
  page.on("request", (r) => r.url().includes("instances.page") && requests.push(decodeURIComponent(r.url())));

  // Pages of 500 (the most the server gives).
  await page.goto("/instances?per=500");
  await expect(page.getByText(`${label(EXPECTED)} instances`, { exact: true })).toBeVisible();
  await expect(page.getByTestId(`instance-row-${order[0]}`)).toBeVisible();
  const table = page.getByTestId("instances-table");
  // Sized to the count from the first page: 20,003 rows of scroll already.
  const sized = await tableState(page);
  expect(sized.scrollHeight).toBeGreaterThan(EXPECTED * 30);

  let maxTrs = 0;
  /** The rendered rows are one unbroken run of the server's order (placeholders may stand for some); returns the first's index. */
  const check = async () => {
    const s = await tableState(page);
    maxTrs = Math.max(maxTrs, s.trs);
    if (!s.names.length) return { s, first: -1 };
    const first = at.get(s.names[0]!) ?? -1;
    expect(first, `row ${s.names[0]} is not in the server's list`).toBeGreaterThanOrEqual(0);
    expect(s.names).toEqual(order.slice(first, first + s.names.length));
    return { s, first };
  };
  /** After a jump: the rows under the window arrive (no placeholder left), in order; the requests it took. */
  const landed = async (what: string, want: (first: number, s: Awaited<ReturnType<typeof tableState>>) => boolean) => {
    const before = requests.length;
    const t0 = Date.now();
    await expect
      .poll(
        async () => {
          const { s, first } = await check();
          return s.placeholders === 0 && first >= 0 && want(first, s);
        },
        { timeout: JUMP_MS, intervals: [16, 16, 32, 50, 100] },
      )
      .toBe(true);
    const ms = Date.now() - t0;
    const asked = requests.length - before;
    figures.push(`${what}: ${asked} page requests, ${ms} ms`);
    expect(asked, `${what}: ${requests.slice(before).join("\n")}`).toBeLessThanOrEqual(MAX_JUMP_REQUESTS);
  };
  const figures: string[] = [];

  // A click on a plain cell: the keyboard now scrolls this table.
  const box = (await table.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.getByTestId(`instance-row-${order[0]}`).locator("td").nth(4).click();
  const began = Date.now();
  await page.evaluate(() => (window as unknown as { __frames: { start(): void } }).__frames.start());
  // The wheel over the first rows: frame by frame, in order.
  for (let k = 0; k < WHEELS; k++) {
    await page.mouse.wheel(0, 2_500);
    await check();
  }
  // End: the last rows of 20,003, after one or two page loads.
  await page.keyboard.press("End");
  await landed("End", (_first, s) => s.atEnd && s.names.at(-1) === order.at(-1));
  // Home, then Ctrl+End: the first page is still there; the last pages are cached.
  await page.keyboard.press("Home");
  await landed("Home", (first) => first === 0);
  await page.keyboard.press("Control+End");
  await landed("Ctrl+End", (_first, s) => s.atEnd && s.names.at(-1) === order.at(-1));
  // The scrollbar dropped in the middle: the rows at that position (the same share of the count as of the height).
  const { middle, share } = await table.evaluate((el) => {
    el.scrollTop = Math.round(el.scrollHeight / 2);
    return { middle: el.scrollTop, share: el.scrollTop / el.scrollHeight };
  });
  await landed("scrollbar to the middle", (first) => Math.abs(first - share * EXPECTED) < 100);
  // PageDown from there moves on by a screenful, in order.
  await page.keyboard.press("PageDown");
  await expect.poll(async () => (await tableState(page)).scrollTop).toBeGreaterThan(middle);
  await landed("PageDown", () => true);
  const gaps = await page.evaluate(() => (window as unknown as { __frames: { stop(): number[] } }).__frames.stop());
  const ms = Date.now() - began;
  console.log(
    `20k jumps: ${figures.join("; ")}; ${WHEELS} wheel steps and the jumps in ${(ms / 1000).toFixed(1)} s, ${requests.length} page requests in all; ` +
      `frame gaps p50 ${pct(gaps, 50).toFixed(1)} ms, p95 ${pct(gaps, 95).toFixed(1)} ms, max ${Math.max(...gaps).toFixed(1)} ms over ${gaps.length} frames; ` +
      `at most ${maxTrs} <tr> in the table`,
  );
  // Pages were asked by offset, each a window (never the whole fleet), never page after page.
  expect(requests.every((u) => /"limit":\d+/.test(u) && /"offset":\d+/.test(u))).toBe(true);
  expect(requests.length).toBeLessThan(15);
  expect(maxTrs).toBeLessThan(MAX_DOM_ROWS);
  expect(gaps.length).toBeGreaterThan(20);
  expect(pct(gaps, 95)).toBeLessThanOrEqual(FRAME_GAP_P95_MS);
  await page.context().close();
});

test("20,000 VMs: a typed filter (name, IP, VLAN) or a tenant shows what a brute-force filter finds, soon; clearing restores the count", async ({ browser }) => {
  const page = await signedInPage(browser, { width: 1440, height: 900 });
  await page.goto("/instances");
  const count = (n: number) => page.getByText(n === EXPECTED ? `${label(EXPECTED)} instances` : `${label(n)} of ${label(EXPECTED)} instances`, { exact: true });
  await expect(count(EXPECTED)).toBeVisible();
  // Timed from a settled page: loaded and receiving live updates.
  await expect(page.locator('[data-testid="live-indicator"][data-state="live"]').first()).toBeAttached();
  const rowsShown = () => tableState(page).then((s) => s.names);
  /** "same" when the rendered rows are the first rows of `want`, in its order; else what is shown. */
  const startsWith = async (want: readonly Row[]) => {
    const shown = await rowsShown();
    const expected = want.slice(0, shown.length).map((i) => i.name);
    return shown.length && JSON.stringify(shown) === JSON.stringify(expected) ? "same" : `${shown.length} rows: ${shown.slice(0, 3).join(", ")}…`;
  };

  const sample = everything.find((i) => i.name === "vm-0137-42")!;
  expect(sample, "the generator's naming changed").toBeTruthy();
  const ip = sample.ipAddresses[0]!;
  const vlan = String(sample.vlans[0]!);
  const figures: string[] = [];
  for (const term of ["vm-0137-", ip, ip.split(".").slice(0, 3).join(".") + ".", vlan]) {
    const want = bruteForce(everything, term);
    expect(want.length, `"${term}" matches nothing`).toBeGreaterThan(0);
    const search = page.getByLabel("Search");
    const t0 = Date.now();
    await search.fill(term);
    await expect(count(want.length)).toBeVisible({ timeout: FILTER_MS + 10_000 });
    await expect(page).toHaveURL(new RegExp(`[?&]q=${term.replace(/\./g, "\\.")}(&|$)`));
    const ms = Date.now() - t0;
    figures.push(`"${term}" ${want.length} rows in ${ms} ms`);
    expect(ms, `"${term}": ${want.length} rows took ${ms} ms`).toBeLessThanOrEqual(FILTER_MS);
    // The rows on screen are the brute-force result's first rows, in order (a virtualized window beyond 100).
    await expect.poll(() => startsWith(want)).toBe("same");
    const shown = await rowsShown();
    if (want.length <= 100) expect(shown).toHaveLength(want.length);
    else expect(shown.length).toBeGreaterThan(10);
  }

  // A tenant from the menu, then clearing everything restores the whole count.
  await page.getByLabel("Search").fill("");
  await expect(count(EXPECTED)).toBeVisible({ timeout: FILTER_MS });
  const globex = everything.filter((i) => i.tenant === "globex");
  const t0 = Date.now();
  await page.getByLabel("Tenant", { exact: true }).selectOption("globex");
  await expect(count(globex.length)).toBeVisible();
  figures.push(`tenant globex ${globex.length} rows in ${Date.now() - t0} ms`);
  await expect.poll(() => startsWith(globex)).toBe("same");
  await page.getByLabel("Tenant", { exact: true }).selectOption("");
  await expect(count(EXPECTED)).toBeVisible({ timeout: FILTER_MS });
  await expect.poll(() => startsWith(everything)).toBe("same");
  console.log(`20k filters: ${figures.join("; ")}`);

  // Screenshots at 20,000 VMs: desktop light and dark, mid-jump (placeholders) and at the end.
  for (const scheme of ["light", "dark"] as const) await jumpShots(page, `desktop-${scheme}`, scheme);
  await page.context().close();
});

test("20,000 VMs on a phone: the count, name and state in view, the DOM bounded while scrolling", async ({ browser }) => {
  const page = await signedInPage(browser, PHONE);
  const order = everything.map((i) => i.name);
  await page.goto("/instances");
  await expect(page.getByText(`${label(EXPECTED)} instances`, { exact: true })).toBeVisible();
  const firstRow = page.getByTestId(`instance-row-${order[0]}`);
  await expect(firstRow.getByRole("link", { name: order[0] })).toBeInViewport();
  await expect(firstRow.getByText("Running")).toBeInViewport();
  const table = page.getByTestId("instances-table");
  const box = (await table.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + Math.min(box.height / 2, 200));
  let maxTrs = 0;
  for (let k = 0; k < 8; k++) {
    await page.mouse.wheel(0, 3_000);
    const s = await tableState(page);
    maxTrs = Math.max(maxTrs, s.trs);
  }
  // The pages under where the wheel stopped arrive: the rows there, in the server's order.
  await expect.poll(async () => (await tableState(page)).placeholders).toBe(0);
  const s = await tableState(page);
  const first = order.indexOf(s.names[0]!);
  expect(first).toBeGreaterThan(100);
  expect(s.names).toEqual(order.slice(first, first + s.names.length));
  expect(maxTrs).toBeLessThan(MAX_DOM_ROWS);
  for (const scheme of ["light", "dark"] as const) await jumpShots(page, `phone-${scheme}`, scheme);
  await page.context().close();
});

test("20,000 VMs: End on the Hosts page asks its first and last pages only; a VM deleted on a page the browser never loaded, while it shows the last rows: each row there moves up by one, no repeat or gap, the count follows", async ({ browser }) => {
  const page = await signedInPage(browser, { width: 1440, height: 900 });
  // First the Hosts page (the same sparse table): End over 200 hosts in pages of 20 asks the first page and the last ones only.
  const hostRequests: string[] = [];
  page.on("request", (r) => r.url().includes("hosts.page") && hostRequests.push(decodeURIComponent(r.url())));
  const hosts = ((await query("hosts.page", { limit: 500 })) as { items: { name: string }[] }).items.map((h) => h.name);
  expect(hosts.length).toBeGreaterThanOrEqual(HOSTS);
  await page.goto("/hosts?per=20");
  await expect(page.getByTestId(`host-row-${hosts[0]}`)).toBeVisible();
  await page.getByTestId(`host-row-${hosts[0]}`).locator("td").nth(3).click();
  await page.keyboard.press("End");
  await expect(page.getByTestId(`host-row-${hosts.at(-1)}`)).toBeVisible();
  await expect(page.getByTestId("hosts-table").getByTestId("row-placeholder")).toHaveCount(0);
  const offsets = [...new Set(hostRequests.map((u) => Number(/"offset":(\d+)/.exec(u)?.[1])))];
  expect(offsets, hostRequests.join("\n")).not.toContain(100);
  expect(offsets.length).toBeLessThanOrEqual(4);

  const requests: string[] = [];
  page.on("request", (r) => r.url().includes("instances.page") && requests.push(decodeURIComponent(r.url())));
  await page.goto("/instances?per=500");
  await expect(page.getByText(`${label(EXPECTED)} instances`, { exact: true })).toBeVisible();
  const table = page.getByTestId("instances-table");
  await table.evaluate((el) => (el.scrollTop = el.scrollHeight));
  /** Whether every rendered row is the one `order` has at its position in the table (the virtualizer's index). */
  const atTheirIndex = (order: readonly string[]) =>
    table.evaluate((el, want) => {
      const rows = [...el.querySelectorAll('[data-testid^="instance-row-"]')];
      const wrong = rows.filter((r) => want[Number(r.closest("tbody")!.getAttribute("data-index"))] !== r.getAttribute("data-testid")!.slice("instance-row-".length));
      return rows.length > 10 && !el.querySelector('[data-testid="row-placeholder"]') ? wrong.length : -1;
    }, order);
  const before = everything.map((i) => i.name);
  await expect.poll(() => atTheirIndex(before)).toBe(0);
  // Row 700 is on page 1 (rows 500-999), which this browser never asked for: it shows pages 0, 39 and 40.
  const victim = before[700]!;
  expect(requests.some((u) => u.includes('"offset":500,'))).toBe(false);
  const res = await api.post("/api/trpc/instances.delete", { data: { name: victim, confirm: victim }, headers: { origin: fleet.url } });
  const body = await res.json();
  expect(res.ok(), JSON.stringify(body)).toBe(true);
  const operationId = (body.result.data as { operationId: string }).operationId;
  await expect.poll(async () => (await query("operations.get", { id: operationId })).state, { timeout: 30_000 }).toBe("succeeded");
  const after = before.filter((n) => n !== victim);
  // The count, and each row on screen where the server now has it: every one moved up by one (none twice at a seam, none missing).
  await expect(page.getByText(`${label(EXPECTED - 1)} instances`, { exact: true })).toBeVisible();
  await expect.poll(() => atTheirIndex(after)).toBe(0);
  await expect(page.getByTestId(`instance-row-${after.at(-1)}`)).toBeVisible();
  // Only the pages in view were asked again, never the one the VM was on.
  expect(requests.some((u) => u.includes('"offset":500,'))).toBe(false);
  everything = everything.filter((i) => i.name !== victim);
  await page.context().close();
});
