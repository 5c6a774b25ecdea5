import { describe, expect, it } from "vitest";
import {
  MAX_POINTS,
  RAW_KEEP_MS,
  ROLLUP_MS,
  RollupAccumulator,
  SAMPLE_INTERVAL_MS,
  SeriesRange,
  bucketOf,
  chooseResolution,
  downsample,
  mergeRollups,
  pointStep,
  rollupTailFrom,
  sampleFleet,

  type ObjectSample,
} from "../../src/metrics/index.js";
import type { HostRecord } from "../../src/fleet.js";
import { hypervisor, node, vm } from "../fixtures.js";

const T0 = Date.parse("2026-03-01T00:00:00Z");
const sample = (object: string, at: number, ...values: (number | null)[]): ObjectSample => ({ object, at, values });

describe("sampling the inventory", () => {
  it("takes hosts as percentages, VMs, datastores from the VIP holder and services from the leader", () => {
    const kvm1 = hypervisor("kvm1", [vm({ name: "web1", state: "running" }), vm({ name: "db1", state: "shutoff", vcpus: 4, memoryMiB: 4096 })]);
    kvm1.inventory.node = node({ cpuUsagePct: 12.345, memoryTotalMiB: 1000, memoryUsedMiB: 250, diskTotalBytes: 200, diskUsedBytes: 50 });
    const nfs = (name: string, held: boolean, used: number): HostRecord => {
      const h = hypervisor(name);
      h.inventory.storage = {
        mounts: [],
        nfs: { serverRunning: true, exports: [], datastores: [{ path: "/instance", totalBytes: 4 * 1024 ** 3, usedBytes: used }], vip: { address: "10.0.0.100", heldHere: held }, keepalivedState: held ? "master" : "backup" },
      };
      h.inventory.virt = null;
      return h;
    };
    const offline = hypervisor("kvm9", [vm({ name: "ghost" })]);
    offline.connection = { ...offline.connection, state: "unreachable" };
    const samples = sampleFleet([kvm1, nfs("nfs2", false, 1024 ** 3), nfs("nfs1", true, 3 * 1024 ** 3), offline], T0);
    const by = new Map(samples.map((s) => [s.object, s.values]));
    // Without counters pushed, the rates are gaps (null) for what runs and 0 for what does not.
    expect(by.get("host:kvm1")).toEqual([12.35, 25, 25, null, null]);
    expect(by.get("instance:web1")).toEqual([1, 2, 2048, null, null, null, null, null, null]);
    expect(by.get("instance:db1")).toEqual([0, 4, 4096, 0, 0, 0, 0, 0, 0]);
    // The VIP holder's report wins over the backup's, whatever the order.
    expect(by.get("datastore:/instance")).toEqual([75, 3, null, null]);
    // A silent host's last report is not a measurement.
    expect(by.has("host:kvm9")).toBe(false);
    expect(by.has("instance:ghost")).toBe(false);
    expect(samples.every((s) => s.at === T0)).toBe(true);
  });

  it("a host reporting a zero total gets no percentage rather than NaN or Infinity", () => {
    const h = hypervisor("kvm1");
    h.inventory.node = node({ memoryTotalMiB: 0, memoryUsedMiB: 10, diskTotalBytes: 0, diskUsedBytes: 0 });
    expect(sampleFleet([h], T0)[0]!.values.slice(1, 3)).toEqual([null, null]);
  });
});

