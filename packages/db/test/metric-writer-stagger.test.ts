import { ROLLUP_MS, SAMPLE_INTERVAL_MS, bucketOf, type MetricRollup, type ObjectSample } from "@nimbus/domain";
import { describe, expect, it } from "vitest";
import { MetricWriter, phaseOf, rowPlan, type MetricStore, type Pace, type SampleChunk } from "../src/stores/metrics.js";

/** A store that keeps what it is asked to write, statement by statement, and the pace it was given. */
function recordingStore() {
  const calls: { rows: { object: string; times: number[] }[]; pace: Pace | undefined }[] = [];
  const rollups: { n: number; pace: Pace | undefined }[] = [];
  const store = {
    writeChunks: async (chunks: readonly SampleChunk[], pace?: Pace) => {
      calls.push({ rows: chunks.map((c) => ({ object: c.object, times: Array.from(c.dt.subarray(0, c.n), (d) => c.at + d) })), pace });
    },
    writeRollups: async (r: readonly MetricRollup[], pace?: Pace) => {
      rollups.push({ n: r.length, pace });
    },
  } as unknown as MetricStore;
  return { store, calls, rollups };
}

const pace = (): Pace & { pauses: number } => {
  const p = { sampleRows: 100, rollupRows: 150, deleteRows: 1_000, pauses: 0, pause: async () => void p.pauses++ };
  return p;
};

