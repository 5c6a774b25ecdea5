import { sql, type SQL } from "drizzle-orm";
import { RAW_KEEP_MS, ROLLUP_KEEP_MS, RollupAccumulator, type MetricRollup, type ObjectSample, type Resolution, type StoredPoint } from "@nimbus/domain";
import type { Db } from "../open.js";
import { textArray } from "./sql-arrays.js";

const rowsOf = <T>(r: unknown) => (r as { rows: T[] }).rows;

/**
 * Rows per INSERT. PGlite runs a statement on the server's own thread: 1,000 rows is ~30 ms of
 * it, and the event loop turns between chunks, so a 10,000-row batch (2,000 hosts with 4 VMs
 * each) never holds it for the batch's whole length.
 */
const CHUNK = 1_000;

/** `{1.5,NULL,3}`: a row's values as one array literal, cast in SQL (unnest would flatten a 2-D array). */
const arrayLiteral = (values: readonly (number | null)[]) => `{${values.map((v) => (v === null || !Number.isFinite(v) ? "NULL" : String(v))).join(",")}}`;

/**
 * Metric history in the database: samples at full resolution and 5-minute rollups, written in
 * bulk (one array parameter per column, like the health history), read one series at a time.
 */
export class MetricStore {
  constructor(private readonly db: Db) {}

  async writeSamples(samples: readonly ObjectSample[]): Promise<void> {
    for (let i = 0; i < samples.length; i += CHUNK) {
      const part = samples.slice(i, i + CHUNK);
      // A repeated (object, at) keeps the first: a sampler never writes one twice, a replay must not fail the batch.
      await this.db.execute(sql`
        insert into metric_samples (object, at, v)
        select o, to_timestamp(t::double precision / 1000), v::real[]
        from unnest(${textArray(part.map((s) => s.object))}, ${textArray(part.map((s) => String(s.at)))}, ${textArray(part.map((s) => arrayLiteral(s.values)))}) as u(o, t, v)
        on conflict (object, at) do nothing`);
    }
  }

  /** Writes rollups; one already stored for the bucket (written before a restart) is merged, weighted by sample counts. */
  async writeRollups(rollups: readonly MetricRollup[]): Promise<void> {
    for (let i = 0; i < rollups.length; i += CHUNK) {
      const part = rollups.slice(i, i + CHUNK);
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
   * from raw samples or rollups as the resolution says, grouped in SQL into steps of `step` ms
   * aligned like `bucketOf` (mean weighted by sample counts, maximum of maxima): a 24 h chart
   * reads 288 rollups (or 8,640 samples when asked for at full resolution) and hands back a few
   * hundred points, and no timestamp is parsed per row. With rollups, buckets from `rawFrom` on
   * (`rollupTailFrom(now)`: the open bucket and the one just closed) come from the samples, so
   * the chart reaches the latest sample.
   */
  async series(object: string, index: number, range: { from: number; to: number }, resolution: Resolution, step: number, rawFrom?: number): Promise<StoredPoint[]> {
    const k = index + 1;
    const from = new Date(range.from);
    const to = new Date(range.to);
    const group = (ms: SQL) => sql`floor(${ms} / ${step}::float8)::float8 * ${step}::float8`;
    let rows: { t: number; a: number | null; m: number | null; n: number }[];
    if (resolution === "raw") {
      rows = rowsOf(
        await this.db.execute(sql`
          select ${group(sql`extract(epoch from at) * 1000`)} as t,
                 avg(v[${k}::int])::float8 as a, max(v[${k}::int]) as m, count(v[${k}::int])::int as n
          from metric_samples where object = ${object} and at >= ${from} and at <= ${to}
          group by 1 order by 1`),
      );
    } else {
      const tail = rawFrom === undefined ? null : new Date(rawFrom);
      const rollups = sql`
        select extract(epoch from bucket) * 1000 as ms, avg[${k}::int]::float8 as a, max[${k}::int] as m, case when avg[${k}::int] is null then 0 else n end as n
        from metric_rollups where object = ${object} and bucket >= ${from} and bucket <= ${to}${tail ? sql` and bucket < ${tail}` : sql``}`;
      const samples = sql`
        select extract(epoch from at) * 1000, v[${k}::int]::float8, v[${k}::int], case when v[${k}::int] is null then 0 else 1 end
        from metric_samples where object = ${object} and at >= ${tail} and at >= ${from} and at <= ${to}`;
      rows = rowsOf(
        await this.db.execute(sql`
          select ${group(sql`ms`)} as t, (sum(a * n) / nullif(sum(n), 0))::float8 as a, max(m) as m, sum(n)::int as n
          from (${rollups}${tail ? sql` union all ${samples}` : sql``}) as p(ms, a, m, n)
          group by 1 order by 1`),
      );
    }
    return rows.map((r) => ({ t: Number(r.t), avg: r.a === null ? null : Math.round(Number(r.a) * 10_000) / 10_000, max: r.m === null ? null : Number(r.m), n: Number(r.n) }));
  }

  /** Removes samples older than 24 h and rollups older than 30 days (before `now`), `batch` rows a statement. */
  async prune(now: number, batch = 5_000): Promise<number> {
    let total = 0;
    for (const [table, column, keep] of [
      ["metric_samples", "at", RAW_KEEP_MS],
      ["metric_rollups", "bucket", ROLLUP_KEEP_MS],
    ] as const) {
      const cutoff = new Date(now - keep);
      for (;;) {
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

/**
 * Takes each sample batch the server's sampler makes, keeps the 5-minute rollups in memory as
 * samples pass (no scan of the samples table) and writes samples and closed rollups one batch
 * at a time, in order. A failed batch is reported, not retried: the live views never depend on it.
 */
export class MetricWriter {
  private readonly acc = new RollupAccumulator();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: MetricStore,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Queues a batch (samples in time order); resolves once it and every earlier one is written. */
  record(samples: readonly ObjectSample[]): Promise<void> {
    if (!samples.length) return this.chain;
    const closed = this.acc.add(samples);
    this.chain = this.chain
      .then(async () => {
        await this.store.writeSamples(samples);
        if (closed.length) await this.store.writeRollups(closed);
      })
      .catch(this.onError);
    return this.chain;
  }

  /** At shutdown: writes the open buckets as partial rollups (merged with the rest after a restart). */
  flush(): Promise<void> {
    const open = this.acc.drain();
    if (open.length) this.chain = this.chain.then(() => this.store.writeRollups(open)).catch(this.onError);
    return this.chain;
  }
}
