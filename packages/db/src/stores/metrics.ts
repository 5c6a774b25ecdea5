import { sql, type SQL } from "drizzle-orm";
import { RAW_KEEP_MS, ROLLUP_KEEP_MS, ROLLUP_MS, RollupAccumulator, SAMPLE_INTERVAL_MS, bucketOf, type MetricRollup, type ObjectSample, type Resolution, type StoredPoint } from "@nimbus/domain";
import type { Db } from "../open.js";
import { textArray } from "./sql-arrays.js";

const rowsOf = <T>(r: unknown) => (r as { rows: T[] }).rows;

/**
 * Rows per INSERT when nothing waits (flush at shutdown, tests, tools): PGlite runs a statement on
 * the server's own thread, and statements awaited back to back never let the event loop turn (its
 * promises settle as microtasks), so the running server writes `Pace`d instead. A sample row
 * carries up to 30 samples, so fewer of them go in one statement than rollups.
 */
const CHUNK = 1_000;
const SAMPLE_ROWS = 250;

/**
 * How the running server writes: small statements (~3-6 ms each of PGlite's time on this
 * machine) and a turn of the event loop between them, so a request that arrives meanwhile waits
 * one statement, not the batch.
 */
export interface Pace {
  /** Sample rows per statement. */
  sampleRows: number;
  /** Rollup rows per statement. */
  rollupRows: number;
  /** Rows deleted per statement (retention). */
  deleteRows: number;
  /** Waited between two statements. */
  pause: () => Promise<void>;
}

/** The server's pace: one `setImmediate` between statements (pending I/O is served first). */
export const LOOP_PACE: Pace = {
  sampleRows: 100,
  rollupRows: 150,
  deleteRows: 1_000,
  pause: () => new Promise((resolve) => setImmediate(resolve)),
};

/** `{1.5,NULL,3}`: a row's values as one array literal, cast in SQL (unnest would flatten a 2-D array). */
const arrayLiteral = (values: readonly (number | null)[]) => `{${values.map((v) => (v === null || !Number.isFinite(v) ? "NULL" : String(v))).join(",")}}`;

/**
 * A value kept as float4 (the column's own type) back as the number it was sampled as: samples are
 * rounded to 2 decimals, and 40.13 as float4 is 40.130001068115234 as a double.
 */
export const fromFloat32 = (x: number): number | null => {
  if (Number.isNaN(x)) return null;
  for (const d of [100, 1_000, 10_000]) {
    const r = Math.round(x * d) / d;
    if (Math.fround(r) === x) return r;
  }
  return x;
};

/**
 * One object's samples inside one 5-minute bucket, stored as one row (`metric_chunks`): the
 * first sample's instant, each sample's offset from it, and the values as a float4 matrix
 * (sample x metric, `METRICS[kind]` order, NaN for unknown). 30 samples in one row instead of 30
 * rows: the row and index upkeep per sample was most of the history's cost at fleet size.
 */
export class SampleChunk {
  n = 0;
  dt: Int32Array;
  v: Float32Array;

  constructor(
    readonly object: string,
    /** The first sample's instant (ms): the row's key with the object. */
    readonly at: number,
    public width: number,
    readonly capacity: number,
    slab?: Slab,
  ) {
    this.dt = slab ? slab.ints(capacity) : new Int32Array(capacity);
    this.v = slab ? slab.floats(capacity * width) : new Float32Array(capacity * width);
  }

  get full() {
    return this.n >= this.capacity;
  }

  push(at: number, values: readonly (number | null)[]) {
    if (values.length > this.width) {
      // A wider sample (a metric added while the server runs): the matrix widens, earlier samples padded as unknown.
      const wider = new Float32Array(this.capacity * values.length).fill(Number.NaN);
      for (let i = 0; i < this.n; i++) wider.set(this.v.subarray(i * this.width, (i + 1) * this.width), i * values.length);
      this.v = wider;
      this.width = values.length;
    }
    const base = this.n * this.width;
    for (let k = 0; k < this.width; k++) {
      const x = values[k];
      this.v[base + k] = x === null || x === undefined || !Number.isFinite(x) ? Number.NaN : x;
    }
    this.dt[this.n] = Math.round(at - this.at);
    this.n++;
  }

