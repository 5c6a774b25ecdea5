/**
 * `pnpm bench [--hosts N] [--vms-per-host M] [--samples K] [--connect-runs R] [--replicas N]`: the
 * fleet-scale benchmark (`--connect-runs R`: R fresh bring-ups, every connect time printed)
 * (`--replicas N`: the same fleet shared by N replicas, bench/replicas-bench.ts; with
 * `--cpus-per-replica C` each replica in a C-core CPU budget, with `--versus-one` one replica first).
 *
 * Starts a generated lab of N hypervisors in its own process, then the real server pointed at it
 * (so the server's figures are its own), and prints:
 *   - time until every host is connected with its inventory loaded,
 *   - server RSS and CPU in steady state,
 *   - change-to-browser latency: a lab change (a datastore's usage) until a real Chromium page
 *     signed in to the Storage screen shows it, pushed over the live channel,
 *   - instances.page (one page of 100 under a few filters) p50/p95 from a client, its body size,
 *     server RSS after those pages, then the whole unpaged instances.list once for comparison,
 *   - change-to-browser on the Instances page (bench/instances-latency.ts),
 *   - every goal of issue 16 against its threshold, and the machine's load average.
 * Targets on 2 cores: <= 6 s (every run), <= 700 MB, <= 10 % of one core, <= 50 ms p95 for a
 * page, <= 100 ms p95 change-to-browser.
 * Then the metrics path (bench/metrics-bench.ts): the hosts' samples every 10 s for an hour of
 * simulated time through the server's writer, and a 24 h chart of one host (< 100 ms).
 * `--only metrics` runs that part alone. `--only connect` brings the fleet up (`--connect-runs R`
 * times) and prints, per run, the connect time and the CPU seconds of the server and the lab in
 * each phase (start-up, connect, steady), no browser; with `--cpu-prof DIR` both processes write a
 * V8 CPU profile there and DIR/phases.json holds the phases' monotonic windows
 * (`node bench/cpu-profile-summary.mjs DIR` lists the top costs of each phase). The profiler
 * itself costs CPU (~5 % of a core at 800 hosts, measured): compare shares inside a profile, and
 * CPU seconds only between unprofiled runs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "@playwright/test";
import { chromiumLaunchOptions } from "../e2e/chromium.js";
import { instancesPageLatency } from "./instances-latency.js";
import { LabControlClient } from "@nimbus/lab";
import type { BenchRow } from "./metrics-bench.js";
import { runReplicasBench } from "./replicas-bench.js";
import { SERVER_PROCESS_ENV } from "../apps/server/src/process-memory.js";

const root = resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "2000" },
    "vms-per-host": { type: "string", default: "4" },
    samples: { type: "string", default: "100" },
    "steady-seconds": { type: "string", default: "20" },
    "metrics-minutes": { type: "string", default: "60" },
    /** Bring the fleet up this many times (fresh lab and server each) and print every connect time. */
    "connect-runs": { type: "string", default: "1" },
    only: { type: "string" },
    /** N server replicas on PostgreSQL behind HAProxy instead of one server (bench/replicas-bench.ts). */
    replicas: { type: "string" },
    /** With --replicas: each replica in a CPU budget of this many cores (a cgroup; root), as if on its own machine. */
    "cpus-per-replica": { type: "string" },
    /** With --replicas N: one replica first, the same way, and N held to its connect time. */
    "versus-one": { type: "boolean" },
    /** With `--only connect`: write V8 CPU profiles of the server and the lab into this directory. */
    "cpu-prof": { type: "string" },
  },
});
const hosts = Number(values.hosts);
const samples = Number(values.samples);
const PASSWORD = "bench-admin-password";
const work = mkdtempSync(join(tmpdir(), "nimbus-bench-"));
const children: ChildProcess[] = [];
const profDir = values["cpu-prof"] ? resolve(values["cpu-prof"]) : null;
const expectedExit = new WeakSet<ChildProcess>();