describe("rolling samples up into 5-minute buckets", () => {
  it("means and maxima per metric; a bucket closes when the next one starts", () => {
    const acc = new RollupAccumulator();
    expect(acc.add([sample("host:a", T0, 10, 50), sample("host:a", T0 + 10_000, 30, null), sample("host:a", T0 + 20_000, 20, 70)])).toEqual([]);
    const closed = acc.add([sample("host:a", T0 + ROLLUP_MS, 1, 1)]);
    expect(closed).toEqual([{ object: "host:a", bucket: T0, n: 3, avg: [20, 60], max: [30, 70] }]);
    expect(acc.drain()).toEqual([{ object: "host:a", bucket: T0 + ROLLUP_MS, n: 1, avg: [1, 1], max: [1, 1] }]);
  });

  it("an object that stops reporting has its bucket closed by any other object's later sample", () => {
    const acc = new RollupAccumulator();
    acc.add([sample("host:a", T0, 5), sample("host:b", T0, 7)]);
    const closed = acc.add([sample("host:b", T0 + ROLLUP_MS + 1, 9)]);
    expect(closed.map((r) => r.object).sort()).toEqual(["host:a", "host:b"]);
  });

  it("lazily, each object's bucket closes with its own next sample; one silent for a whole bucket closes when the next starts", () => {
    const acc = new RollupAccumulator(ROLLUP_MS, true);
    acc.add([sample("host:a", T0, 5), sample("host:b", T0, 7), sample("host:c", T0, 1)]);
    expect(acc.add([sample("host:b", T0 + ROLLUP_MS + 1, 9)]).map((r) => r.object)).toEqual(["host:b"]);
    expect(acc.add([sample("host:c", T0 + ROLLUP_MS + 2, 3)]).map((r) => [r.object, r.bucket, r.avg[0]])).toEqual([["host:c", T0, 1]]);
    // host:a sent nothing in T0 + ROLLUP_MS: its T0 bucket closes when T0 + 2 buckets starts, the others' then with their own samples.
    expect(acc.add([sample("host:b", T0 + 2 * ROLLUP_MS, 1)]).map((r) => [r.object, r.bucket]).sort()).toEqual([
      ["host:a", T0],
      ["host:b", T0 + ROLLUP_MS],
    ]);
    expect(acc.drain().map((r) => [r.object, r.bucket]).sort()).toEqual([
      ["host:b", T0 + 2 * ROLLUP_MS],
      ["host:c", T0 + ROLLUP_MS],
    ]);
  });

  it("the slab agrees with per-object arrays (the previous accumulator) on random rounds, eager and lazy", () => {
    // The previous accumulator, kept here as the reference.
    const reference = (size: number, lazy: boolean) => {
      const open = new Map<string, { bucket: number; n: number; sum: number[]; count: number[]; max: (number | null)[] }>();
      let current: number | null = null;
      const finish = (object: string, a: { bucket: number; n: number; sum: number[]; count: number[]; max: (number | null)[] }) => ({
        object,
        bucket: a.bucket,
        n: a.n,
        avg: a.sum.map((x, i) => (a.count[i] ? Math.round((x / a.count[i]!) * 1e4) / 1e4 : null)),
        max: [...a.max],
      });
      return {
        add(samples: ObjectSample[]) {
          const closed = [];
          for (const s of samples) {
            const bucket = bucketOf(s.at, size);
            if (current !== null && bucket > current) {
              const before = lazy ? bucket - size : bucket;
              for (const [o, a] of open)
                if (a.bucket < before) {
                  closed.push(finish(o, a));
                  open.delete(o);
                }
            }
            if (current === null || bucket > current) current = bucket;
            let a = open.get(s.object);
            if (a && a.bucket !== bucket) {
              closed.push(finish(s.object, a));
              a = undefined;
            }
            if (!a) open.set(s.object, (a = { bucket, n: 0, sum: [], count: [], max: [] }));
            a.n++;
            s.values.forEach((v, i) => {
              while (a.sum.length <= i) a.sum.push(0), a.count.push(0), a.max.push(null);
              if (v === null || !Number.isFinite(v)) return;
              a.sum[i]! += v;
              a.count[i]!++;
              a.max[i] = a.max[i] === null || v > a.max[i]! ? v : a.max[i]!;
            });
          }
          return closed;
        },
        drain: () => [...open].map(([o, a]) => finish(o, a)),
      };
    };
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const lazy of [false, true]) {
      const slab = new RollupAccumulator(ROLLUP_MS, lazy);
      const ref = reference(ROLLUP_MS, lazy);
      let t = T0;
      for (let round = 0; round < 250; round++) {
        t += Math.floor(rand() * 40_000);
        const samples: ObjectSample[] = [];
        for (let k = Math.floor(rand() * 30); k > 0; k--) {
          // Widths grow over time (the slab widens), some values unknown or not finite, some samples late.
          const width = 1 + Math.floor(rand() * Math.min(12, 2 + round / 30));
          const values = Array.from({ length: width }, () => {
            const r = rand();
            return r < 0.1 ? null : r < 0.13 ? NaN : r < 0.15 ? Infinity : Math.round(rand() * 1e4) / 100;
          });
          samples.push({ object: `vm:${Math.floor(rand() * 60)}`, at: rand() < 0.05 ? t - ROLLUP_MS : t, values });
        }
        expect(slab.add(samples), `round ${round}`).toEqual(ref.add(samples));
      }
      expect(slab.drain()).toEqual(ref.drain());
      // Empty after draining, and usable again.
      expect(slab.drain()).toEqual([]);
      slab.add([sample("host:a", t, 1, 2)]);
      expect(slab.drain()).toEqual([{ object: "host:a", bucket: bucketOf(t), n: 1, avg: [1, 2], max: [1, 2] }]);
    }
  });

  it("a bucket with only unknown values has null mean and maximum, not 0", () => {
    const acc = new RollupAccumulator();
    acc.add([sample("host:a", T0, null)]);
    expect(acc.drain()[0]).toMatchObject({ n: 1, avg: [null], max: [null] });
  });

  it("two partial rollups of a bucket (a restart) merge weighted by their sample counts", () => {
    const a = { object: "x", bucket: T0, n: 3, avg: [10, null], max: [12, null] };
    const b = { object: "x", bucket: T0, n: 1, avg: [50, 5], max: [50, 5] };
    expect(mergeRollups(a, b)).toEqual({ object: "x", bucket: T0, n: 4, avg: [20, 5], max: [50, 5] });
  });
});