  /** Sample i's value of metric k (null: unknown). */
  value(i: number, k: number): number | null {
    return k < this.width ? fromFloat32(this.v[i * this.width + k]!) : null;
  }

  dtLiteral() {
    return `{${Array.from(this.dt.subarray(0, this.n)).join(",")}}`;
  }

  /** The matrix as the column stores it: little-endian float4, row by row, in base64 (one text parameter element). */
  valuesBase64() {
    const count = this.n * this.width;
    const bytes = Buffer.allocUnsafe(count * 4);
    for (let i = 0; i < count; i++) bytes.writeFloatLE(this.v[i]!, i * 4);
    return bytes.toString("base64");
  }
}

/** A stored row's matrix back: each sample's value of metric k, null when unknown or past the row's width. */
function valuesOf(bytes: Uint8Array, samples: number, k: number): (number | null)[] {
  const width = samples ? Math.floor(bytes.byteLength / 4 / samples) : 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: (number | null)[] = [];
  for (let i = 0; i < samples; i++) out.push(k < width ? fromFloat32(view.getFloat32((i * width + k) * 4, true)) : null);
  return out;
}

/** Points grouped into steps aligned to `step` like `bucketOf`: mean weighted by counts, maximum of maxima, oldest first. */
function groupPoints(points: readonly StoredPoint[], step: number): StoredPoint[] {
  const steps = new Map<number, { sum: number; n: number; max: number | null; weight: number }>();
  for (const p of points) {
    const t = Math.floor(p.t / step) * step;
    let g = steps.get(t);
    if (!g) steps.set(t, (g = { sum: 0, n: 0, max: null, weight: 0 }));
    if (p.avg !== null && p.n > 0) {
      g.sum += p.avg * p.n;
      g.weight += p.n;
    }
    g.n += p.avg === null ? 0 : p.n;
    if (p.max !== null) g.max = g.max === null ? p.max : Math.max(g.max, p.max);
  }
  return [...steps]
    .sort((x, y) => x[0] - y[0])
    .map(([t, g]) => ({ t, avg: g.weight ? Math.round((g.sum / g.weight) * 10_000) / 10_000 : null, max: g.max, n: g.n }));
}

/**
 * Views into shared 1 MB buffers for one bucket's open rows: 22,000 rows each with two typed
 * arrays of their own would be 44,000 backing stores (~200 bytes of bookkeeping each). A slab is
 * freed once every row cut from it is written.
 */
export class Slab {
  private f = new Float32Array(0);
  private fUsed = 0;
  private i = new Int32Array(0);
  private iUsed = 0;

  floats(n: number): Float32Array {
    if (this.fUsed + n > this.f.length) {
      this.f = new Float32Array(Math.max(1 << 18, n));
      this.fUsed = 0;
    }
    this.fUsed += n;
    return this.f.subarray(this.fUsed - n, this.fUsed);
  }

  ints(n: number): Int32Array {
    if (this.iUsed + n > this.i.length) {
      this.i = new Int32Array(Math.max(1 << 16, n));
      this.iUsed = 0;
    }
    this.iUsed += n;
    return this.i.subarray(this.iUsed - n, this.iUsed);
  }
}

/** Samples as rows: per object and 5-minute bucket, in the order given. */
export function chunksOf(samples: readonly ObjectSample[]): SampleChunk[] {
  const open = new Map<string, SampleChunk[]>();
  for (const s of samples) {
    const key = `${bucketOf(s.at)} ${s.object}`;
    let list = open.get(key);
    if (!list) open.set(key, (list = []));
    let c = list.at(-1);
    if (!c || c.full) list.push((c = new SampleChunk(s.object, s.at, s.values.length, 30)));
    c.push(s.at, s.values);
  }
  return [...open.values()].flat();
}

/**
 * Metric history in the database: samples at full resolution (one row per object and 5-minute
 * bucket) and 5-minute rollups, written in bulk (one array parameter per column, like the health
 * history), read one series at a time.
 */
