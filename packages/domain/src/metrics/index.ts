import { z } from "zod";
import type { HostRecord } from "../fleet.js";
import { domainCpuPct, type CounterRates } from "./counters.js";

export * from "./counters.js";

/**
 * Metric history: what is sampled from the pushed inventory (no host is asked for it), how the
 * samples are rolled up into 5-minute buckets, and how a chart's points are chosen from the right
 * resolution with a bounded count. Pure: the database store and the server's sampler use it.
 */

/**
 * What each kind of object has a series of, in the order the values are stored (a sample is a
 * `real[]` by this index: new metrics go at the end, so older rows keep their meaning).
 */
export const METRICS = {
  host: ["cpu", "memory", "disk", "netRx", "netTx"],
  instance: ["up", "vcpus", "memory", "cpu", "netRx", "netTx", "diskRead", "diskWrite", "memoryUsed"],
  datastore: ["used", "usedGiB", "read", "write"],
  service: ["running", "desired", "cpu"],
} as const satisfies Record<string, readonly string[]>;

export const MetricObjectKind = z.enum(["host", "instance", "datastore", "service"]);
export type MetricObjectKind = z.infer<typeof MetricObjectKind>;
export type MetricName<K extends MetricObjectKind = MetricObjectKind> = (typeof METRICS)[K][number];

/** Units for the charts' axes and tooltips. */
export const METRIC_UNITS: Record<string, "%" | "count" | "MiB" | "GiB" | "bool" | "B/s"> = {
  "host.cpu": "%",
  "host.memory": "%",
  "host.disk": "%",
  "host.netRx": "B/s",
  "host.netTx": "B/s",
  "instance.up": "bool",
  "instance.vcpus": "count",
  "instance.memory": "MiB",
  "instance.cpu": "%",
  "instance.netRx": "B/s",
  "instance.netTx": "B/s",
  "instance.diskRead": "B/s",
  "instance.diskWrite": "B/s",
  "instance.memoryUsed": "MiB",
  "datastore.used": "%",
  "datastore.usedGiB": "GiB",
  "datastore.read": "B/s",
  "datastore.write": "B/s",
  "service.running": "count",
  "service.desired": "count",
  "service.cpu": "%",
};

/** Full resolution: the sampler's period. */
export const SAMPLE_INTERVAL_MS = 10_000;
/** Rolled-up resolution. */
export const ROLLUP_MS = 5 * 60_000;
/** How long full-resolution samples are kept; rollups are kept `ROLLUP_KEEP_MS`. */
export const RAW_KEEP_MS = 24 * 3600_000;
export const ROLLUP_KEEP_MS = 30 * 24 * 3600_000;
/** The most points one series query answers with. */
export const MAX_POINTS = 1_000;

/** The key a series is stored under: "host:kvm1", "instance:web-1", "datastore:/instance", "service:web". */
export const seriesKey = (kind: MetricObjectKind, name: string) => `${kind}:${name}`;
export const metricIndex = (kind: MetricObjectKind, metric: string): number => (METRICS[kind] as readonly string[]).indexOf(metric);

/** One object's values at one instant (null: not known then). */
export interface ObjectSample {
  object: string;
  at: number;
  values: (number | null)[];
}

const pct = (used: number, total: number) => (total > 0 ? Math.min(100, Math.max(0, (used / total) * 100)) : null);
const GiB = 1024 ** 3;
const round = (v: number | null, digits = 2) => (v === null || !Number.isFinite(v) ? null : Math.round(v * 10 ** digits) / 10 ** digits);

/**
 * One sample of every object the inventory describes at `at`: hosts (online ones only: the last
 * report of a silent host is not a measurement), their VMs, the datastores (from the VIP holder,
 * else any online NFS server) and swarm services (from a manager, the leader first). Rates
 * (CPU from counters, network, disk I/O) come from `rates`, the agents' `stats.counters` pushes;
 * without a fresh one a rate is null (a gap), and a host's CPU falls back to its node facts.
 * A service's CPU is the mean CPU of the online hosts running its tasks (swarm VMs with an agent).
 */
