/**
 * `pnpm bench [--hosts N] [--vms-per-host M] [--samples K] [--replicas N]`: the fleet-scale benchmark
 * (`--replicas N`: the same fleet shared by N replicas, bench/replicas-bench.ts).
 *
 * Starts a generated lab of N hypervisors in its own process, then the real server pointed at it
 * (so the server's figures are its own), and prints:
 *   - time until every host is connected with its inventory loaded,
 *   - server RSS and CPU in steady state,
 *   - change-to-browser latency: a lab change (a datastore's usage) until a real Chromium page
 *     signed in to the Storage screen shows it, pushed over the live channel,
 *   - instances.page (one page of 100 under a few filters) p50/p95 from a client, its body size,
 *     and the whole unpaged instances.list once for comparison.
 * Targets on 2 cores: <= 6 s, <= 700 MB, <= 10 % of one core, <= 100 ms p95.
 * Then the metrics path (bench/metrics-bench.ts): the hosts' samples every 10 s for an hour of
 * simulated time through the server's writer, and a 24 h chart of one host (< 100 ms).
 * `--only metrics` runs that part alone.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "@playwright/test";
import { LabControlClient } from "@nimbus/lab";
import type { BenchRow } from "./metrics-bench.js";
import { runReplicasBench } from "./replicas-bench.js";

const root = resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "2000" },
    "vms-per-host": { type: "string", default: "4" },
    samples: { type: "string", default: "100" },
    "steady-seconds": { type: "string", default: "20" },
    "metrics-minutes": { type: "string", default: "60" },
    only: { type: "string" },
    /** N server replicas on PostgreSQL behind HAProxy instead of one server (bench/replicas-bench.ts). */
    replicas: { type: "string" },
  },
});
const hosts = Number(values.hosts);
const samples = Number(values.samples);
const PASSWORD = "bench-admin-password";
const work = mkdtempSync(join(tmpdir(), "nimbus-bench-"));
const children: ChildProcess[] = [];