export class MetricStore {
  constructor(private readonly db: Db) {}

  /** Samples in any order (tests, tools): grouped into one row per object and bucket. */
  writeSamples(samples: readonly ObjectSample[]): Promise<void> {
    return this.writeChunks(chunksOf(samples));
  }

  /** `pace`: statements of `pace.sampleRows` rows with `pace.pause()` between them (else as fast as it goes). */
  async writeChunks(chunks: readonly SampleChunk[], pace?: Pace): Promise<void> {
    const size = pace?.sampleRows ?? SAMPLE_ROWS;
    for (let i = 0; i < chunks.length; i += size) {
      const part = chunks.slice(i, i + size).filter((c) => c.n > 0);
      if (!part.length) continue;
      if (i > 0) await pace?.pause();
      // A repeated (object, at) keeps the first: a writer never writes one twice, a replay must not fail the batch.
      await this.db.execute(sql`
        insert into metric_chunks (object, at, dt, v)
        select o, to_timestamp(t::double precision / 1000), d::int[], decode(v, 'base64')
        from unnest(${textArray(part.map((c) => c.object))}, ${textArray(part.map((c) => String(c.at)))},
                    ${textArray(part.map((c) => c.dtLiteral()))}, ${textArray(part.map((c) => c.valuesBase64()))}) as u(o, t, d, v)
        on conflict (object, at) do nothing`);
    }
  }

  /** Writes rollups; one already stored for the bucket (written before a restart) is merged, weighted by sample counts. */
  async writeRollups(rollups: readonly MetricRollup[], pace?: Pace): Promise<void> {
    const size = pace?.rollupRows ?? CHUNK;
    for (let i = 0; i < rollups.length; i += size) {
      const part = rollups.slice(i, i + size);
      if (i > 0) await pace?.pause();
      await this.db.execute(sql`
        insert into metric_rollups as r (object, bucket, n, avg, max)
        select o, to_timestamp(b::double precision / 1000), n::int, a::real[], m::real[]
        from unnest(${textArray(part.map((x) => x.object))}, ${textArray(part.map((x) => String(x.bucket)))}, ${textArray(part.map((x) => String(x.n)))},
                    ${textArray(part.map((x) => arrayLiteral(x.avg)))}, ${textArray(part.map((x) => arrayLiteral(x.max)))}) as u(o, b, n, a, m)
        on conflict (object, bucket) do update set
          n = r.n + excluded.n,
          avg = (select array_agg(case when x is null then y when y is null then x else (x * r.n + y * excluded.n) / (r.n + excluded.n) end order by k)
                 from unnest(r.avg, excluded.avg) with ordinality as z(x, y, k)),
          max = (select array_agg(case when x is null then y when y is null then x else greatest(x, y) end order by k)
                 from unnest(r.max, excluded.max) with ordinality as z(x, y, k))`);
    }
  }