export function sampleFleet(hosts: readonly HostRecord[], at: number, rates?: CounterRates): ObjectSample[] {
  const round = new FleetSampleRound(at, rates);
  return [...round.hosts(hosts), ...round.finish()];
}

/**
 * `sampleFleet` a slice of hosts at a time (the server samples 200 hosts a turn of the event loop:
 * 22,000 samples in one turn held it ~20-60 ms): `hosts()` answers each slice's hosts and VMs,
 * `finish()` the datastores and services seen across all of them.
 */
export class FleetSampleRound {
  private readonly datastores = new Map<string, { values: (number | null)[]; holder: boolean }>();
  private readonly services = new Map<string, { running: number; desired: number; leader: boolean; nodes: Set<string> }>();
  private readonly hostCpu = new Map<string, number>();

  constructor(
    readonly at: number,
    private readonly rates?: CounterRates,
  ) {}

  hosts(hosts: readonly HostRecord[]): ObjectSample[] {
    const { at, rates, datastores, services, hostCpu } = this;
    const out: ObjectSample[] = [];
    for (const h of hosts) {
      if (h.connection.state !== "online") continue;
      const node = h.inventory.node;
      const hr = rates?.host(h.name, at) ?? null;
      if (node) {
        const cpu = hr?.cpuPct ?? node.cpuUsagePct;
        hostCpu.set(h.name, cpu);
        out.push({
          object: seriesKey("host", h.name),
          at,
          values: [round(cpu), round(pct(node.memoryUsedMiB, node.memoryTotalMiB)), round(pct(node.diskUsedBytes, node.diskTotalBytes)), round(hr?.netRxBps ?? null), round(hr?.netTxBps ?? null)],
        });
      }
      for (const d of h.inventory.virt?.domains ?? []) {
        const running = d.state === "running";
        // A VM that is not running uses no CPU and moves no bytes: 0, not a gap.
        const r = running ? (rates?.domain(h.name, d.name, at) ?? null) : null;
        out.push({
          object: seriesKey("instance", d.name),
          at,
          values: running
            ? [1, d.vcpus, d.memoryMiB, round(domainCpuPct(r?.cpuCores, d.vcpus)), round(r?.netRxBps ?? null), round(r?.netTxBps ?? null), round(r?.diskReadBps ?? null), round(r?.diskWriteBps ?? null), round(r?.memoryMiB ?? null)]
            : [0, d.vcpus, d.memoryMiB, 0, 0, 0, 0, 0, 0],
        });
      }
      const nfs = h.inventory.storage?.nfs;
      if (nfs) {
        const holder = !!nfs.vip?.heldHere;
        for (const ds of nfs.datastores) {
          const prev = datastores.get(ds.path);
          if (prev && (prev.holder || !holder)) continue;
          const io = rates?.datastore(h.name, ds.path, at) ?? null;
          datastores.set(ds.path, { values: [round(pct(ds.usedBytes, ds.totalBytes)), round(ds.usedBytes / GiB, 3), round(io?.readBps ?? null), round(io?.writeBps ?? null)], holder });
        }
      }
      const swarm = h.inventory.swarm;
      if (swarm?.role === "manager") {
        const leader = swarm.nodes.some((n) => n.leader && n.id === swarm.nodeId);
        let running: Map<string, Set<string>> | null = null;
        for (const s of swarm.services) {
          const prev = services.get(s.name);
          if (prev && (prev.leader || !leader)) continue;
          running ??= runningNodes(swarm);
          services.set(s.name, { running: s.replicasRunning, desired: s.replicasDesired, leader, nodes: running.get(s.name) ?? new Set() });
        }
      }
    }
    return out;
  }