describe("MetricWriter's stagger and pace", () => {
  it("a row closes on the object's own round or at its bucket's end, never spanning two buckets", () => {
    const t0 = Date.parse("2030-05-01T00:00:00Z");
    expect(bucketOf(t0)).toBe(t0);
    expect(rowPlan(t0, 3, 10)).toEqual({ capacity: 7, tail: false });
    expect(rowPlan(t0 + 7 * SAMPLE_INTERVAL_MS, 3, 10)).toEqual({ capacity: 10, tail: false });
    // Rounds 27-29: 3 left in the bucket, the object's round would be the next bucket's 7th.
    expect(rowPlan(t0 + 27 * SAMPLE_INTERVAL_MS + 4_000, 3, 10)).toEqual({ capacity: 3, tail: true });
    expect(rowPlan(t0 + 20 * SAMPLE_INTERVAL_MS, 0, 10)).toEqual({ capacity: 10, tail: false });
    expect(rowPlan(t0 + 21 * SAMPLE_INTERVAL_MS, 0, 10)).toEqual({ capacity: 9, tail: false });
    expect(rowPlan(t0 + 28 * SAMPLE_INTERVAL_MS, 1, 10)).toEqual({ capacity: 1, tail: false });
    expect(rowPlan(t0 + 29 * SAMPLE_INTERVAL_MS, 1, 10)).toEqual({ capacity: 1, tail: true });
    expect(rowPlan(t0 + 10 * SAMPLE_INTERVAL_MS, 0, 10)).toEqual({ capacity: 10, tail: false });
    // Phases are spread evenly and the same for the same object.
    const counts = Array(10).fill(0) as number[];
    for (let i = 0; i < 22_000; i++) counts[phaseOf(`instance:vm-${i}`, 10)]!++;
    for (const n of counts) expect(n).toBeGreaterThan(1_900);
    for (const n of counts) expect(n).toBeLessThan(2_500);
    expect(phaseOf("host:kvm1", 10)).toBe(phaseOf("host:kvm1", 10));
  });

  it("at 2,000 objects ~1/10 of them write a row each round (never all at a bucket's end), none holds more than 10 samples, each sample is written once", async () => {
    const { store, calls, rollups } = recordingStore();
    const p = pace();
    const writer = new MetricWriter(store, (e) => {
      throw e;
    }, { pace: p });
    const objects = Array.from({ length: 2_000 }, (_, i) => `instance:s${i}`);
    // 70 rounds from a bucket's start plus 3 s (as the sampler's whole seconds fall): two bucket ends.
    const t0 = Date.parse("2030-05-02T00:00:00Z") + 3_000;
    const written = new Map<string, number[]>();
    const perRound: number[] = [];
    for (let r = 0; r < 70; r++) {
      const before = calls.length;
      const at = t0 + r * SAMPLE_INTERVAL_MS;
      await writer.record(objects.map((object): ObjectSample => ({ object, at, values: [r, 1] })));
      let rows = 0;
      for (const call of calls.slice(before)) {
        // Paced (MetricStore cuts it into statements of the pace's rows); each row within one bucket.
        expect(call.pace).toBe(p);
        for (const row of call.rows) {
          expect(bucketOf(row.times.at(-1)!)).toBe(bucketOf(row.times[0]!));
          const list = written.get(row.object);
          if (list) list.push(...row.times);
          else written.set(row.object, [...row.times]);
        }
        rows += call.rows.length;
      }
      perRound.push(rows);
      // The most a crash could lose: no object has more than 10 samples in memory.
      expect(Math.max(...objects.map((object) => r + 1 - (written.get(object)?.length ?? 0)))).toBeLessThanOrEqual(10);
    }
    // Unstaggered, rounds 9, 19, 29 (and the bucket's end) wrote all 2,000 rows at once.
    expect(Math.max(...perRound)).toBeLessThan(600);
    expect(perRound[30]).toBeLessThan(600);
    expect(perRound.slice(10, 30).every((n) => n > 100 && n < 300)).toBe(true);
    // The bucket's end wrote its rollups after that round's rows, paced too.
    expect(rollups.map((x) => x.n)).toEqual([2_000, 2_000]);
    expect(rollups.every((x) => x.pace === p)).toBe(true);
    // Shutdown writes the rest without pauses; then every sample is written exactly once.
    const flushedFrom = calls.length;
    await writer.flush();
    expect(calls.slice(flushedFrom).every((c) => c.pace === undefined)).toBe(true);
    for (const call of calls.slice(flushedFrom)) for (const row of call.rows) written.set(row.object, [...(written.get(row.object) ?? []), ...row.times]);
    for (const object of [objects[0]!, objects[777]!, objects[1_999]!]) expect(written.get(object)).toEqual(Array.from({ length: 70 }, (_, r) => t0 + r * SAMPLE_INTERVAL_MS));
    expect([...written.values()].reduce((a, t) => a + t.length, 0)).toBe(2_000 * 70);
  });

  it("a carried row of an object that sends nothing more is written at the next bucket's end; rows of a whole bucket are not staggered", async () => {
    const { store, calls } = recordingStore();
    const writer = new MetricWriter(store, (e) => {
      throw e;
    }, { pace: pace() });
    const t0 = Date.parse("2030-05-03T00:00:00Z");
    // An object whose last row of the bucket is a short one (phase != 0).
    const object = Array.from({ length: 50 }, (_, i) => `host:gone${i}`).find((o) => phaseOf(o, 10) === 4)!;
    for (let r = 0; r < 30; r++) await writer.record([{ object, at: t0 + r * SAMPLE_INTERVAL_MS, values: [r] }]);
    const rowsOf = () => calls.flatMap((c) => c.rows.filter((x) => x.object === object).map((x) => x.times.length));
    expect(rowsOf()).toEqual([6, 10, 10]);
    // The next bucket: the object is gone; its 4 samples wait for the bucket after.
    await writer.record([{ object: "host:other", at: t0 + ROLLUP_MS, values: [0] }]);
    expect(rowsOf()).toEqual([6, 10, 10]);
    await writer.record([{ object: "host:other", at: t0 + 2 * ROLLUP_MS, values: [0] }]);
    expect(rowsOf()).toEqual([6, 10, 10, 4]);

    const whole = recordingStore();
    const wholeWriter = new MetricWriter(whole.store, (e) => {
      throw e;
    }, { rowSamples: 30, pace: pace() });
    for (let r = 0; r <= 30; r++) await wholeWriter.record([{ object, at: t0 + r * SAMPLE_INTERVAL_MS, values: [r] }]);
    expect(whole.calls.flatMap((c) => c.rows.map((x) => x.times.length))).toEqual([30]);
  });
});