  /**
   * One metric (`index`, 0-based in `METRICS[kind]`) of one object over [from, to], oldest first,
   * from raw samples or rollups as the resolution says, grouped into steps of `step` ms aligned
   * like `bucketOf` (mean weighted by sample counts, maximum of maxima): a 24 h chart reads 288
   * rollups (grouped in SQL; no timestamp parsed per row) or, at full resolution, at most 288
   * sample rows of 30 samples each, decoded here. With rollups, buckets from `rawFrom` on
   * (`rollupTailFrom(now)`: the open bucket and the one just closed) come from the samples, so
   * the chart reaches the latest sample. `skip`: sample rows (by their first instant) left out,
   * since the writer answers for them from memory.
   */
  async series(object: string, index: number, range: { from: number; to: number }, resolution: Resolution, step: number, rawFrom?: number, skip: readonly number[] = []): Promise<StoredPoint[]> {
    const samplesFrom = async (lo: number): Promise<StoredPoint[]> => {
      if (lo > range.to) return [];
      // A row spans at most one bucket, so a row that starts a bucket before `lo` may still hold samples from it.
      const rows = rowsOf<{ t: number | string; dt: number[]; v: Uint8Array }>(
        await this.db.execute(sql`
          select (extract(epoch from at) * 1000)::float8 as t, dt, v from metric_chunks
          where object = ${object} and at >= ${new Date(lo - ROLLUP_MS)} and at <= ${new Date(range.to)}${
            skip.length ? sql` and at <> all(${textArray(skip.map((t) => new Date(t).toISOString()))}::timestamptz[])` : sql``
          }`),
      );
      const out: StoredPoint[] = [];
      for (const r of rows) {
        const at = Number(r.t);
        const values = valuesOf(r.v, r.dt.length, index);
        r.dt.forEach((d, i) => {
          const t = at + Number(d);
          if (t < lo || t > range.to) return;
          const v = values[i]!;
          out.push({ t, avg: v, max: v, n: v === null ? 0 : 1 });
        });
      }
      return out;
    };
    if (resolution === "raw") return groupPoints(await samplesFrom(range.from), step);
    const k = index + 1;
    const group = (ms: SQL) => sql`floor(${ms} / ${step}::float8)::float8 * ${step}::float8`;
    const tail = rawFrom === undefined ? null : new Date(rawFrom);
    const rollups = rowsOf<{ t: number; a: number | null; m: number | null; n: number }>(
      await this.db.execute(sql`
        select ${group(sql`extract(epoch from bucket) * 1000`)} as t,
               (sum(avg[${k}::int] * n) / nullif(sum(case when avg[${k}::int] is null then 0 else n end), 0))::float8 as a,
               max(max[${k}::int]) as m, sum(case when avg[${k}::int] is null then 0 else n end)::int as n
        from metric_rollups where object = ${object} and bucket >= ${new Date(range.from)} and bucket <= ${new Date(range.to)}${tail ? sql` and bucket < ${tail}` : sql``}
        group by 1 order by 1`),
    ).map((r) => ({ t: Number(r.t), avg: r.a === null ? null : Number(r.a), max: r.m === null ? null : Number(r.m), n: Number(r.n) }));
    const samples = rawFrom === undefined ? [] : await samplesFrom(Math.max(range.from, rawFrom));
    return groupPoints([...rollups, ...samples], step);
  }

  /** Removes samples older than 24 h (rows by their first sample) and rollups older than 30 days (before `now`), `batch` rows a statement (`pace`: `pace.deleteRows`, a pause between). */
  async prune(now: number, batch = 5_000, pace?: Pace): Promise<number> {
    if (pace) batch = pace.deleteRows;
    let total = 0;
    for (const [table, column, keep] of [
      ["metric_chunks", "at", RAW_KEEP_MS],
      ["metric_rollups", "bucket", ROLLUP_KEEP_MS],
    ] as const) {
      const cutoff = new Date(now - keep);
      for (let first = true; ; first = false) {
        if (!first) await pace?.pause();
        const n = Number(
          rowsOf<{ n: number }>(
            await this.db.execute(sql`with doomed as (
              select ctid from ${sql.identifier(table)} where ${sql.identifier(column)} < ${cutoff} limit ${batch}::int)
              , gone as (delete from ${sql.identifier(table)} where ctid in (select ctid from doomed) returning 1)
              select count(*)::int as n from gone`),
          )[0]?.n ?? 0,
        );
        total += n;
        if (n < batch) break;
      }
    }
    return total;
  }
}

export interface MetricWriterOptions {
  /**
   * Samples an object's row gathers before it is written (at most 30, a bucket); it is written
   * when its bucket closes in any case. The default, 10 (100 s), holds ~8 MB at 2,000 x 10 and
   * costs ~0.1 % of a core more than whole buckets (25 MB); replicas pass 6, so charts on the
   * other replicas lag by at most a minute.
   */
  rowSamples?: number;
  /** How record() writes (default `LOOP_PACE`); flush() never waits between statements. */
  pace?: Pace;
}

/** Rounds of the sampler in one bucket (30). */
const ROUNDS = ROLLUP_MS / SAMPLE_INTERVAL_MS;

/** An object's round (0 .. rowSamples-1) for closing its rows: FNV-1a of its id, so it is the same after a restart and on every replica. */
export function phaseOf(object: string, rowSamples: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < object.length; i++) h = Math.imul(h ^ object.charCodeAt(i), 0x01000193);
  return (h >>> 0) % rowSamples;
}