  /** The datastores and services of every host given to `hosts()`. */
  finish(): ObjectSample[] {
    const { at, hostCpu } = this;
    const out: ObjectSample[] = [];
    for (const [path, d] of this.datastores) out.push({ object: seriesKey("datastore", path), at, values: d.values });
    for (const [name, s] of this.services) {
      const cpus = [...s.nodes].flatMap((n) => (hostCpu.has(n) ? [hostCpu.get(n)!] : []));
      out.push({ object: seriesKey("service", name), at, values: [s.running, s.desired, cpus.length ? round(cpus.reduce((a, b) => a + b, 0) / cpus.length) : null] });
    }
    return out;
  }
}

/** Per service, the hostnames of the nodes running its tasks (a task names its node by id or hostname). */
function runningNodes(swarm: NonNullable<HostRecord["inventory"]["swarm"]>): Map<string, Set<string>> {
  const hostname = new Map(swarm.nodes.map((n) => [n.id, n.hostname]));
  const out = new Map<string, Set<string>>();
  for (const t of swarm.tasks) {
    if (t.state !== "running" || !t.node) continue;
    let set = out.get(t.serviceName);
    if (!set) out.set(t.serviceName, (set = new Set()));
    set.add(hostname.get(t.node) ?? t.node);
  }
  return out;
}

/** A 5-minute bucket of one object: per metric the mean and the maximum of its samples. */
export interface MetricRollup {
  object: string;
  bucket: number;
  /** Samples in the bucket. */
  n: number;
  avg: (number | null)[];
  max: (number | null)[];
}

export const bucketOf = (at: number, size = ROLLUP_MS) => Math.floor(at / size) * size;

/** An open bucket's slot in the slab: bucket, samples, width, then per metric its sum, count and maximum (NaN: none). */
const HEAD = 3;
const PER_METRIC = 3;

/**
 * Sums samples per object and 5-minute bucket as they are written, so rollups cost no scan of
 * the samples table. A bucket closes when a later bucket's sample of any object arrives (samples
 * come in time order) or on `drain()`. `lazy` (the server's writer): an object's bucket closes
 * with its own next sample instead, so closing 22,000 buckets is spread over the slices of a
 * round, not one turn of the event loop (~100-240 ms at 2,000 x 10 on a loaded machine); an
 * object that sent nothing in a whole bucket has its last one closed when the next one starts.
 *
 * The open buckets (22,000 objects x ~10 metrics at 2,000 x 10) live in one Float64Array, a slot
 * per object: arrays of sums, counts and boxed maxima per object were ~0.5 KB and ~15 objects each
 * on the heap, marked by every full collection; the slab is outside the heap and one object.
 */
export class RollupAccumulator {
  /** Object -> its slot; insertion order is the order buckets close in. */
  private readonly open = new Map<string, number>();
  private current: number | null = null;
  private slab = new Float64Array(0);
  /** Metrics a slot has room for (grows to the widest sample seen). */
  private width = 0;
  private slots = 0;
  private readonly free: number[] = [];

  constructor(
    private readonly size = ROLLUP_MS,
    private readonly lazy = false,
  ) {}

  private get stride() {
    return HEAD + PER_METRIC * this.width;
  }

