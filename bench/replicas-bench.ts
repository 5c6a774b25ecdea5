/**
 * `pnpm bench --replicas N [--hosts H] [--vms-per-host M] [--samples K]`: the fleet shared by N
 * server replicas on one PostgreSQL behind HAProxy (packages/cluster/test/harness), and prints:
 *   - connect time: from the replicas' fleet start until every replica sees every host online
 *     (each connects only its own share, the rest arrives through the bus), and the hosts each owns;
 *   - steady CPU and RSS per replica;
 *   - change-to-browser when the host's owner and the browser's replica differ: a lab change
 *     (a datastore's usage) on the storage host, owned by one replica, until a Chromium page
 *     connected straight to another replica shows it;
 *   - time to re-own after a SIGKILL: until every host of the killed replica has a live lease
 *     held by a survivor.
 * The connect is counted from the first replica's fleet start (its first lease round), so another
 * replica's boot still running then is inside it; each replica's boot CPU (until its fleet started,
 * from /healthz) is printed apart from its connect CPU.
 * `--cpus-per-replica C` puts each replica in its own cgroup with a CPU quota of C cores, as if each
 * ran on its own machine of that size: without it, every replica, the lab (2,000 simulated hosts,
 * as much CPU as the server) and PostgreSQL share this machine's cores, so a second replica adds
 * processes and no machine. `--versus-one` brings one replica up the same way first (connect only)
 * and prints whether N replicas connected in no more time.
 * Goals (issue 16): connect with N replicas in no more time than one takes; re-own <= 10 s.
 * Needs PostgreSQL: without DATABASE_URL it runs itself under packages/db/scripts/with-postgres.sh.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { chromium } from "@playwright/test";
import { chromiumLaunchOptions } from "../e2e/chromium.js";
import type { LeaseStats } from "../packages/cluster/src/leases.js";
import { startCluster, type Cluster } from "../packages/cluster/test/harness/cluster.js";

const root = resolve(import.meta.dirname, "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(f[11]) + Number(f[12]);
};
const rssMiB = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)![1]) / 1024;
type Health = {
  hosts: number;
  online: number;
  fleetStartedAt: number | null;
  cpu?: { atFleetStart: number | null; now: number; webLoad?: number | null };
  eventLoopDelayMs?: { p50: number; p99: number; max: number };
  cluster?: { leases: LeaseStats & { owned: number }; fleet: { messages: number; recordsSent: number; recordsReceived: number } };
};
/** One replica's lease and bus figures, one line. */
const leaseLine = (id: string, h: Health | undefined) => {
  const l = h?.cluster?.leases;
  if (!l) return `${id}: no lease figures`;
  const f = h.cluster!.fleet;
  return `${id}: owns ${l.owned}, took ${l.taken} (first ${l.firstTakeMs ?? "-"} ms after start), released ${Object.entries(l.released).map(([k, v]) => `${k} ${v}`).join("/")}, fences ${l.fences}; renews ${l.renews} (${l.failedRenews} failed), renew max ${l.renewMs.max} ms, longest gap ${l.maxRenewGapMs} ms, longest round ${l.maxRoundMs} ms; bus ${f.messages} msgs / ${f.recordsSent} records out, ${f.recordsReceived} in; loop delay (last 10 s) p99 ${h.eventLoopDelayMs?.p99 ?? "?"} max ${h.eventLoopDelayMs?.max ?? "?"} ms`;
};
const health = async (url: string): Promise<Health | null> => fetch(`${url}/healthz`).then((r) => (r.ok ? (r.json() as Promise<Health>) : null)).catch(() => null);

export interface ReplicasBenchOptions {
  replicas: number;
  hosts: number;
  vmsPerHost: number;
  samples: number;
  steadySeconds: number;
  /** Each replica in its own CPU budget of this many cores (a cgroup, root): as if on its own machine. */
  cpusPerReplica?: number;
  /** First bring up one replica the same way (connect only), and hold the N replicas' connect to its time. */
  versusOne?: boolean;
}