function start(name: string, command: string, env: Record<string, string> = {}) {
  // Each simulated host holds sockets; 2,000 need more than the default 1,024 descriptors.
  const child = spawn("sh", ["-c", `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec ${command}`], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr!.on("data", (d) => process.env.BENCH_VERBOSE && process.stderr.write(`[${name}] ${d}`));
  child.on("exit", (code, signal) => {
    if (!stopping && !expectedExit.has(child)) {
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
/** CPU ticks (user, system) of each thread of a process, by thread name (/proc/PID/task/TID/stat). */
function threadTicks(pid: number): Map<string, { user: number; system: number }> {
  const out = new Map<string, { user: number; system: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = tid === String(pid) ? "main" : stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "").trim();
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const e = out.get(name) ?? { user: 0, system: 0 };
      e.user += Number(f[11]);
      e.system += Number(f[12]);
      out.set(name, e);
    } catch {
      // a thread that just ended
    }
  }
  return out;
}
/** "main 9.1+2.0 %, V8 DefaultWorker 3.2+0.1 %": each thread group's user+system share of a core between two readings. */
function threadShares(a: Map<string, { user: number; system: number }>, b: Map<string, { user: number; system: number }>, seconds: number): string {
  const rows = [...b].map(([name, t]) => {
    const t0 = a.get(name) ?? { user: 0, system: 0 };
    return { name, user: (t.user - t0.user) / seconds, system: (t.system - t0.system) / seconds };
  });
  return rows
    .filter((r) => r.user + r.system > 0)
    .sort((x, y) => y.user + y.system - (x.user + x.system))
    .map((r) => `${r.name} ${r.user.toFixed(1)}+${r.system.toFixed(1)} %`)
    .join(", ");
}
const rssMiB = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)![1]) / 1024;
/** CLOCK_MONOTONIC in microseconds: the clock of V8's CPU profiles. */
const monoUs = () => Number(process.hrtime.bigint() / 1000n);
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

/**
 * CPU ticks of a few processes, read every 50 ms with the monotonic time (so a phase known only
 * afterwards, like the fleet's start, still gets its CPU seconds).
 */
class CpuTrace {
  private readonly samples: { us: number; ticks: number[] }[] = [];
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pids: number[]) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 50);
  }
  sample() {
    try {
      this.samples.push({ us: monoUs(), ticks: this.pids.map(cpuTicks) });
    } catch {
      // a process that just ended: its last sample stays
    }
  }
  /** CPU seconds of each process between two monotonic instants (the nearest samples). */
  between(fromUs: number, toUs: number): number[] {
    const at = (us: number) => this.samples.reduce((best, x) => (Math.abs(x.us - us) < Math.abs(best.us - us) ? x : best));
    const a = at(fromUs);
    const b = at(toUs);
    return this.pids.map((_, i) => (b.ticks[i]! - a.ticks[i]!) / 100);
  }
  stop() {
    clearInterval(this.timer);
  }
}

/** A fresh lab and server (run n: their own directories), until every host is connected with its inventory. */
async function bringUp(run: number) {
  const labDir = join(work, `lab-${run}`);
  mkdirSync(labDir, { recursive: true });
  const prof = (name: string) => (profDir ? `--cpu-prof --cpu-prof-dir=${join(profDir, `${name}-${run}`)} ` : "");
  const lab = start("lab", `node ${prof("lab")}--import tsx packages/lab/src/cli.ts serve --hosts ${hosts} --vms-per-host ${values["vms-per-host"]} --data ${labDir}`);
  const [fleetPath] = await lines(lab, /\S+fleet\.json/);
  if (run === 1) console.log(`  lab listening (its own process, pid ${lab.pid})`);

  const serverStartUs = monoUs();
  // Started as its start script starts it (malloc's arenas: apps/server/src/process-memory.ts).
  const server = start("server", `node ${prof("server")}--import tsx apps/server/src/main.ts`, {
    ...SERVER_PROCESS_ENV,
    NODE_ENV: "production",
    NIMBUS_CONFIG: fleetPath!,
    NIMBUS_DATA_DIR: join(work, `server-${run}`),
    NIMBUS_PORT: "0",
    NIMBUS_ADMIN_PASSWORD: PASSWORD,
    NIMBUS_LOG_LEVEL: "warn",
  });
  const trace = new CpuTrace([server.pid!, lab.pid!]);
  const [, url] = await lines(server, /Nimbus is running: (http:\/\/\S+)/);
  const serverPid = server.pid!;
  const cpu0 = [cpuTicks(serverPid), cpuTicks(lab.pid!)] as const;

  let health: { hosts: number; online: number; fleetStartedAt: number | null };
  for (;;) {
    health = await (await fetch(`${url}/healthz`)).json();
    if (health.fleetStartedAt && health.hosts > 0 && health.online === health.hosts) break;
    await sleep(20);
  }
  const ms = Date.now() - health.fleetStartedAt!;
  trace.sample();
  const onlineUs = monoUs();
  const fleetStartUs = onlineUs - ms * 1000;
  const [serverConnectCpuS, labConnectCpuS] = trace.between(fleetStartUs, onlineUs);
  const [serverStartupCpuS] = trace.between(serverStartUs, fleetStartUs);
  const connect = {
    ms,
    // Since the server's banner (as the benchmark always measured it) and since the fleet started.
    serverCpuS: (cpuTicks(serverPid) - cpu0[0]) / 100,
    labCpuS: (cpuTicks(lab.pid!) - cpu0[1]) / 100,
    serverConnectCpuS: serverConnectCpuS!,
    labConnectCpuS: labConnectCpuS!,
    serverStartupCpuS: serverStartupCpuS!,
    phases: { serverStartUs, fleetStartUs, onlineUs },
    load: loadavg()[0]!,
  };
  return { lab, server, labDir, url, serverPid, health, connect, trace };
}