  /** Adds samples; returns the rollups of buckets this closed. */
  add(samples: readonly ObjectSample[]): MetricRollup[] {
    const closed: MetricRollup[] = [];
    for (const s of samples) {
      const bucket = bucketOf(s.at, this.size);
      if (this.current !== null && bucket > this.current) closed.push(...this.closeBefore(this.lazy ? bucket - this.size : bucket));
      if (this.current === null || bucket > this.current) this.current = bucket;
      const values = s.values;
      if (values.length > this.width) this.widen(values.length);
      let slot = this.open.get(s.object);
      let at: number;
      if (slot === undefined) {
        slot = this.take();
        this.open.set(s.object, slot);
        at = slot * this.stride;
        this.reset(at, bucket);
      } else {
        at = slot * this.stride;
        if (this.slab[at] !== bucket) {
          // A late sample of an earlier bucket (or an object's first in a new one) closes what it had.
          closed.push(this.finish(s.object, at));
          this.reset(at, bucket);
        }
      }
      const slab = this.slab;
      slab[at + 1]!++;
      // A plain loop: this runs for every value of every object every 10 s (220,000 at 2,000 x 10).
      if (values.length > slab[at + 2]!) {
        for (let i = slab[at + 2]!; i < values.length; i++) {
          const m = at + HEAD + PER_METRIC * i;
          slab[m] = 0;
          slab[m + 1] = 0;
          slab[m + 2] = NaN;
        }
        slab[at + 2] = values.length;
      }
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v === null || v === undefined || !Number.isFinite(v)) continue;
        const m = at + HEAD + PER_METRIC * i;
        slab[m]! += v;
        slab[m + 1]!++;
        const max = slab[m + 2]!;
        if (Number.isNaN(max) || v > max) slab[m + 2] = v;
      }
    }
    return closed;
  }

  /** Rollups of every bucket still open (at shutdown); partial buckets merge with a later write. */
  drain(): MetricRollup[] {
    const stride = this.stride;
    const all = [...this.open].map(([object, slot]) => this.finish(object, slot * stride));
    this.open.clear();
    this.free.length = 0;
    this.slots = 0;
    return all;
  }

  private closeBefore(bucket: number): MetricRollup[] {
    const closed: MetricRollup[] = [];
    const stride = this.stride;
    for (const [object, slot] of this.open) {
      if (this.slab[slot * stride]! < bucket) {
        closed.push(this.finish(object, slot * stride));
        this.open.delete(object);
        this.free.push(slot);
      }
    }
    return closed;
  }

  private reset(at: number, bucket: number) {
    this.slab[at] = bucket;
    this.slab[at + 1] = 0;
    this.slab[at + 2] = 0;
  }

  /** A free slot, the slab doubled when full. */
  private take(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    const slot = this.slots++;
    if ((slot + 1) * this.stride > this.slab.length) {
      const grown = new Float64Array(Math.max(64, 2 * this.slots) * this.stride);
      grown.set(this.slab);
      this.slab = grown;
    }
    return slot;
  }

  /** Room for `width` metrics in every slot: each slot moved to its place in a wider slab. */
  private widen(width: number) {
    const before = this.stride;
    const old = this.slab;
    this.width = width;
    const stride = this.stride;
    const slab = new Float64Array(Math.max(64, this.slots) * stride);
    for (let slot = 0; slot < this.slots; slot++) slab.set(old.subarray(slot * before, (slot + 1) * before), slot * stride);
    this.slab = slab;
  }

  private finish(object: string, at: number): MetricRollup {
    const slab = this.slab;
    const width = slab[at + 2]!;
    const avg: (number | null)[] = new Array(width);
    const max: (number | null)[] = new Array(width);
    for (let i = 0; i < width; i++) {
      const m = at + HEAD + PER_METRIC * i;
      const count = slab[m + 1]!;
      avg[i] = count ? round(slab[m]! / count, 4) : null;
      max[i] = Number.isNaN(slab[m + 2]!) ? null : slab[m + 2]!;
    }
    return { object, bucket: slab[at]!, n: slab[at + 1]!, avg, max };
  }
}

/** Two rollups of the same bucket (one written before a restart, one after): weighted by their sample counts. */
export function mergeRollups(a: MetricRollup, b: MetricRollup): MetricRollup {
  const len = Math.max(a.avg.length, b.avg.length);
  const avg: (number | null)[] = [];
  const max: (number | null)[] = [];
  for (let i = 0; i < len; i++) {
    const x = a.avg[i] ?? null;
    const y = b.avg[i] ?? null;
    avg.push(x === null ? y : y === null ? x : round((x * a.n + y * b.n) / (a.n + b.n), 4));
    const mx = a.max[i] ?? null;
    const my = b.max[i] ?? null;
    max.push(mx === null ? my : my === null ? mx : Math.max(mx, my));
  }
  return { object: a.object, bucket: a.bucket, n: a.n + b.n, avg, max };
}