/** Runs the bench (under with-postgres.sh when DATABASE_URL is not set) and returns the exit code. */
export async function runReplicasBench(opts: ReplicasBenchOptions): Promise<number> {
  if (!process.env.DATABASE_URL) {
    // 2,000 hosts need more descriptors than the default 1,024 (the lab here, each replica its share).
    const argv = process.argv.slice(1).map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
    const child = spawn("sh", ["-c", `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec sh packages/db/scripts/with-postgres.sh '${process.execPath}' ${process.execArgv.join(" ")} ${argv}`], {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, NIMBUS_PG_PORT: process.env.NIMBUS_PG_PORT ?? "5443" },
    });
    return new Promise((r) => child.on("exit", (code) => r(code ?? 1)));
  }
  const budget = opts.cpusPerReplica === undefined ? "sharing this machine's cores" : `each in a CPU budget of ${opts.cpusPerReplica} core(s), as if on its own machine`;
  console.log(`Nimbus replicas benchmark: ${opts.replicas} replicas (${budget}), ${opts.hosts} hypervisors x ${opts.vmsPerHost} VMs (+ storage pair and swarm), PostgreSQL, HAProxy`);
  // The emulation holds while the budgets, the lab (about a core while 2,000 hosts connect) and
  // PostgreSQL fit in this machine: beyond that the replicas wait for the machine, not their budgets.
  if (opts.cpusPerReplica !== undefined && opts.replicas * opts.cpusPerReplica > cpus().length - 1)
    console.log(`  note: ${opts.replicas} x ${opts.cpusPerReplica} cores of budget and the lab's ~1 core exceed this machine's ${cpus().length}: the replicas also compete for the machine (see the throttled times)`);
  let versus: number | null = null;
  if (opts.versusOne && opts.replicas > 1) {
    console.log(`\n  first, one replica the same way (connect only):`);
    const one = await runOnce({ ...opts, replicas: 1 }, { connectOnly: true, versus: null });
    if (one.code !== 0) return one.code;
    versus = one.connectMs;
    console.log(`\n  then ${opts.replicas} replicas:`);
  }
  return (await runOnce(opts, { connectOnly: false, versus })).code;
}

