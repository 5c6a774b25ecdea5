import { expect, test } from "@playwright/test";
import { startCluster, type Cluster } from "../../packages/cluster/test/harness/cluster.js";

/**
 * A browser through HAProxy keeps working while the replica serving it is SIGKILLed: its live
 * channel reconnects (through HAProxy, to the other replica), which replays what it missed from
 * the cluster cursor in its last event id instead of answering `reset`, so the page does not
 * refetch; a change made in the lab afterwards still reaches the open page, and navigating works.
 */
let cluster: Cluster;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  if (!process.env.DATABASE_URL) throw new Error("run under sh packages/db/scripts/with-postgres.sh (DATABASE_URL)");
  cluster = await startCluster({ replicas: 2, web: true, labSpeed: 2 });
});
test.afterAll(async () => {
  await cluster?.stop();
});

const USAGE = '[data-testid="datastore-/instance"] [aria-valuenow]';
const subscribers = async (url: string) => ((await (await fetch(`${url}/healthz`)).json()) as { subscribers: number }).subscribers;

test("the Storage page keeps receiving live changes after its replica is SIGKILLed", async ({ page }) => {
  await page.goto(`${cluster.url}/login`);
  await page.getByLabel("Email").fill("admin@nimbus.local");
  await page.getByLabel("Password").fill(cluster.adminPassword);
  await page.getByRole("button", { name: /sign in/i }).click();
  await expect(page.getByTestId("user-name")).toBeVisible();

  await page.goto(`${cluster.url}/storage`);
  await expect(page.locator(USAGE).first()).toBeVisible();
  // The replica holding this browser's live stream (once it is open: a change before that is only in the next fetch).
  let serving: string | null = null;
  await expect
    .poll(async () => {
      for (const r of cluster.replicas) if ((await subscribers(r.url)) > 0) serving = r.id;
      return serving;
    })
    .not.toBeNull();
  await page.waitForLoadState("networkidle");
  // A change pushed while both replicas run, to the replica holding the stream.
  await cluster.lab.faults.fillDatastore("/instance", 61);
  await expect(page.locator(USAGE).first()).toHaveAttribute("aria-valuenow", "61");
  // A reset would make the page refetch everything; a replay patches it: the Storage overview is never asked for again.
  let overviewFetches = 0;
  let counting = false;
  page.on("request", (req) => {
    if (counting && req.url().includes("/api/trpc/") && req.url().includes("storage.overview")) overviewFetches++;
  });
  const killed = cluster.replica(serving!);
  const survivor = cluster.replicas.find((r) => r !== killed)!;
  const killedAt = Date.now();
  counting = true;
  await killed.kill();

  // The stream comes back on the survivor (HAProxy sends the reconnect there).
  await expect.poll(() => subscribers(survivor.url), { timeout: 30_000 }).toBeGreaterThan(0);
  const reconnectedMs = Date.now() - killedAt;
  // A change after the kill reaches the open page (whoever owns the storage host now: the survivor
  // once the killed replica's leases expired, within 10 s).
  await cluster.lab.faults.fillDatastore("/instance", 73);
  await expect(page.locator(USAGE).first()).toHaveAttribute("aria-valuenow", "73", { timeout: 30_000 });
  const changeSeenMs = Date.now() - killedAt;
  counting = false;
  expect(overviewFetches).toBe(0);
  console.log(`live stream back on ${survivor.id} ${reconnectedMs} ms after ${killed.id} was SIGKILLed; a lab change shown ${changeSeenMs} ms after the kill`);
  await expect(page.getByText(/something went wrong|application error/i)).toHaveCount(0);

  // The page is still a working console: navigation and queries through HAProxy.
  await page.goto(`${cluster.url}/hosts`);
  await expect(page.getByText("kvm1").first()).toBeVisible();
  await page.goto(`${cluster.url}/storage`);
  await expect(page.locator(USAGE).first()).toHaveAttribute("aria-valuenow", "73");
});