/** A chart's request: one metric of one object over a bounded range. */
export const SeriesRange = z
  .object({
    /** Epoch milliseconds. */
    from: z.number().int().nonnegative(),
    to: z.number().int().nonnegative(),
    maxPoints: z.number().int().min(10).max(MAX_POINTS).default(500),
  })
  .refine((r) => r.from < r.to, { message: "the range must end after it starts", path: ["to"] })
  .refine((r) => r.to - r.from <= ROLLUP_KEEP_MS, { message: "a range may span at most 30 days", path: ["from"] });
export type SeriesRange = z.infer<typeof SeriesRange>;

export type Resolution = "raw" | "5m";

/**
 * Which table answers a range: full resolution while all of it is still kept (the last 24 h) and
 * the chart's step stays under half a rollup bucket; rollups otherwise. A day at 400-500 points
 * (a 3-4 minute step) reads 288 rollups instead of 8,640 samples: a host's samples lie one per
 * 10-s batch, each on its own page, so the day's samples are thousands of page reads cold.
 */
export function chooseResolution(range: { from: number; to: number; maxPoints?: number }, now: number): Resolution {
  if (range.from < now - RAW_KEEP_MS) return "5m";
  if (range.maxPoints !== undefined && pointStep({ ...range, maxPoints: range.maxPoints }, "raw") >= ROLLUP_MS / 2) return "5m";
  return "raw";
}

/**
 * Where a rollup series hands over to raw samples: the bucket before the current one. The current
 * bucket is still summed in memory (the writer stores it once it closes), and the one before may
 * be in the middle of being written; both are read from the samples instead.
 */
export const rollupTailFrom = (now: number) => bucketOf(now) - ROLLUP_MS;

/** The step between points: the resolution's, widened so the range holds at most `maxPoints`. */
export function pointStep(range: { from: number; to: number; maxPoints: number }, resolution: Resolution): number {
  const base = resolution === "raw" ? SAMPLE_INTERVAL_MS : ROLLUP_MS;
  const need = Math.ceil((range.to - range.from) / range.maxPoints);
  return Math.max(base, Math.ceil(need / base) * base);
}

/** A stored point: a raw sample (n 1, avg = max = value) or a rollup. */
export interface StoredPoint {
  t: number;
  avg: number | null;
  max: number | null;
  n: number;
}

/** A chart point: the mean and the maximum over its step. */
export interface SeriesPoint {
  t: number;
  avg: number | null;
  max: number | null;
}

/**
 * Groups stored points (in time order) into steps aligned to `step` (so a zoom shows the same
 * boundaries), mean weighted by sample counts, maximum of maxima; at most
 * ceil((to - from) / step) + 1 points, empty steps left out (a gap in the line).
 */
export function downsample(points: readonly StoredPoint[], range: { from: number; to: number }, step: number): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  let t = Number.NaN;
  let sum = 0;
  let weight = 0;
  let max: number | null = null;
  const flush = () => {
    if (Number.isNaN(t)) return;
    out.push({ t, avg: weight ? round(sum / weight, 4) : null, max });
  };
  for (const p of points) {
    if (p.t < range.from || p.t > range.to) continue;
    const b = bucketOf(p.t, step);
    if (b !== t) {
      flush();
      t = b;
      sum = 0;
      weight = 0;
      max = null;
    }
    if (p.avg !== null) {
      sum += p.avg * p.n;
      weight += p.n;
    }
    if (p.max !== null) max = max === null ? p.max : Math.max(max, p.max);
  }
  flush();
  return out;
}

/** What a series query answers. */
export interface SeriesAnswer {
  object: string;
  metric: string;
  unit: string;
  resolution: Resolution;
  step: number;
  from: number;
  to: number;
  points: SeriesPoint[];
}