/**
 * A new row's capacity: it closes on the object's own round, where (round in bucket + phase) is a
 * multiple of `rowSamples`, or at the bucket's end (`tail`: the row is written with the object's
 * next one, on its round in the next bucket). So ~1/rowSamples of the objects close a row each
 * round instead of all of them together every `rowSamples` rounds and at every bucket boundary.
 */
export function rowPlan(at: number, phase: number, rowSamples: number): { capacity: number; tail: boolean } {
  const round = Math.min(ROUNDS - 1, Math.max(0, Math.floor((at - bucketOf(at)) / SAMPLE_INTERVAL_MS)));
  const toPhase = rowSamples - ((round + phase) % rowSamples);
  const left = ROUNDS - round;
  return toPhase <= left ? { capacity: toPhase, tail: false } : { capacity: left, tail: true };
}

/**
 * Takes each sample batch the server's sampler makes and keeps each object's samples in memory
 * (float4, as the column) until its row closes: on the object's own round (`rowPlan`: objects
 * are staggered over the `rowSamples` rounds by a hash of their id), or, for the last row of a
 * 5-minute bucket, at the bucket's end; that row waits ("carried") and is written with the
 * object's first row of the next bucket, so a bucket boundary writes no sample rows of its own
 * and no object ever has more than `rowSamples` samples unwritten (as before the stagger). A
 * closed bucket's rollups (summed as samples passed: no scan of the samples table) are written
 * after that round's rows. Writes go in order, paced (`Pace`: small statements, a turn of the
 * event loop between them) so PGlite, which runs on the server's thread, never holds it for more
 * than a statement. Charts read through it (`series`): what is not written yet is answered from
 * memory. A failed batch is reported, not retried: the live views never depend on it.
 */
export class MetricWriter {
  /** Lazy: each object's bucket closes with its own next sample (a round comes in slices, see MetricsRecorder). */
  private readonly acc = new RollupAccumulator(ROLLUP_MS, true);
  private chain: Promise<void> = Promise.resolve();
  private open = new Map<string, SampleChunk>();
  /** Open rows that end at their bucket's end (written with the object's next row, see `rowPlan`). */
  private tails = new Set<SampleChunk>();
  /** Closed last rows of the previous bucket, waiting for the object's next row (or the next bucket's end). */
  private carried = new Map<string, SampleChunk>();
  private bucket: number | null = null;
  /** Rows handed to the chain and not written yet, oldest first (charts read them from here meanwhile). */
  private readonly writing: Map<string, SampleChunk[]>[] = [];
  private readonly rowSamples: number;
  /** Staggered: fewer samples a row than a bucket has rounds (30 samples a row: every row closes with its bucket anyway). */
  private readonly stagger: boolean;
  private readonly pace: Pace;
  private slab = new Slab();

  constructor(
    private readonly store: MetricStore,
    private readonly onError: (err: unknown) => void,
    opts: MetricWriterOptions = {},
  ) {
    this.rowSamples = Math.max(1, Math.min(ROUNDS, opts.rowSamples ?? 10));
    this.stagger = this.rowSamples < ROUNDS;
    this.pace = opts.pace ?? LOOP_PACE;
  }