/** One cluster up, measured, down. With `connectOnly`, its connect time and nothing else. */
async function runOnce(opts: ReplicasBenchOptions, run: { connectOnly: boolean; versus: number | null }): Promise<{ code: number; connectMs: number }> {
  let cluster: Cluster | null = null;
  try {
    const started = Date.now();
    // The replicas share this machine and the one lab process: together they keep as many handshakes in
    // flight as one server does (768), not 768 each. At 2 x 768 the lab, on 2 cores, let handshakes pass
    // the 10 s connect timeout (hundreds on a loaded machine; one late host sets the figure, its retry
    // after a backoff). NIMBUS_SSH_CONCURRENCY set by the caller wins.
    const concurrency = process.env.NIMBUS_SSH_CONCURRENCY ?? String(Math.ceil(768 / opts.replicas));
    console.log(`  SSH handshakes in flight per replica: ${concurrency}`);
    cluster = await startCluster({
      replicas: opts.replicas,
      generated: { hosts: opts.hosts, vmsPerHost: opts.vmsPerHost },
      labSpeed: 1,
      waitOnline: false,
      web: true,
      env: { NIMBUS_SSH_CONCURRENCY: concurrency },
      cpusPerReplica: opts.cpusPerReplica,
    });
    const c = cluster;
    console.log(`  cluster up (lab in this process, ${opts.replicas} replicas, HAProxy) after ${((Date.now() - started) / 1000).toFixed(1)} s; waiting for every replica to see every host online`);
    // Connect: from the earliest fleet start to the last replica seeing everything online.
    const done = new Map<string, number>();
    let fleetStart = Infinity;
    // What the leases did meanwhile (from the table, every 500 ms): who holds how many, and how
    // many take-overs happened (epoch counts every take; a host taken once has epoch 1).
    const timeline: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const rows = await c
          .query<{ owner: string | null; n: number; takes: number }>(
            `select case when owner is not null and expires_at > now() then owner end as owner, count(*)::int as n, sum(epoch)::int as takes from host_leases where host <> '@leader' group by 1 order by 1`,
          )
          .catch(() => []);
        const t = Number.isFinite(fleetStart) ? ((Date.now() - fleetStart) / 1000).toFixed(1) : "-";
        const takes = rows.reduce((s, r) => s + r.takes, 0);
        timeline.push(`t=${t}s ${rows.map((r) => `${r.owner ?? "free"} ${r.n}`).join(", ")}; takes ${takes}; online ${[...c.replicas].map((r) => `${r.id} ${lastHealth.get(r.id)?.online ?? "?"}`).join(" ")}`);
        await sleep(500);
      }
    })();
    const lastHealth = new Map<string, Health>();
    for (;;) {
      let nearlyDone = true;
      for (const r of c.replicas) {
        if (done.has(r.id)) continue;
        const h = await health(r.url);
        if (h) lastHealth.set(r.id, h);
        if (h?.fleetStartedAt) fleetStart = Math.min(fleetStart, h.fleetStartedAt);
        if (h && h.hosts > 0 && h.online === h.hosts) done.set(r.id, Date.now());
        else if (!h || h.online < h.hosts * 0.95) nearlyDone = false;
      }
      if (done.size === c.replicas.length) break;
      if (Date.now() - started > 600_000) throw new Error("not every host online on every replica within 10 minutes");
      // Every 20 ms near the end only: each /healthz walks the fleet on a replica that is connecting it.
      await sleep(nearlyDone ? 20 : 100);
    }
    // From the first replica's fleet start (its leases' first round) to the last replica seeing every host
    // online: a second replica's later start (its boot still running) is inside this window, not left out.
    const connectMs = Math.max(...done.values()) - fleetStart;
    // CPU seconds until then: each replica's since its fleet started (its boot before that: /healthz
    // says what it had used then), the lab's (this process) and PostgreSQL's since the replicas were spawned.
    const own = process.cpuUsage();
    const dbNow = await c.databaseCpu();
    const bootOf = (r: (typeof c.replicas)[number]) => lastHealth.get(r.id)?.cpu?.atFleetStart ?? r.cpuAtReady ?? NaN;
    const connectCpu = {
      replicas: c.replicas.map((r) => ({ id: r.id, s: (r.cpuSeconds() ?? NaN) - bootOf(r), boot: bootOf(r) })),
      lab: (own.user + own.system) / 1e6 - c.spawnedAt.labCpu,
      db: [...dbNow].reduce((sum, [pid, s]) => sum + s - (c.spawnedAt.databaseCpu.get(pid) ?? 0), 0),
    };
    const cpuTotal = connectCpu.replicas.reduce((sum, r) => sum + r.s, 0) + connectCpu.lab + connectCpu.db;
    sampling = false;
    await sampler;
    const loadAtConnect = loadavg()[0]!;
    console.log(`  lease timeline during connect:\n    ${timeline.join("\n    ")}`);
    for (const r of c.replicas) console.log(`  ${leaseLine(r.id, (await health(r.url)) ?? undefined)}`);
    // Handshakes that timed out meanwhile (each such host waits out a backoff before it is tried again).
    console.log(`  SSH handshakes timed out: ${c.replicas.map((r) => `${r.id} ${r.handshakeTimeouts}`).join(", ")}`);
    for (const r of c.replicas) {
      const lines = r.output().split("\n").filter((l) => /lease|fenc|renew/i.test(l));
      if (lines.length) console.log(`  ${r.id} lease log (${lines.length} lines):\n    ${lines.slice(-12).join("\n    ")}`);
    }
    const owned = async () =>
      new Map((await c.query<{ owner: string; n: number }>(`select owner, count(*)::int as n from host_leases where owner is not null and expires_at > now() group by owner`)).map((r) => [r.owner, r.n]));
    const shares = await owned();
    console.log(`  connect CPU (s): ${connectCpu.replicas.map((r) => `${r.id} ${r.s.toFixed(1)} (+ boot ${r.boot.toFixed(1)}, of it the web app ${lastHealth.get(r.id)?.cpu?.webLoad?.toFixed(1) ?? "?"})`).join(", ")}, lab ${connectCpu.lab.toFixed(1)}, PostgreSQL ${connectCpu.db.toFixed(1)}; total ${cpuTotal.toFixed(1)}`);
    // When each replica's fleet started and when it saw every host online, from the first start.
    console.log(`  per replica (s after the first fleet start): ${c.replicas.map((r) => `${r.id} fleet start ${(((lastHealth.get(r.id)?.fleetStartedAt ?? NaN) - fleetStart) / 1000).toFixed(2)}, all online ${(((done.get(r.id) ?? NaN) - fleetStart) / 1000).toFixed(2)}`).join("; ")}`);
    console.log(`  connected: every replica sees all ${opts.hosts + 5} hosts online ${(connectMs / 1000).toFixed(2)} s after the first fleet start; hosts owned ${[...shares].map(([id, n]) => `${id} ${n}`).join(", ")}`);
    // Time the replicas waited for their budgets meanwhile: the budget was what limited them.
    if (opts.cpusPerReplica !== undefined) console.log(`  throttled by the CPU budget (s, boot included): ${c.replicas.map((r) => `${r.id} ${r.cpuBudget!.throttledSeconds().toFixed(1)}`).join(", ")}`);
    if (run.connectOnly) return { code: 0, connectMs };

    console.log(`  steady state: sampling ${opts.steadySeconds} s after 5 s of settling`);
    await sleep(5_000);
    const t0 = new Map(c.replicas.map((r) => [r.id, cpuTicks(r.pid!)]));
    const wall0 = Date.now();
    await sleep(opts.steadySeconds * 1000);
    const seconds = (Date.now() - wall0) / 1000;
    const cpu = new Map(c.replicas.map((r) => [r.id, ((cpuTicks(r.pid!) - t0.get(r.id)!) / 100 / seconds) * 100]));
    const rss = new Map(c.replicas.map((r) => [r.id, rssMiB(r.pid!)]));
    console.log(`  steady: ${c.replicas.map((r) => `${r.id} CPU ${cpu.get(r.id)!.toFixed(1)} % RSS ${rss.get(r.id)!.toFixed(0)} MB`).join("; ")}`);

    // The storage host's owner, and a browser on another replica.
    const storageHost = (await c.query<{ host: string; owner: string }>(`select host, owner from host_leases where host = 'nfs1'`))[0];
    const browserReplica = c.replicas.find((r) => r.id !== storageHost?.owner) ?? c.replicas[0]!;
    const browser = await chromium.launch(chromiumLaunchOptions());
    const latencies: number[] = [];
    try {
      const page = await browser.newPage();
      await page.goto(`${browserReplica.url}/login`);
      await page.getByLabel(/email/i).fill("admin@nimbus.local");
      await page.getByLabel(/password/i).fill(c.adminPassword);
      await page.getByRole("button", { name: /sign in/i }).click();
      await page.getByTestId("user-name").waitFor();
      await page.goto(`${browserReplica.url}/storage`);
      const USAGE = '[data-testid="datastore-/instance"] [aria-valuenow]';
      await page.locator(USAGE).first().waitFor();
      await page.waitForLoadState("networkidle");
      for (let i = 0; i < opts.samples; i++) {
        const target = 41 + (i % 2 ? 17 : 0) + (i % 13);
        const seen = page.evaluate<number>(`new Promise((resolve) => {
          const done = () => document.querySelector(${JSON.stringify(USAGE)})?.getAttribute("aria-valuenow") === ${JSON.stringify(String(target))}
            && (resolve(performance.timeOrigin + performance.now()), true);
          if (done()) return;
          const observer = new MutationObserver(() => done() && observer.disconnect());
          observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-valuenow"] });
        })`);
        await sleep(50);
        const before = Date.now();
        c.lab.faults.fillDatastore("/instance", target);
        latencies.push((await seen) - before);
      }
    } finally {
      await browser.close();
    }

    // Re-own: SIGKILL the replica with the largest share; until its hosts are all leased by survivors
    // (one replica has no survivor: its figures stop here, for comparing connect times).
    const [victimId] = [...(await owned()).entries()].sort((a, b) => b[1] - a[1])[0]!;
    const victim = c.replica(victimId);
    const itsHosts = (await c.query<{ host: string }>(`select host from host_leases where owner = $1`, [victimId])).map((r) => r.host);
    const killedAt = Date.now();
    if (c.replicas.length > 1) await victim.kill();
    let reOwnMs = NaN;
    for (; c.replicas.length > 1; ) {
      const rows = await c.query<{ n: number }>(`select count(*)::int as n from host_leases where host = any($1::text[]) and owner is not null and owner <> $2 and expires_at > now()`, [itsHosts, victimId]);
      if (rows[0]!.n === itsHosts.length) {
        reOwnMs = Date.now() - killedAt;
        break;
      }
      if (Date.now() - killedAt > 120_000) break;
      await sleep(50);
    }
    // And every survivor sees all of them online again.
    let onlineAgainMs = NaN;
    for (; c.replicas.length > 1; ) {
      const hs = await Promise.all(c.replicas.filter((r) => r !== victim).map((r) => health(r.url)));
      if (hs.every((h) => h && h.online === h.hosts)) {
        onlineAgainMs = Date.now() - killedAt;
        break;
      }
      if (Date.now() - killedAt > 180_000) break;
      await sleep(50);
    }

    const rows: [string, string, string][] = [
      [`hosts connected, every replica sees all online`, `${(connectMs / 1000).toFixed(2)} s`, run.versus === null ? "<= one replica's" : `<= one replica's ${(run.versus / 1000).toFixed(2)} s: ${connectMs <= run.versus ? "met" : "missed"}`],
      ...(opts.cpusPerReplica === undefined ? [] : [[`  CPU budget per replica (cgroup)`, `${opts.cpusPerReplica} core(s)`, ""] as [string, string, string]]),
      [`  from spawning the replicas (boots included)`, `${((Math.max(...done.values()) - c.spawnedAt.at) / 1000).toFixed(2)} s`, ""],
      [`  CPU meanwhile: replicas / lab / PostgreSQL`, `${connectCpu.replicas.reduce((sum, r) => sum + r.s, 0).toFixed(1)} / ${connectCpu.lab.toFixed(1)} / ${connectCpu.db.toFixed(1)} s`, ""],
      ...c.replicas.map((r): [string, string, string] => [`  ${r.id}: hosts owned / CPU (steady) / RSS`, `${shares.get(r.id) ?? 0} / ${cpu.get(r.id)!.toFixed(1)} % / ${rss.get(r.id)!.toFixed(0)} MB`, ""]),
      [`change -> browser, owner ${storageHost?.owner ?? "?"} -> page on ${browserReplica.id}: p50`, `${pct(latencies, 50).toFixed(0)} ms`, ""],
      [`change -> browser p95`, `${pct(latencies, 95).toFixed(0)} ms`, "<= 100 ms"],
      [`change -> browser max`, `${Math.max(...latencies).toFixed(0)} ms`, ""],
      [`re-own after SIGKILL of ${victimId} (${itsHosts.length} hosts)`, `${(reOwnMs / 1000).toFixed(2)} s`, "<= 10 s"],
      [`  ... and all online again on the survivors`, `${(onlineAgainMs / 1000).toFixed(2)} s`, ""],
      [`machine load average (1 min)`, `${loadAtConnect.toFixed(1)} at connect, ${loadavg()[0]!.toFixed(1)} now`, `${cpus().length} cores`],
    ];
    console.log("");
    for (const [k, v, t] of rows) console.log(`  ${k.padEnd(58)} ${v.padStart(26)}   ${t}`);
    console.log(`\n  (${opts.samples} latency samples; ${new Date().toISOString()})`);
    return { code: 0, connectMs };
  } catch (err) {
    console.error(`replicas bench failed: ${err instanceof Error ? err.stack : String(err)}`);
    return { code: 1, connectMs: NaN };
  } finally {
    await cluster?.stop();
  }
}