/**
 * `--only connect`: R bring-ups with the CPU of each phase, then the last one's steady state (the
 * server's and the lab's CPU per second); with `--cpu-prof DIR`, each process's profile and the
 * phases' windows (DIR/phases.json) for bench/cpu-profile-summary.mjs.
 */
async function connectOnly(runs: number) {
  console.log(`Nimbus connect benchmark: ${hosts} hypervisors x ${values["vms-per-host"]} VMs, ${runs} run(s)${profDir ? `, CPU profiles in ${profDir}` : ""}`);
  const phases: Record<string, { startUs: number; endUs: number }>[] = [];
  const times: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const up = await bringUp(run);
    const c = up.connect;
    times.push(c.ms);
    const runPhases: Record<string, { startUs: number; endUs: number }> = {
      startup: { startUs: c.phases.serverStartUs, endUs: c.phases.fleetStartUs },
      connect: { startUs: c.phases.fleetStartUs, endUs: c.phases.onlineUs },
    };
    console.log(
      `  run ${run}: connected in ${(c.ms / 1000).toFixed(2)} s; CPU during the connect: server ${c.serverConnectCpuS.toFixed(2)} s, lab ${c.labConnectCpuS.toFixed(2)} s (server start-up before it ${c.serverStartupCpuS.toFixed(2)} s); load ${c.load.toFixed(1)}`,
    );
    if (run === runs) {
      const settleS = 5;
      const steadyS = Number(values["steady-seconds"]);
      await sleep(settleS * 1000);
      const s0 = monoUs();
      const threads0 = [threadTicks(up.serverPid), threadTicks(up.lab.pid!)];
      await sleep(steadyS * 1000);
      up.trace.sample();
      const s1 = monoUs();
      const threads1 = [threadTicks(up.serverPid), threadTicks(up.lab.pid!)];
      const [serverS, labS] = up.trace.between(s0, s1);
      const wallS = (s1 - s0) / 1e6;
      runPhases.steady = { startUs: s0, endUs: s1 };
      console.log(`  steady (${steadyS} s after ${settleS} s): server ${((serverS! / wallS) * 100).toFixed(1)} %, lab ${((labS! / wallS) * 100).toFixed(1)} % of one core; server RSS ${rssMiB(up.serverPid).toFixed(0)} MB`);
      console.log(`    server threads (user+system): ${threadShares(threads0[0]!, threads1[0]!, wallS)}`);
      console.log(`    lab threads (user+system):    ${threadShares(threads0[1]!, threads1[1]!, wallS)}`);
    }
    phases.push(runPhases);
    up.trace.stop();
    await Promise.all([stopChild(up.server), stopChild(up.lab)]);
  }
  console.log(`  connect, every run: ${times.map((t) => (t / 1000).toFixed(2)).join(", ")} s (slowest ${(Math.max(...times) / 1000).toFixed(2)}); load now ${loadavg()[0]!.toFixed(1)}`);
  if (profDir) writeFileSync(join(profDir, "phases.json"), JSON.stringify(phases, null, 1));
}

/** The server's own account of its memory (/healthz), as "rss / heapTotal / heapUsed / external / arrayBuffers" in MB. */
async function serverMemory(url: string): Promise<string> {
  const m = ((await (await fetch(`${url}/healthz`)).json()) as { memory?: Record<string, number> }).memory;
  return m ? [m.rss, m.heapTotal, m.heapUsed, m.external, m.arrayBuffers].join(" / ") : "-";
}

