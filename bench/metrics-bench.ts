/**
 * The metrics path of `pnpm bench` (also alone: `node --expose-gc --import tsx bench/metrics-bench.ts
 * [--hosts N] [--vms-per-host M] [--minutes K]`; `pnpm bench` runs it so, in its own process, so its
 * RSS is the database's and the writer's, not the benchmark's browser client's).
 *
 * Drives the server's own writer (MetricWriter over MetricStore, the embedded PGlite the server
 * uses by default) with generated samples (as many values per host and VM as the server samples):
 * N hosts and their VMs sampled every 10 s for K minutes of SIMULATED time, as fast as the writer
 * takes them. The writer stores an object's samples as one row every 10 samples (100 s) or when
 * their 5-minute bucket closes, so K should cover a few buckets. Then one host gets 23 h more (samples and
 * rollups) so a 24 h chart has a full day, and that chart is asked for through the API's own query path
 * (`seriesFor`: resolution, step, downsampling). Prints:
 *   - CPU the writes cost per simulated hour, as a share of one core in real time (the steady
 *     cost a server pays for them),
 *   - the longest single batch write (one that writes every object's row, and a bucket's rollups;
 *     PGlite runs in the server's thread, and the event loop turns between statements),
 *   - RSS of this process at the end, and how much the written hour added to the freshly opened
 *     database (PGlite alone reserves most of it: the server pays that already),
 *   - the 24 h chart query p50 / max (5-minute rollups for the day, the newest ten minutes from
 *     the samples; the first query is cold).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { RollupAccumulator, SAMPLE_INTERVAL_MS, type MetricRollup, type ObjectSample } from "../packages/domain/src/index.js";
import { MetricStore, MetricWriter, openDatabase } from "../packages/db/src/index.js";
import { seriesFor } from "../packages/api/src/routers/metrics.js";
import type { ApiDeps } from "../packages/api/src/deps.js";

export interface MetricsBenchOptions {
  hosts: number;
  vmsPerHost: number;
  minutes: number;
  /** Where PGlite keeps its files (removed afterwards). */
  dir?: string;
}

export type BenchRow = [label: string, value: string, goal: string];

/**
 * RSS once freed memory has gone back to the system: after a collection V8 and the allocator
 * return pages over the next seconds (a fresh database's initdb garbage: ~760 MB -> ~410 MB in
 * ~4 s). Collects (when `gc` is exposed) and reads again each second until RSS stops falling (at most 10 s).
 */
async function settledRss(gc: (() => void) | undefined): Promise<number> {
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 1000));
    const rss = process.memoryUsage().rss / 1024 / 1024;
    if (last - rss < 2) return rss;
    last = rss;
  }
  return last;
}

/** A host's value drifting around its own mean, so rollups see real means and maxima. */
const wave = (i: number, t: number, base: number) => Math.round((base + 20 * Math.sin(t / 600_000 + i)) * 100) / 100;

/** A host's five values (METRICS.host): CPU, memory, disk, network in and out. */
const hostValues = (h: number, at: number) => [wave(h, at, 40), wave(h + 1, at, 55), 61.5, wave(h, at, 4e6), wave(h + 2, at, 3e6)];

function batch(hosts: number, vmsPerHost: number, at: number): ObjectSample[] {
  const out: ObjectSample[] = [];
  for (let h = 0; h < hosts; h++) {
    out.push({ object: `host:bench-kvm${h}`, at, values: hostValues(h, at) });
    // As many values as the server samples (METRICS.instance): state, size, then rates.
    for (let v = 0; v < vmsPerHost; v++) out.push({ object: `instance:bench-vm${h}-${v}`, at, values: [1, 2, 2048, wave(v, at, 30), wave(v, at, 5e5), wave(v + 1, at, 2e5), 0, wave(v + 2, at, 1e5), 1536] });
  }
  return out;
}