describe("choosing points for a chart", () => {
  it("answers from full resolution inside the last 24 h, from rollups beyond", () => {
    const now = T0 + 10 * RAW_KEEP_MS;
    expect(chooseResolution({ from: now - RAW_KEEP_MS, to: now }, now)).toBe("raw");
    expect(chooseResolution({ from: now - RAW_KEEP_MS - 1, to: now }, now)).toBe("5m");
  });

  it("answers a long range from rollups when its step would be half a bucket or more; the tail of a rollup series is its last two buckets", () => {
    const now = T0 + 10 * RAW_KEEP_MS + 123_000;
    // A day at 500 or 400 points: a 180-220 s step, read as 288 five-minute rollups.
    expect(chooseResolution({ from: now - RAW_KEEP_MS, to: now, maxPoints: 500 }, now)).toBe("5m");
    expect(chooseResolution({ from: now - RAW_KEEP_MS, to: now, maxPoints: 400 }, now)).toBe("5m");
    // At 1,000 points (a 90-s step) or over 12 h (a 110-s step) the samples answer.
    expect(chooseResolution({ from: now - RAW_KEEP_MS, to: now, maxPoints: 1000 }, now)).toBe("raw");
    expect(chooseResolution({ from: now - RAW_KEEP_MS / 2, to: now, maxPoints: 400 }, now)).toBe("raw");
    expect(chooseResolution({ from: now - 3600_000, to: now, maxPoints: 10 }, now)).toBe("5m");
    expect(rollupTailFrom(now)).toBe(bucketOf(now) - ROLLUP_MS);
    expect(rollupTailFrom(bucketOf(now))).toBe(bucketOf(now) - ROLLUP_MS);
  });

  it("widens the step to a multiple of the resolution so the range holds at most maxPoints", () => {
    expect(pointStep({ from: 0, to: 3600_000, maxPoints: 1000 }, "raw")).toBe(SAMPLE_INTERVAL_MS);
    expect(pointStep({ from: 0, to: RAW_KEEP_MS, maxPoints: 500 }, "raw")).toBe(180_000);
    expect(pointStep({ from: 0, to: 30 * RAW_KEEP_MS, maxPoints: 1000 }, "5m")).toBe(2_700_000);
    expect(pointStep({ from: 0, to: 60_000, maxPoints: 1000 }, "5m")).toBe(ROLLUP_MS);
  });

  it("downsamples 24 h of 10-s samples into at most maxPoints points, with weighted means and maxima", () => {
    const range = { from: T0, to: T0 + RAW_KEEP_MS, maxPoints: 500 };
    const points = Array.from({ length: RAW_KEEP_MS / SAMPLE_INTERVAL_MS }, (_, i) => ({ t: T0 + i * SAMPLE_INTERVAL_MS, avg: i % 2 ? 10 : 30, max: i % 2 ? 10 : 30, n: 1 }));
    const step = pointStep(range, "raw");
    const out = downsample(points, range, step);
    expect(out.length).toBeLessThanOrEqual(range.maxPoints + 1);
    expect(out.length).toBeGreaterThan(400);
    expect(out[0]).toEqual({ t: T0, avg: 20, max: 30 });
    expect(out.every((p, i) => i === 0 || p.t - out[i - 1]!.t === step)).toBe(true);
  });

  it("keeps rollups' weights: a bucket of 30 samples counts 30 times one of 1", () => {
    const out = downsample(
      [
        { t: T0, avg: 10, max: 90, n: 30 },
        { t: T0 + ROLLUP_MS, avg: 40, max: 41, n: 1 },
      ],
      { from: T0, to: T0 + 2 * ROLLUP_MS },
      2 * ROLLUP_MS,
    );
    expect(out).toEqual([{ t: T0, avg: 10.9677, max: 90 }]);
  });

  it("leaves points outside the range out and empty steps as gaps", () => {
    const out = downsample(
      [
        { t: T0 - 1, avg: 99, max: 99, n: 1 },
        { t: T0, avg: 1, max: 1, n: 1 },
        { t: T0 + 3 * SAMPLE_INTERVAL_MS, avg: 2, max: 2, n: 1 },
        { t: T0 + 100 * SAMPLE_INTERVAL_MS, avg: 3, max: 3, n: 1 },
      ],
      { from: T0, to: T0 + 10 * SAMPLE_INTERVAL_MS },
      SAMPLE_INTERVAL_MS,
    );
    expect(out.map((p) => p.avg)).toEqual([1, 2]);
  });
});

describe("range bounds", () => {
  it("refuses an empty or reversed range, more than 30 days, too many points", () => {
    expect(SeriesRange.safeParse({ from: T0, to: T0 }).success).toBe(false);
    expect(SeriesRange.safeParse({ from: T0 + 1, to: T0 }).success).toBe(false);
    expect(SeriesRange.safeParse({ from: T0, to: T0 + 31 * RAW_KEEP_MS }).success).toBe(false);
    expect(SeriesRange.safeParse({ from: T0, to: T0 + 1000, maxPoints: MAX_POINTS + 1 }).success).toBe(false);
    expect(SeriesRange.safeParse({ from: -5, to: T0 }).success).toBe(false);
    expect(SeriesRange.parse({ from: T0, to: T0 + 1000 })).toEqual({ from: T0, to: T0 + 1000, maxPoints: 500 });
  });
});