  /** Queues a batch (samples in time order); resolves once what it closed and every earlier write is stored. */
  record(samples: readonly ObjectSample[]): Promise<void> {
    if (!samples.length) return this.chain;
    const closed = this.acc.add(samples);
    const done: SampleChunk[] = [];
    const close = (c: SampleChunk) => {
      const carried = this.carried.get(c.object);
      if (carried) {
        done.push(carried);
        this.carried.delete(c.object);
      }
      if (this.tails.delete(c)) this.carried.set(c.object, c);
      else done.push(c);
    };
    for (const s of samples) {
      const bucket = bucketOf(s.at);
      if (this.bucket !== null && bucket > this.bucket) {
        // A bucket's end: rows carried from the bucket before whose object sent nothing since (gone) are written now.
        for (const [object, c] of this.carried) {
          if (bucketOf(c.at) >= this.bucket) continue;
          done.push(c);
          this.carried.delete(object);
        }
        for (const c of this.open.values()) close(c);
        this.open = new Map();
        this.tails = new Set();
        this.slab = new Slab();
      }
      if (this.bucket !== null && bucket < this.bucket) {
        // A late sample of a bucket already closed: a row of its own.
        const late = new SampleChunk(s.object, s.at, s.values.length, 1);
        late.push(s.at, s.values);
        done.push(late);
        continue;
      }
      this.bucket = bucket;
      let c = this.open.get(s.object);
      if (!c) {
        const plan = this.stagger ? rowPlan(s.at, phaseOf(s.object, this.rowSamples), this.rowSamples) : { capacity: this.rowSamples, tail: true };
        this.open.set(s.object, (c = new SampleChunk(s.object, s.at, s.values.length, plan.capacity, this.slab)));
        if (plan.tail && this.stagger) this.tails.add(c);
      }
      c.push(s.at, s.values);
      if (c.full) {
        close(c);
        this.open.delete(s.object);
      }
    }
    if (done.length || closed.length) this.write(done, closed, this.pace);
    return this.chain;
  }

  /** What the rows in memory hold (their values and offsets): at 2,000 x 10, ~8 MB at most. */
  held(): { rows: number; bytes: number } {
    let bytes = 0;
    for (const c of [...this.open.values(), ...this.carried.values()]) bytes += c.dt.byteLength + c.v.byteLength;
    return { rows: this.open.size + this.carried.size, bytes };
  }

  /** At shutdown: writes what is still in memory, and the open buckets as partial rollups (merged with the rest after a restart); no pause between statements. */
  flush(): Promise<void> {
    const rows = [...this.carried.values(), ...this.open.values()];
    this.open = new Map();
    this.carried = new Map();
    this.tails = new Set();
    this.slab = new Slab();
    const open = this.acc.drain();
    if (rows.length || open.length) this.write(rows, open);
    return this.chain;
  }

  private write(rows: SampleChunk[], rollups: MetricRollup[], pace?: Pace) {
    const pending = new Map<string, SampleChunk[]>();
    for (const c of rows) {
      const list = pending.get(c.object);
      if (list) list.push(c);
      else pending.set(c.object, [c]);
    }
    this.writing.push(pending);
    this.chain = this.chain
      .then(async () => {
        if (rows.length) await this.store.writeChunks(rows, pace);
        if (rows.length && rollups.length) await pace?.pause();
        if (rollups.length) await this.store.writeRollups(rollups, pace);
      })
      .catch(this.onError)
      .finally(() => this.writing.splice(this.writing.indexOf(pending), 1));
  }

  /**
   * A chart's points (as `MetricStore.series`): the stored ones, and the samples still in memory
   * (not yet written, or being written) as points of their own; `downsample` groups them with
   * the rest. Rows the database may hold already but memory still has are read from memory only.
   */
  async series(object: string, index: number, range: { from: number; to: number }, resolution: Resolution, step: number, rawFrom?: number): Promise<StoredPoint[]> {
    const rows = [...this.writing.flatMap((w) => w.get(object) ?? []), ...[this.carried.get(object), this.open.get(object)].filter((c) => c !== undefined)];
    const lo = resolution === "raw" ? range.from : rawFrom === undefined ? Number.POSITIVE_INFINITY : Math.max(range.from, rawFrom);
    const mem: StoredPoint[] = [];
    // Read before the query: an open row gains samples meanwhile, and the database answers for rows older than these only.
    for (const c of rows) {
      for (let i = 0; i < c.n; i++) {
        const t = c.at + c.dt[i]!;
        if (t < lo || t > range.to) continue;
        const v = c.value(i, index);
        mem.push({ t, avg: v, max: v, n: v === null ? 0 : 1 });
      }
    }
    const stored = await this.store.series(object, index, range, resolution, step, rawFrom, rows.map((c) => c.at));
    if (!mem.length) return stored;
    return [...stored, ...mem].sort((a, b) => a.t - b.t);
  }
}