export async function runMetricsBench(opts: MetricsBenchOptions, log: (line: string) => void = console.log): Promise<BenchRow[]> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "nimbus-metrics-bench-"));
  const database = await openDatabase({ dataDir: join(dir, "db") });
  try {
    const store = new MetricStore(database.db);
    const pglite = (database.db as unknown as { $client?: { mod?: { HEAPU8?: Uint8Array } } }).$client;
    const wasmMiB = () => (pglite?.mod?.HEAPU8?.byteLength ?? 0) / 1024 / 1024;
    // Creating the database ran initdb in a second PGlite whose memory is garbage now: collect it
    // (when run with --expose-gc, as \`pnpm bench\` does) so the figures are what a server keeps.
    const gc = (globalThis as { gc?: () => void }).gc;
    const rss0 = await settledRss(gc);
    const wasm0 = wasmMiB();
    const errors: unknown[] = [];
    const writer = new MetricWriter(store, (e) => errors.push(e));
    const ticks = Math.round((opts.minutes * 60_000) / SAMPLE_INTERVAL_MS);
    const end = Math.floor(Date.now() / SAMPLE_INTERVAL_MS) * SAMPLE_INTERVAL_MS;
    const start = end - ticks * SAMPLE_INTERVAL_MS;
    log(`  metrics: ${opts.hosts} hosts x ${opts.vmsPerHost} VMs, a sample every 10 s for ${opts.minutes} simulated minutes (${ticks} batches of ${opts.hosts * (1 + opts.vmsPerHost)} rows)`);

    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    let slowest = 0;
    let slowestCpu = 0;
    let held = { rows: 0, bytes: 0 };
    for (let i = 0; i < ticks; i++) {
      const at = start + i * SAMPLE_INTERVAL_MS;
      const b = batch(opts.hosts, opts.vmsPerHost, at);
      const t = performance.now();
      const c = process.cpuUsage();
      await writer.record(b);
      slowest = Math.max(slowest, performance.now() - t);
      const used = process.cpuUsage(c);
      slowestCpu = Math.max(slowestCpu, (used.user + used.system) / 1000);
      const h = writer.held();
      if (h.bytes > held.bytes) held = h;
      if (i % 60 === 59) log(`    ${((i + 1) * SAMPLE_INTERVAL_MS) / 60_000} simulated minutes written (${((performance.now() - wall0) / 1000).toFixed(0)} s)`);
    }
    // The last bucket's rows are still in the writer's memory: written here, so every sample's write is counted.
    await writer.flush();
    const cpu = process.cpuUsage(cpu0);
    const wallS = (performance.now() - wall0) / 1000;
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const simulatedS = (ticks * SAMPLE_INTERVAL_MS) / 1000;
    if (errors.length) throw errors[0];

    // One host's other 23 hours, so its 24 h chart reads a full day: its samples, and its rollups
    // as the writer would have stored them, each bucket's among 99 other objects' (a server writes
    // every object's rollups of a bucket together, so one host's day lies on hundreds of pages).
    const day = 24 * 3600_000;
    // Two such hosts, written apart: the second one's chart is cold for its data only.
    for (const h of [0, 1]) {
      const fill: ObjectSample[] = [];
      for (let at = end - day; at < start; at += SAMPLE_INTERVAL_MS) fill.push({ object: `host:bench-kvm${h}`, at, values: hostValues(h, at) });
      await store.writeSamples(fill);
      const acc = new RollupAccumulator();
      const rollups: MetricRollup[] = [...acc.add(fill), ...acc.drain()].flatMap((r) => [
        r,
        ...Array.from({ length: 99 }, (_, i) => ({ ...r, object: `host:bench-fill${h}-${i}` })),
      ]);
      await store.writeRollups(rollups);
    }

    // Charts read through the writer, as the server's do: the open bucket is in its memory.
    const deps = { metrics: writer } as unknown as ApiDeps;
    const times: number[] = [];
    const cpuTimes: number[] = [];
    let points = 0;
    let shape = "";
    // kvm0 first (the first chart in this process), kvm1 once (another host: its pages cold, the
    // query code warm), then kvm0 20 times.
    for (let i = 0; i < 22; i++) {
      const t = performance.now();
      const c = process.cpuUsage();
      const s = await seriesFor(deps, "host", i === 1 ? "bench-kvm1" : "bench-kvm0", "cpu", { from: end - day, to: end, maxPoints: 500 }, end);
      times.push(performance.now() - t);
      const used = process.cpuUsage(c);
      cpuTimes.push((used.user + used.system) / 1000);
      points = s.points.length;
      shape = s.resolution === "raw" ? "samples" : `${s.resolution} rollups + the newest samples`;
    }
    const warm = times.slice(2).sort((a, b) => a - b);
    const warmCpu = cpuTimes.slice(2).sort((a, b) => a - b);
    const load = (await import("node:os")).loadavg()[0]!;
    const rss = await settledRss(gc);
    return [
      ["metrics: CPU of writes per simulated hour", `${((cpuS / simulatedS) * 100).toFixed(2)} % of one core`, "<= 10 % (server steady)"],
      ["metrics: CPU busy while writing flat out", `${cpuS.toFixed(1)} s CPU in ${wallS.toFixed(1)} s`, ""],
      ["metrics: longest batch write (wall / CPU)", `${slowest.toFixed(0)} / ${slowestCpu.toFixed(0)} ms (a round's ~2,200-4,400 staggered rows, 100 a statement with a turn of the loop between, and a bucket's rollups)`, ""],
      ["metrics: samples held in memory (most)", `${(held.bytes / 1024 / 1024).toFixed(1)} MB in ${held.rows} rows`, ""],
      [
        `metrics: RSS with ${opts.minutes} min of samples written`,
        `${rss.toFixed(0)} MB (${(rss - rss0).toFixed(0)} MB over the opened db; PGlite heap ${wasm0.toFixed(0)} -> ${wasmMiB().toFixed(0)} MB)`,
        gc ? "<= 700 MB (server)" : "<= 700 MB (server; run with --expose-gc)",
      ],
      ["metrics: 24 h chart of one host p50", `${warm[Math.floor(warm.length / 2)]!.toFixed(1)} ms (CPU ${warmCpu[Math.floor(warmCpu.length / 2)]!.toFixed(1)} ms; ${points} points from ${shape})`, "< 100 ms"],
      // CPU times tell a cold query from a busy machine. The first query is the first of its kind
      // in this process: PGlite's query code runs for the first time (once per server start).
      ["metrics: 24 h chart, another host (data cold)", `${times[1]!.toFixed(1)} ms (CPU ${cpuTimes[1]!.toFixed(1)} ms)`, "< 100 ms"],
      ["metrics: 24 h chart, the first in the process", `${times[0]!.toFixed(1)} ms (CPU ${cpuTimes[0]!.toFixed(1)} ms)`, ""],
      ["machine load average (1 min)", `${load.toFixed(1)} on ${(await import("node:os")).cpus().length} cores`, ""],
    ];
  } finally {
    await database.close();
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: {
      hosts: { type: "string", default: "2000" },
      "vms-per-host": { type: "string", default: "4" },
      minutes: { type: "string", default: "60" },
      /** `pnpm bench` runs this file in its own process and reads the rows from the last line. */
      json: { type: "boolean", default: false },
    },
  });
  const rows = await runMetricsBench(
    { hosts: Number(values.hosts), vmsPerHost: Number(values["vms-per-host"]), minutes: Number(values.minutes) },
    values.json ? (line) => console.error(line) : console.log,
  );
  if (values.json) console.log(JSON.stringify(rows));
  else {
    console.log("");
    for (const [k, v, t] of rows) console.log(`  ${k.padEnd(44)} ${v.padStart(32)}   ${t}`);
  }
}