function start(name: string, command: string, env: Record<string, string> = {}) {
  // Each simulated host holds sockets; 2,000 need more than the default 1,024 descriptors.
  const child = spawn("sh", ["-c", `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec ${command}`], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr!.on("data", (d) => process.env.BENCH_VERBOSE && process.stderr.write(`[${name}] ${d}`));
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited early (${code ?? signal})`);
      void cleanup(1);
    }
  });
  children.push(child);
  return child;
}

const lines = (child: ChildProcess, pattern: RegExp) =>
  new Promise<RegExpMatchArray>((resolve) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = out.match(pattern);
      if (m) resolve(m);
    });
  });

let stopping = false;
async function cleanup(code: number) {
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : null)));
  rmSync(work, { recursive: true, force: true });
  process.exit(code);
}
process.on("SIGINT", () => void cleanup(130));
process.on("SIGTERM", () => void cleanup(143));

const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100/s)
};
const rssMiB = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

/** The metrics path in its own process (so its RSS is the database's and the writer's, not this client's). */
async function metricsPath() {
  console.log("");
  const child = spawn(
    process.execPath,
    ["--expose-gc", "--import", "tsx", "bench/metrics-bench.ts", "--json", "--hosts", String(hosts), "--vms-per-host", String(values["vms-per-host"]), "--minutes", String(values["metrics-minutes"])],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  if (code !== 0) throw new Error(`the metrics path failed (exit ${code})`);
  const rows = JSON.parse(out.trim().split("\n").at(-1)!) as BenchRow[];
  for (const [k, v, t] of rows) console.log(`  ${k.padEnd(44)} ${v.padStart(36)}   ${t}`);
}

async function main() {
  if (values.replicas) {
    const replicas = Number(values.replicas);
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 8) throw new Error(`--replicas wants 1 to 8, got "${values.replicas}"`);
    return cleanup(await runReplicasBench({ replicas, hosts, vmsPerHost: Number(values["vms-per-host"]), samples, steadySeconds: Number(values["steady-seconds"]) }));
  }
  if (values.only === "metrics") {
    await metricsPath();
    return cleanup(0);
  }
  console.log(`Nimbus fleet benchmark: ${hosts} hypervisors x ${values["vms-per-host"]} VMs (+ storage pair and swarm)`);
  const labDir = join(work, "lab");
  mkdirSync(labDir, { recursive: true });
  const lab = start("lab", `node --import tsx packages/lab/src/cli.ts serve --hosts ${hosts} --vms-per-host ${values["vms-per-host"]} --data ${labDir}`);
  const [fleetPath] = await lines(lab, /\S+fleet\.json/);
  console.log(`  lab listening (its own process, pid ${lab.pid})`);

  const server = start("server", "node --import tsx apps/server/src/main.ts", {
    NODE_ENV: "production",
    NIMBUS_CONFIG: fleetPath!,
    NIMBUS_DATA_DIR: join(work, "server"),
    NIMBUS_PORT: "0",
    NIMBUS_ADMIN_PASSWORD: PASSWORD,
    NIMBUS_LOG_LEVEL: "warn",
  });
  const [, url] = await lines(server, /Nimbus is running: (http:\/\/\S+)/);
  const serverPid = Number(readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, "utf8").trim().split(" ")[0] || server.pid);

  let health: { hosts: number; online: number; fleetStartedAt: number | null };
  for (;;) {
    health = await (await fetch(`${url}/healthz`)).json();
    if (health.fleetStartedAt && health.hosts > 0 && health.online === health.hosts) break;
    await sleep(20);
  }
  const connectMs = Date.now() - health.fleetStartedAt!;

  console.log(`  steady state: sampling ${values["steady-seconds"]} s after 5 s of settling`);
  await sleep(5000);
  const t0 = cpuTicks(serverPid);
  const wall0 = Date.now();
  await sleep(Number(values["steady-seconds"]) * 1000);
  const cpuPct = ((cpuTicks(serverPid) - t0) / 100 / ((Date.now() - wall0) / 1000)) * 100;
  const rss = rssMiB(serverPid);

  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const page = await browser.newPage();
  await page.goto(`${url}/login`);
  await page.getByLabel(/email/i).fill("admin@nimbus.local");
  await page.getByLabel(/password/i).fill(PASSWORD);
  await page.getByRole("button", { name: /sign in/i }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));

  // The instance list as the Instances page asks for it: one page of 100, a few filters, timed
  // from a client (the browser's session over HTTP), against the whole unpaged list once.
  const listOnce = async (path: string, input: unknown) => {
    const started = performance.now();
    const res = await page.request.get(`${url}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`);
    const body = await res.body();
    if (!res.ok()) throw new Error(`${path} answered ${res.status()}: ${body.toString().slice(0, 200)}`);
    return { ms: performance.now() - started, bytes: body.length, data: JSON.parse(body.toString()).result.data };
  };
  const whole = await listOnce("instances.list", null);
  const tenantOfSome = (whole.data as { tenant: string | null }[]).find((i) => i.tenant)?.tenant ?? "-";
  const pageInputs = [
    { limit: 100 },
    { limit: 100, q: "10.", sort: "memoryMiB", desc: true },
    { limit: 100, state: "running", offset: 5_000 },
    { limit: 100, tenant: tenantOfSome, sort: "host" },
    { limit: 100, q: "52:54:00" },
  ];
  for (const input of pageInputs) await listOnce("instances.page", input); // each order built once
  const listMs: number[] = [];
  let pageBytes = 0;
  for (let i = 0; i < 100; i++) {
    const r = await listOnce("instances.page", pageInputs[i % pageInputs.length]);
    listMs.push(r.ms);
    if (i === 0) pageBytes = r.bytes;
  }
  const rssAfterLists = rssMiB(serverPid);

  // The Instances page at fleet size: first rows on screen, then scrolled through the loaded
  // pages; the table keeps only the rows in view in the DOM (virtualized).
  const openedAt = Date.now();
  await page.goto(`${url}/instances`);
  await page.locator('[data-testid^="instance-row-"]').first().waitFor();
  const instancesPageMs = Date.now() - openedAt;
  let domRowsMax = 0;
  for (let i = 0; i < 20; i++) {
    await page.getByTestId("instances-table").evaluate((el) => el.scrollBy(0, 2_000));
    await page.waitForTimeout(50);
    domRowsMax = Math.max(domRowsMax, await page.locator('[data-testid^="instance-row-"]').count());
  }
  const loadedRows = await page.getByTestId("instances-more").textContent().catch(() => null);
  await page.screenshot({ path: join(root, "docs/screenshots/instances-list-20000.png") });

  await page.goto(`${url}/storage`);
  // The datastore row's usage bar carries the rounded percentage in aria-valuenow.
  const USAGE = '[data-testid="datastore-/instance"] [aria-valuenow]';
  await page.locator(USAGE).first().waitFor();
  // Latency is a pushed change reaching an open page, not the page's own loading: start once the
  // page has settled (no request in flight for 500 ms, then an idle moment of the renderer). The
  // first samples right after load are 2-6x slower while the page hydrates and fetches.
  await page.waitForLoadState("networkidle");
  await page.evaluate(`new Promise((resolve) => requestIdleCallback(() => resolve(), { timeout: 2000 }))`);

  const control = LabControlClient.fromDataDir(labDir);
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const target = 41 + (i % 2 ? 17 : 0) + (i % 13); // distinct consecutive values
    // A string, not a function: tsx's name-keeping helpers do not exist inside the page.
    const seen = page.evaluate<number>(`new Promise((resolve) => {
      const done = () => document.querySelector(${JSON.stringify(USAGE)})?.getAttribute("aria-valuenow") === ${JSON.stringify(String(target))}
        && (resolve(performance.timeOrigin + performance.now()), true);
      if (done()) return;
      const observer = new MutationObserver(() => done() && observer.disconnect());
      observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-valuenow"] });
    })`);
    await sleep(50);
    const before = Date.now();
    await control.fault("fill-datastore", ["/instance", target]);
    latencies.push((await seen) - before);
  }
  await browser.close();
  // The server's event-loop delay over the last complete 10 s window (it ran the latency samples).
  const loop = (await (await fetch(`${url}/healthz`)).json()).eventLoopDelayMs as { p50: number; p99: number; max: number };
  const labLoop = ((await control.status()) as { eventLoopDelayMs: { p99: number; max: number } }).eventLoopDelayMs;
  const sorted = [...latencies].sort((a, b) => a - b);

  const rows = [
    ["hosts connected, inventory loaded", `${(connectMs / 1000).toFixed(2)} s`, "<= 6 s"],
    ["server RSS (steady)", `${rss.toFixed(0)} MB`, "<= 700 MB"],
    ["server CPU (steady)", `${cpuPct.toFixed(1)} % of one core`, "<= 10 %"],
    ["change -> browser p50", `${pct(latencies, 50).toFixed(0)} ms`, ""],
    ["change -> browser p95", `${pct(latencies, 95).toFixed(0)} ms`, "<= 100 ms"],
    ["change -> browser max", `${sorted.at(-1)!.toFixed(0)} ms`, ""],
    ["server RSS (after the list queries)", `${rssAfterLists.toFixed(0)} MB`, "<= 700 MB"],
    ["instances.page (100 rows, 5 filters) p50", `${pct(listMs, 50).toFixed(1)} ms`, ""],
    ["instances.page p95", `${pct(listMs, 95).toFixed(1)} ms`, "<= 50 ms"],
    ["instances.page body (one page of 100)", `${(pageBytes / 1024).toFixed(1)} KB`, ""],
    ["Instances page: first rows shown", `${instancesPageMs} ms`, ""],
    ["Instances page: rows in the DOM (max)", `${domRowsMax} (${loadedRows?.replace(/: scroll for more/, "") ?? "all loaded"})`, ""],
    ["instances.list (whole fleet, unpaged)", `${(whole.bytes / 1024 / 1024).toFixed(2)} MB, ${whole.ms.toFixed(0)} ms`, ""],
    ["server event-loop delay p99 / max", `${loop.p99} / ${loop.max} ms`, ""],
    ["lab event-loop delay p99 / max", `${labLoop.p99} / ${labLoop.max} ms`, ""],
  ];
  console.log("");
  for (const [k, v, t] of rows) console.log(`  ${k!.padEnd(36)} ${v!.padStart(20)}   ${t}`);
  const slowest = latencies.map((ms, i) => [i, ms] as const).sort((a, b) => b[1] - a[1]).slice(0, 5);
  console.log(`  slowest samples (index: ms)          ${slowest.map(([i, ms]) => `${i}: ${ms.toFixed(0)}`).join(", ")}`);
  console.log(`\n  (${health.hosts} hosts incl. storage and swarm; ${samples} latency samples; ${new Date().toISOString()})`);
  // The lab and the server are stopped first: the metrics path measures its own process.
  stopping = true;
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : null)));
  await metricsPath();
  await cleanup(0);
}

main().catch(async (err) => {
  console.error(err);
  await cleanup(1);
});