/** Stops a child this benchmark is done with (not a failure). */
async function stopChild(child: ChildProcess) {
  expectedExit.add(child);
  if (child.exitCode === null) {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

async function main() {
  if (values.replicas) {
    const replicas = Number(values.replicas);
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 8) throw new Error(`--replicas wants 1 to 8, got "${values.replicas}"`);
    const cpusPerReplica = values["cpus-per-replica"] === undefined ? undefined : Number(values["cpus-per-replica"]);
    if (cpusPerReplica !== undefined && !(cpusPerReplica > 0 && cpusPerReplica <= 64)) throw new Error(`--cpus-per-replica wants a number of cores above 0, got "${values["cpus-per-replica"]}"`);
    return cleanup(
      await runReplicasBench({ replicas, hosts, vmsPerHost: Number(values["vms-per-host"]), samples, steadySeconds: Number(values["steady-seconds"]), cpusPerReplica, versusOne: values["versus-one"] }),
    );
  }
  if (values.only === "metrics") {
    await metricsPath();
    return cleanup(0);
  }
  if (values.only === "connect") {
    await connectOnly(Math.max(1, Number(values["connect-runs"])));
    return cleanup(0);
  }
  console.log(`Nimbus fleet benchmark: ${hosts} hypervisors x ${values["vms-per-host"]} VMs (+ storage pair and swarm)`);
  const loadAtStart = loadavg()[0]!;
  // Connect time must hold on every run, not only the median: `--connect-runs N` brings a fresh
  // lab and server up N times (the last one stays for the rest of the benchmark).
  const runs = Math.max(1, Number(values["connect-runs"]));
  const connects: { ms: number; serverCpuS: number; labCpuS: number; load: number }[] = [];
  let up: Awaited<ReturnType<typeof bringUp>>;
  for (let run = 1; ; run++) {
    up = await bringUp(run);
    connects.push(up.connect);
    up.trace.stop();
    if (runs > 1) console.log(`  run ${run}: connected in ${(up.connect.ms / 1000).toFixed(2)} s (CPU server ${up.connect.serverCpuS.toFixed(1)} s, lab ${up.connect.labCpuS.toFixed(1)} s; load ${up.connect.load.toFixed(1)})`);
    if (run >= runs) break;
    await Promise.all([stopChild(up.server), stopChild(up.lab)]);
  }
  const { labDir, url, serverPid, health } = up;
  const connectMs = up.connect.ms;

  console.log(`  steady state: sampling ${values["steady-seconds"]} s after 5 s of settling`);
  await sleep(5000);
  const t0 = cpuTicks(serverPid);
  const wall0 = Date.now();
  await sleep(Number(values["steady-seconds"]) * 1000);
  const cpuPct = ((cpuTicks(serverPid) - t0) / 100 / ((Date.now() - wall0) / 1000)) * 100;
  const rss = rssMiB(serverPid);
  const memorySteady = await serverMemory(url!);

  const browser = await chromium.launch(chromiumLaunchOptions());
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
  const first = await listOnce("instances.page", { limit: 100 });
  const tenantOfSome = (first.data as { tenants: string[] }).tenants.find((t) => t !== "-") ?? "-";
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
  // What the Instances page costs the server; the whole unpaged list (6-7 MB at 20,000 VMs, for
  // comparison only: no page of the console asks for it at fleet size) is measured after it.
  const rssAfterLists = rssMiB(serverPid);
  const memoryAfterLists = await serverMemory(url!);
  const whole = await listOnce("instances.list", null);
  const rssAfterWhole = rssMiB(serverPid);

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
  // Change-to-browser on the Instances page (issue 16): a VM on the shown page stops or starts on
  // its host, timed from that change until its row shows it; and the same through instances.power
  // (an agent job), timed from the request, as a separate figure (bench/instances-latency.ts).
  // A row that never shows its change is reported (and its goal NOT MEASURED), the other figures still printed.
  const { change: instancesLatencies, viaApi: powerLatencies } = await instancesPageLatency(page, url!, control, Math.min(samples, 40)).catch((err: Error) => {
    console.error(`  Instances page latency: ${err.message}`);
    return { change: [] as number[], viaApi: [] as number[] };
  });
  await browser.close();
  // The server's event-loop delay over the last complete 10 s window (it ran the latency samples).
  const loop = (await (await fetch(`${url}/healthz`)).json()).eventLoopDelayMs as { p50: number; p99: number; max: number };
  const labLoop = ((await control.status()) as { eventLoopDelayMs: { p99: number; max: number } }).eventLoopDelayMs;
  const sorted = [...latencies].sort((a, b) => a - b);
  const slowestConnect = Math.max(...connects.map((c) => c.ms));

  const rows = [
    ["hosts connected, inventory loaded", `${(connectMs / 1000).toFixed(2)} s`, "<= 6 s"],
    ...(connects.length > 1
      ? [["connect, every run (slowest)", `${connects.map((c) => (c.ms / 1000).toFixed(1)).join(", ")} s (${(slowestConnect / 1000).toFixed(2)})`, `<= 6 s each`]]
      : []),
    ["connect CPU: server / lab", `${up.connect.serverCpuS.toFixed(1)} / ${up.connect.labCpuS.toFixed(1)} s`, ""],
    ["server RSS (steady)", `${rss.toFixed(0)} MB`, "<= 700 MB"],
    ["server CPU (steady)", `${cpuPct.toFixed(1)} % of one core`, "<= 10 %"],
    ["change -> browser p50", `${pct(latencies, 50).toFixed(0)} ms`, ""],
    ["change -> browser p95", `${pct(latencies, 95).toFixed(0)} ms`, "<= 100 ms"],
    ["change -> browser max", `${sorted.at(-1)!.toFixed(0)} ms`, ""],
    ...(instancesLatencies.length
      ? [
          ["change -> Instances page p50", `${pct(instancesLatencies, 50).toFixed(0)} ms`, ""],
          ["change -> Instances page p95", `${pct(instancesLatencies, 95).toFixed(0)} ms`, "<= 100 ms"],
          ["change -> Instances page max", `${Math.max(...instancesLatencies).toFixed(0)} ms`, ""],
          ...(powerLatencies.length ? [["instances.power -> row p50 / p95", `${pct(powerLatencies, 50).toFixed(0)} / ${pct(powerLatencies, 95).toFixed(0)} ms`, "(incl. the agent job)"]] : []),
        ]
      : [["change -> Instances page p95", "not measured", "<= 100 ms"]]),
    ["server RSS (after the page queries)", `${rssAfterLists.toFixed(0)} MB`, "<= 700 MB"],
    // Where the RSS is: V8's heap (reserved / in use, garbage included), outside it (buffers, the
    // WebAssembly memories of PGlite and ssh2), the rest is native code and malloc.
    ["server memory (steady)", memorySteady, "rss / heap total / heap used / external / arrayBuffers"],
    ["server memory after the page queries", memoryAfterLists, "MB"],
    ["instances.page (100 rows, 5 filters) p50", `${pct(listMs, 50).toFixed(1)} ms`, ""],
    ["instances.page p95", `${pct(listMs, 95).toFixed(1)} ms`, "<= 50 ms"],
    ["instances.page body (one page of 100)", `${(pageBytes / 1024).toFixed(1)} KB`, ""],
    ["Instances page: first rows shown", `${instancesPageMs} ms`, ""],
    ["Instances page: rows in the DOM (max)", `${domRowsMax} (${loadedRows?.replace(/: scroll for more/, "") ?? "all loaded"})`, ""],
    ["instances.list (whole fleet, unpaged)", `${(whole.bytes / 1024 / 1024).toFixed(2)} MB, ${whole.ms.toFixed(0)} ms`, ""],
    ["server RSS (after one unpaged list)", `${rssAfterWhole.toFixed(0)} MB`, "(comparison)"],
    ["server event-loop delay p99 / max", `${loop.p99} / ${loop.max} ms`, ""],
    ["lab event-loop delay p99 / max", `${labLoop.p99} / ${labLoop.max} ms`, ""],
  ];
  rows.push(["machine load average (1 min)", `${loadAtStart.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} now`, `${cpus().length} cores`]);
  console.log("");
  for (const [k, v, t] of rows) console.log(`  ${k!.padEnd(36)} ${v!.padStart(20)}   ${t}`);
  // Issue 16's goals for one server at 20,000 VMs (and issue 15's steady figures), each against its threshold.
  const goals: [string, number | null, number, string][] = [
    [`connect, slowest of ${connects.length} run(s)`, slowestConnect / 1000, 6, "s"],
    ["server RSS (steady)", rss, 700, "MB"],
    ["server RSS (after the page queries)", rssAfterLists, 700, "MB"],
    ["server CPU (steady)", cpuPct, 10, "%"],
    ["instances.page p95 (one page of 100)", pct(listMs, 95), 50, "ms"],
    ["change -> browser p95 (Storage page)", pct(latencies, 95), 100, "ms"],
    ["change -> browser p95 (Instances page)", instancesLatencies.length ? pct(instancesLatencies, 95) : null, 100, "ms"],
  ];
  console.log("\n  goals");
  for (const [k, v, max, unit] of goals)
    console.log(`  ${k.padEnd(40)} ${(v === null ? "-" : `${v.toFixed(unit === "s" ? 2 : unit === "MB" ? 0 : 1)} ${unit}`).padStart(12)}   <= ${max} ${unit}   ${v === null ? "NOT MEASURED" : v <= max ? "met" : "MISSED"}`);
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
