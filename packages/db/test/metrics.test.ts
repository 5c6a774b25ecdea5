import { sql } from "drizzle-orm";
import { ROLLUP_MS, SAMPLE_INTERVAL_MS, downsample, type ObjectSample } from "@nimbus/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthHistory, HistoryEvents, MetricStore, MetricWriter, Retention, type Database } from "../src/index.js";
import { SampleChunk, phaseOf } from "../src/stores/metrics.js";
import { backend, openTestDatabase } from "../src/testing.js";

let database: Database;
let store: MetricStore;
beforeAll(async () => {
  database = await openTestDatabase();
  store = new MetricStore(database.db);
});
afterAll(() => database?.close());

const HOUR = 3600_000;
const rowsOf = <T>(r: unknown) => (r as { rows: T[] }).rows;
const count = async (table: string, object: string) =>
  Number(rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from ${sql.identifier(table)} where object = ${object}`))[0]!.n);

describe(`MetricStore (${backend})`, () => {
  it("writes a batch bigger than one statement's chunk and reads one metric of one object back, oldest first", async () => {
    const t0 = Date.parse("2030-01-01T00:00:00Z");
    const samples: ObjectSample[] = [];
    for (let h = 0; h < 600; h++) samples.push({ object: `host:b${h}`, at: t0, values: [h % 100, 50, null] });
    for (let i = 1; i < 6; i++) samples.push({ object: "host:b7", at: t0 + i * SAMPLE_INTERVAL_MS, values: [i, 50.5, null] });
    await store.writeSamples(samples);
    expect(await count("metric_chunks", "host:b599")).toBe(1);
    // One row per object and bucket: b7's six samples are one row.
    expect(await count("metric_chunks", "host:b7")).toBe(1);
    const cpu = await store.series("host:b7", 0, { from: t0, to: t0 + HOUR }, "raw", SAMPLE_INTERVAL_MS);
    expect(cpu.map((p) => p.avg)).toEqual([7, 1, 2, 3, 4, 5]);
    expect(cpu[1]).toEqual({ t: t0 + SAMPLE_INTERVAL_MS, avg: 1, max: 1, n: 1 });
    // An unknown value stays unknown; a range bound is inclusive; other objects are not read.
    const disk = await store.series("host:b7", 2, { from: t0 + SAMPLE_INTERVAL_MS, to: t0 + 2 * SAMPLE_INTERVAL_MS }, "raw", SAMPLE_INTERVAL_MS);
    expect(disk).toEqual([
      { t: t0 + SAMPLE_INTERVAL_MS, avg: null, max: null, n: 0 },
      { t: t0 + 2 * SAMPLE_INTERVAL_MS, avg: null, max: null, n: 0 },
    ]);
    // Grouped in SQL into aligned steps: [7, 1, 2] and [3, 4, 5] in 30-s steps.
    const wide = await store.series("host:b7", 0, { from: t0, to: t0 + HOUR }, "raw", 3 * SAMPLE_INTERVAL_MS);
    expect(wide).toEqual([
      { t: t0, avg: 3.3333, max: 7, n: 3 },
      { t: t0 + 3 * SAMPLE_INTERVAL_MS, avg: 4, max: 5, n: 3 },
    ]);
  });

  it("a replayed row of the same instant does not fail the batch or double the points; a row holds one bucket", async () => {
    const t = Date.parse("2030-01-02T00:00:00Z");
    await store.writeSamples([{ object: "host:dup", at: t, values: [1] }]);
    await store.writeSamples([
      { object: "host:dup", at: t, values: [2] },
      { object: "host:dup", at: t + ROLLUP_MS, values: [3] },
    ]);
    expect((await store.series("host:dup", 0, { from: t, to: t + HOUR }, "raw", SAMPLE_INTERVAL_MS)).map((p) => p.avg)).toEqual([1, 3]);
  });

  it("rows of different widths (a metric added later) read as unknown where a row has no such value", async () => {
    const t = Date.parse("2030-01-02T06:00:00Z");
    await store.writeSamples([
      { object: "instance:w", at: t, values: [1, 2] },
      { object: "instance:w", at: t + ROLLUP_MS, values: [1, 2, 30.25] },
      { object: "instance:w", at: t + ROLLUP_MS + SAMPLE_INTERVAL_MS, values: [1, 2, null] },
    ]);
    expect(await store.series("instance:w", 2, { from: t, to: t + HOUR }, "raw", SAMPLE_INTERVAL_MS)).toEqual([
      { t, avg: null, max: null, n: 0 },
      { t: t + ROLLUP_MS, avg: 30.25, max: 30.25, n: 1 },
      { t: t + ROLLUP_MS + SAMPLE_INTERVAL_MS, avg: null, max: null, n: 0 },
    ]);
  });

  it("the writer rolls samples up into 5-minute buckets as they pass; a restart's partial bucket merges weighted", async () => {
    const t0 = Date.parse("2030-01-03T00:00:00Z");
    const errors: unknown[] = [];
    const writer = new MetricWriter(store, (e) => errors.push(e));
    // 30 samples at 10 in the first bucket, then 10 samples at 40 before a "restart".
    for (let i = 0; i < 30; i++) void writer.record([{ object: "host:roll", at: t0 + i * SAMPLE_INTERVAL_MS, values: [10, i] }]);
    for (let i = 0; i < 10; i++) void writer.record([{ object: "host:roll", at: t0 + ROLLUP_MS + i * SAMPLE_INTERVAL_MS, values: [40, 100] }]);
    await writer.flush();
    // After the restart: 10 more samples at 70 in the second bucket, then one in the third closes it.
    const again = new MetricWriter(store, (e) => errors.push(e));
    for (let i = 10; i < 20; i++) void again.record([{ object: "host:roll", at: t0 + ROLLUP_MS + i * SAMPLE_INTERVAL_MS, values: [70, 1] }]);
    await again.record([{ object: "host:roll", at: t0 + 2 * ROLLUP_MS, values: [0, 0] }]);
    expect(errors).toEqual([]);
    const cpu = await store.series("host:roll", 0, { from: t0, to: t0 + ROLLUP_MS }, "5m", ROLLUP_MS);
    expect(cpu).toEqual([
      { t: t0, avg: 10, max: 10, n: 30 },
      { t: t0 + ROLLUP_MS, avg: 55, max: 70, n: 20 },
    ]);
    expect((await store.series("host:roll", 1, { from: t0, to: t0 }, "5m", ROLLUP_MS))[0]).toMatchObject({ avg: 14.5, max: 29 });
    // Two buckets in one 10-minute step: weighted by their sample counts (30 at 10, 20 at 55).
    expect(await store.series("host:roll", 0, { from: t0, to: t0 + ROLLUP_MS }, "5m", 2 * ROLLUP_MS)).toEqual([{ t: t0, avg: 28, max: 70, n: 50 }]);
  });

  it("a rollup series reads its newest buckets from the samples, each sample once; the writer adds what it holds in memory", async () => {
    const t0 = Date.parse("2030-01-04T00:00:00Z");
    // Rows of a whole bucket: the open bucket is all in memory.
    const writer = new MetricWriter(store, (e) => {
      throw e;
    }, { rowSamples: 30 });
    // Three buckets: 30 samples at 10, 30 at 20 (both closed), then 12 at 50 in the open third one.
    for (let i = 0; i < 72; i++) void writer.record([{ object: "host:tail", at: t0 + i * SAMPLE_INTERVAL_MS, values: [i < 30 ? 10 : i < 60 ? 20 : 50] }]);
    await writer.record([]);
    const range = { from: t0, to: t0 + 3 * ROLLUP_MS };
    // Without a tail only the closed buckets are stored as rollups.
    expect((await store.series("host:tail", 0, range, "5m", ROLLUP_MS)).map((p) => p.avg)).toEqual([10, 20]);
    // The tail from the second bucket on: its samples, not its rollup (no double count); the open bucket is in the writer only.
    const tail = t0 + ROLLUP_MS;
    expect(await store.series("host:tail", 0, range, "5m", ROLLUP_MS, tail)).toEqual([
      { t: t0, avg: 10, max: 10, n: 30 },
      { t: t0 + ROLLUP_MS, avg: 20, max: 20, n: 30 },
    ]);
    const read = async (r: { from: number; to: number }, step: number) => downsample(await writer.series("host:tail", 0, r, "5m", step, tail), r, step);
    expect(await read(range, ROLLUP_MS)).toEqual([
      { t: t0, avg: 10, max: 10 },
      { t: t0 + ROLLUP_MS, avg: 20, max: 20 },
      { t: t0 + 2 * ROLLUP_MS, avg: 50, max: 50 },
    ]);
    // One 15-minute step over all three: rollup, stored and held samples weighted together (30 x 10 + 30 x 20 + 12 x 50) / 72.
    expect(await read(range, 3 * ROLLUP_MS)).toEqual([{ t: t0, avg: 20.8333, max: 50 }]);
    // A range that ends before the tail reads rollups only; one that starts inside the tail, samples only.
    expect((await read({ from: t0, to: t0 + ROLLUP_MS - 1 }, ROLLUP_MS)).map((p) => p.avg)).toEqual([10]);
    expect((await writer.series("host:tail", 0, { from: t0 + 2 * ROLLUP_MS, to: t0 + 3 * ROLLUP_MS }, "5m", ROLLUP_MS, tail)).length).toBe(12);
    // At full resolution too; once the bucket closes the same samples come from the database, still once.
    const raw = { from: t0 + 55 * SAMPLE_INTERVAL_MS, to: t0 + HOUR };
    const before = downsample(await writer.series("host:tail", 0, raw, "raw", SAMPLE_INTERVAL_MS), raw, SAMPLE_INTERVAL_MS);
    expect(before.map((p) => p.avg)).toEqual([20, 20, 20, 20, 20, ...Array(12).fill(50)]);
    const closing = writer.record([{ object: "host:other", at: t0 + 3 * ROLLUP_MS, values: [0] }]);
    // Read while the closed bucket is being written: from memory, not twice.
    expect(downsample(await writer.series("host:tail", 0, raw, "raw", SAMPLE_INTERVAL_MS), raw, SAMPLE_INTERVAL_MS)).toEqual(before);
    await closing;
    expect(await count("metric_chunks", "host:tail")).toBe(3);
    expect(downsample(await writer.series("host:tail", 0, raw, "raw", SAMPLE_INTERVAL_MS), raw, SAMPLE_INTERVAL_MS)).toEqual(before);
  });

  it("the writer keeps fewer samples a row when asked (replicas), and writes what it holds at shutdown", async () => {
    const t0 = Date.parse("2030-01-05T00:00:00Z");
    const writer = new MetricWriter(store, (e) => {
      throw e;
    }, { rowSamples: 6 });
    for (let i = 0; i < 8; i++) await writer.record([{ object: "host:short", at: t0 + i * SAMPLE_INTERVAL_MS, values: [i] }]);
    expect(await count("metric_chunks", "host:short")).toBe(1);
    await writer.flush();
    expect(await count("metric_chunks", "host:short")).toBe(2);
    const range = { from: t0, to: t0 + HOUR };
    expect((await store.series("host:short", 0, range, "raw", SAMPLE_INTERVAL_MS)).map((p) => p.avg)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // Values go through float4 as the column keeps them, and come back as they were sampled (to float4's 7 digits), from memory and from the database alike.
    const precise = new MetricWriter(store, (e) => {
      throw e;
    });
    await precise.record([{ object: "host:f4", at: t0, values: [40.13, 123.456, 1234567.89, null] }]);
    const held = await Promise.all([0, 1, 2, 3].map((k) => precise.series("host:f4", k, range, "raw", SAMPLE_INTERVAL_MS)));
    await precise.flush();
    const stored = await Promise.all([0, 1, 2, 3].map((k) => store.series("host:f4", k, range, "raw", SAMPLE_INTERVAL_MS)));
    expect(held.map((p) => p[0]!.avg)).toEqual([40.13, 123.456, 1234567.88, null]);
    expect(stored).toEqual(held);
  });

  it("the writer's open rows share buffers without overwriting each other (thousands of objects, a wider sample midway)", async () => {
    const t0 = Date.parse("2030-01-06T00:00:00Z");
    const writer = new MetricWriter(store, (e) => {
      throw e;
    });
    for (let i = 0; i < 3; i++) {
      const batch: ObjectSample[] = [];
      for (let o = 0; o < 3_000; o++) batch.push({ object: `instance:slab${o}`, at: t0 + i * SAMPLE_INTERVAL_MS, values: o === 7 && i === 2 ? [o, i, 99] : [o, i] });
      await writer.record(batch);
    }
    const range = { from: t0, to: t0 + HOUR };
    expect((await writer.series("instance:slab2999", 0, range, "raw", SAMPLE_INTERVAL_MS)).map((p) => p.avg)).toEqual([2999, 2999, 2999]);
    await writer.flush();
    for (const o of [0, 1, 1_500, 2_999]) expect((await store.series(`instance:slab${o}`, 1, range, "raw", SAMPLE_INTERVAL_MS)).map((p) => p.avg)).toEqual([0, 1, 2]);
    expect((await store.series("instance:slab7", 2, range, "raw", SAMPLE_INTERVAL_MS)).map((p) => p.avg)).toEqual([null, null, 99]);
    expect((await store.series("instance:slab8", 0, range, "raw", SAMPLE_INTERVAL_MS)).map((p) => p.avg)).toEqual([8, 8, 8]);
  });

  it("paced writes cut a batch into small statements with a pause between them; a staggered writer's charts see every sample once while its rows are carried, open or written", async () => {
    const t0 = Date.parse("2030-01-07T00:00:00Z");
    let pauses = 0;
    const pace = { sampleRows: 100, rollupRows: 150, deleteRows: 1_000, pause: async () => void pauses++ };
    await store.writeChunks(
      Array.from({ length: 450 }, (_, i) => {
        const c = new SampleChunk(`instance:paced${i}`, t0, 1, 1);
        c.push(t0, [i]);
        return c;
      }),
      pace,
    );
    expect(pauses).toBe(4);
    expect(await count("metric_chunks", "instance:paced449")).toBe(1);
    await store.writeRollups(Array.from({ length: 301 }, (_, i) => ({ object: `instance:paced${i}`, bucket: t0, n: 1, avg: [i], max: [i] })), pace);
    expect(pauses).toBe(6);
    // One object through two bucket ends: after each round the chart has all its samples so far, each once.
    const writer = new MetricWriter(store, (e) => {
      throw e;
    }, { pace });
    const object = Array.from({ length: 50 }, (_, i) => `host:stag${i}`).find((o) => phaseOf(o, 10) === 6)!;
    const range = { from: t0, to: t0 + HOUR };
    for (let i = 0; i < 62; i++) {
      await writer.record([{ object, at: t0 + i * SAMPLE_INTERVAL_MS, values: [i] }]);
      if (i % 4 === 1 || i === 30 || i === 61) expect((await writer.series(object, 0, range, "raw", SAMPLE_INTERVAL_MS)).map((p) => p.avg)).toEqual(Array.from({ length: i + 1 }, (_, k) => k));
    }
    // Rows 4, 10, 10, 6 of the first bucket (the 6 written with the next 4), 4, 10, 10 of the second; its 6 carried and the third's 2 open are written at flush.
    expect(await count("metric_chunks", object)).toBe(7);
    await writer.flush();
    expect(await count("metric_chunks", object)).toBe(9);
    expect((await store.series(object, 0, range, "raw", SAMPLE_INTERVAL_MS)).map((p) => p.avg)).toEqual(Array.from({ length: 62 }, (_, k) => k));
  });

  it("a failed batch is reported and the next one is still written", async () => {
    const errors: unknown[] = [];
    let fail = true;
    const written: string[] = [];
    const broken = {
      writeChunks: (rows: { object: string }[]) => (fail ? Promise.reject(new Error("disk full")) : (written.push(...rows.map((r) => r.object)), Promise.resolve())),
      writeRollups: () => Promise.resolve(),
    } as unknown as MetricStore;
    const writer = new MetricWriter(broken, (e) => errors.push(e));
    await writer.record([{ object: "host:x", at: 1, values: [1] }]);
    await writer.record([{ object: "host:x", at: 1 + ROLLUP_MS, values: [1] }]);
    expect(String(errors[0])).toContain("disk full");
    fail = false;
    await writer.record([{ object: "host:y", at: 1 + 2 * ROLLUP_MS, values: [1] }]);
    expect(written).toEqual(["host:x"]);
  });

  it("retention removes samples after 24 h and rollups after 30 days, keeping newer ones", async () => {
    const now = Date.now();
    await store.writeSamples([
      { object: "host:old", at: now - 25 * HOUR, values: [1] },
      { object: "host:old", at: now - 23 * HOUR, values: [2] },
    ]);
    await store.writeRollups([
      { object: "host:old", bucket: now - 31 * 24 * HOUR, n: 1, avg: [1], max: [1] },
      { object: "host:old", bucket: now - 29 * 24 * HOUR, n: 1, avg: [2], max: [2] },
    ]);
    const pruned = await new Retention(database.db, { auditDays: 365, healthDays: 90, operationsDays: 90 }, 1).prune();
    expect(pruned.metrics).toBeGreaterThanOrEqual(2);
    expect((await store.series("host:old", 0, { from: now - 40 * 24 * HOUR, to: now }, "raw", SAMPLE_INTERVAL_MS)).map((p) => p.avg)).toEqual([2]);
    expect((await store.series("host:old", 0, { from: now - 40 * 24 * HOUR, to: now }, "5m", ROLLUP_MS)).map((p) => p.avg)).toEqual([2]);
  });
});

describe(`HistoryEvents (${backend})`, () => {
  it("records VIP and ack events, lists them by range, kind and subject, and knows each VIP's holder", async () => {
    const events = new HistoryEvents(database.db);
    await events.append([
      { at: "2030-02-01T00:00:00.000Z", kind: "vip-held", subject: "10.0.0.100", actor: "nfs1", previous: null, detail: "first seen" },
      { at: "2030-02-01T01:00:00.000Z", kind: "vip-lost", subject: "10.0.0.100", actor: null, previous: "nfs1", detail: "the NFS server stopped on nfs1" },
      { at: "2030-02-01T01:00:04.000Z", kind: "vip-held", subject: "10.0.0.100", actor: "nfs2", previous: null, detail: "a server took the VIP" },
      { at: "2030-02-01T01:00:30.000Z", kind: "ack", subject: "storage:server:nfs1", actor: "Olga", previous: null, detail: "restarting nfsd" },
    ]);
    const from = Date.parse("2030-02-01T00:30:00Z");
    const to = Date.parse("2030-02-01T02:00:00Z");
    expect((await events.list({ from, to, kinds: ["vip-lost", "vip-held"], limit: 10 })).map((e) => e.actor ?? e.previous)).toEqual(["nfs1", "nfs2"]);
    expect(await events.list({ from, to, kinds: ["ack"], subjects: ["storage:server:nfs1"], limit: 10 })).toEqual([
      { at: "2030-02-01T01:00:30.000Z", kind: "ack", subject: "storage:server:nfs1", actor: "Olga", previous: null, detail: "restarting nfsd" },
    ]);
    expect(await events.list({ from, to, kinds: ["ack"], subjects: ["host:kvm1"], limit: 10 })).toEqual([]);
    // Bounded: the newest `limit`, oldest first.
    expect((await events.list({ from: 0, to, kinds: ["vip-lost", "vip-held", "ack"], limit: 2 })).map((e) => e.kind)).toEqual(["vip-held", "ack"]);
    expect((await events.lastVipEvents(from)).map((e) => e.actor)).toEqual(["nfs1"]);
    expect(await events.vipHolders()).toEqual(new Map([["10.0.0.100", "nfs2"]]));
  });

  it("reads health transitions of chosen checks by range with each one's state before it", async () => {
    const history = new HealthHistory(database.db);
    await history.appendMany([
      { checkId: "tl:host:kvm1", state: "ok", at: "2030-03-01T00:00:00.000Z", message: "up" },
      { checkId: "tl:host:kvm1", state: "crit", at: "2030-03-01T02:00:00.000Z", message: "down" },
      { checkId: "tl:host:kvm1", state: "ok", at: "2030-03-01T02:10:00.000Z", message: "up" },
      { checkId: "tl:other", state: "crit", at: "2030-03-01T02:05:00.000Z", message: "x" },
    ]);
    const events = new HistoryEvents(database.db);
    const range = { from: Date.parse("2030-03-01T01:00:00Z"), to: Date.parse("2030-03-01T03:00:00Z") };
    const t = await events.transitions({ ids: ["tl:host:kvm1"] }, range, 100);
    expect(t.rows.map((r) => r.message)).toEqual(["down", "up"]);
    expect(t.before).toEqual([{ checkId: "tl:host:kvm1", state: "ok", at: "2030-03-01T00:00:00.000Z", message: "up" }]);
    expect(t.truncated).toBe(false);
    const bounded = await events.transitions({ ids: ["tl:host:kvm1", "tl:other"] }, range, 2);
    expect(bounded.truncated).toBe(true);
    expect(bounded.rows.map((r) => r.message)).toEqual(["x", "up"]);
  });

  it("retention drops old events but keeps each VIP's latest", async () => {
    const events = new HistoryEvents(database.db);
    const old = new Date(Date.now() - 100 * 86_400_000).toISOString();
    const older = new Date(Date.now() - 101 * 86_400_000).toISOString();
    await events.append([
      { at: older, kind: "vip-held", subject: "10.9.9.9", actor: "a", previous: null, detail: "" },
      { at: old, kind: "vip-held", subject: "10.9.9.9", actor: "b", previous: "a", detail: "" },
      { at: old, kind: "ack", subject: "host:gone", actor: "x", previous: null, detail: "" },
    ]);
    const pruned = await new Retention(database.db, { auditDays: 365, healthDays: 90, operationsDays: 90 }).prune();
    expect(pruned.events).toBeGreaterThanOrEqual(2);
    expect((await events.vipHolders()).get("10.9.9.9")).toBe("b");
    expect(await events.list({ from: 0, to: Date.now(), kinds: ["ack"], subjects: ["host:gone"], limit: 5 })).toEqual([]);
  });
});
