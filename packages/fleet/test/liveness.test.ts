import { describe, expect, it } from "vitest";
import { LivenessSweep, livenessAction, type LivenessPolicy } from "../src/liveness.js";

const policy: LivenessPolicy = { keepaliveMs: 15_000, countMax: 3 };

/** A connection with a fake clock: `hear()` is data arriving now, probes and losses are counted. */
function fakeConnection(clock: { now: number }) {
  const c = {
    lastReceived: clock.now,
    probes: [] as number[],
    lostAfter: null as number | null,
    hear: () => (c.lastReceived = clock.now),
    target: {
      lastReceivedAt: () => c.lastReceived,
      probe: () => c.probes.push(clock.now),
      lost: (silentMs: number) => (c.lostAfter = silentMs),
    },
  };
  return c;
}

/** A sweep driven by hand: `advance(ms)` moves the clock in sweep-sized steps, sweeping after each. */
function harness() {
  const clock = { now: 1_000_000 };
  const sweep = new LivenessSweep(policy, () => clock.now);
  const step = sweep.intervalMs;
  const advance = (ms: number, each?: () => void) => {
    for (let t = 0; t < ms; t += step) {
      clock.now += step;
      each?.();
      sweep.sweep();
    }
  };
  return { clock, sweep, advance, connection: () => fakeConnection(clock) };
}

describe("livenessAction", () => {
  it("leaves a connection alone while it heard something within keepaliveMs", () => {
    expect(livenessAction({ lastReceivedAt: 0, lastProbeAt: null }, 14_999, policy)).toBe("none");
  });

  it("probes a connection silent for keepaliveMs", () => {
    expect(livenessAction({ lastReceivedAt: 0, lastProbeAt: null }, 15_000, policy)).toBe("probe");
  });

  it("waits an interval before probing again while the last probe is unanswered", () => {
    expect(livenessAction({ lastReceivedAt: 0, lastProbeAt: 15_000 }, 29_999, policy)).toBe("none");
    expect(livenessAction({ lastReceivedAt: 0, lastProbeAt: 15_000 }, 30_000, policy)).toBe("probe");
  });

  it("declares a connection silent for keepaliveMs * countMax lost", () => {
    expect(livenessAction({ lastReceivedAt: 0, lastProbeAt: 30_000 }, 45_000, policy)).toBe("lost");
  });

  it("forgets a probe that was answered: the next one is due keepaliveMs after the answer", () => {
    expect(livenessAction({ lastReceivedAt: 16_000, lastProbeAt: 15_000 }, 30_000, policy)).toBe("none");
    expect(livenessAction({ lastReceivedAt: 16_000, lastProbeAt: 15_000 }, 31_000, policy)).toBe("probe");
  });
});

describe("LivenessSweep", () => {
  it("never probes a busy connection", () => {
    const h = harness();
    const busy = h.connection();
    h.sweep.watch(busy.target);
    h.advance(10 * 60_000, busy.hear);
    expect(busy.probes).toEqual([]);
    expect(busy.lostAfter).toBeNull();
    h.sweep.stop();
  });

  it("probes an idle connection once per interval, and only it", () => {
    const h = harness();
    const idle = h.connection();
    const busy = h.connection();
    h.sweep.watch(idle.target);
    h.sweep.watch(busy.target);
    const start = h.clock.now;
    h.advance(40_000, busy.hear);
    expect(idle.probes.map((t) => t - start)).toEqual([15_000, 30_000]);
    expect(busy.probes).toEqual([]);
    h.sweep.stop();
  });

  it("declares a connection silent past keepaliveMs * countMax lost, once, and stops watching it", () => {
    const h = harness();
    const silent = h.connection();
    h.sweep.watch(silent.target);
    h.advance(45_000);
    expect(silent.lostAfter).toBe(45_000);
    expect(h.sweep.size).toBe(0);
    h.advance(15_000);
    expect(silent.probes).toHaveLength(2);
  });

  it("clears a pending probe when data arrives after it", () => {
    const h = harness();
    const c = h.connection();
    h.sweep.watch(c.target);
    const start = h.clock.now;
    h.advance(15_000);
    expect(c.probes).toHaveLength(1);
    h.advance(5_000);
    c.hear(); // the probe's answer, at +20 s
    h.advance(30_000);
    expect(c.lostAfter).toBeNull();
    expect(c.probes.map((t) => t - start)).toEqual([15_000, 35_000, 50_000]);
    h.sweep.stop();
  });

  it("judges nothing in a pass that runs far behind schedule (our own stall, unread data)", () => {
    const h = harness();
    const c = h.connection();
    h.sweep.watch(c.target);
    h.clock.now += 60_000;
    expect(h.sweep.sweep()).toEqual({ probed: 0, lost: 0 });
    c.hear(); // read once the event loop runs again
    h.advance(5_000);
    expect(c.lostAfter).toBeNull();
    h.sweep.stop();
  });

  it("spreads the probes of hosts that fell silent together over short passes", () => {
    const h = harness();
    // 1,000 hosts whose last data arrived over five seconds (they connected in one burst).
    const conns = Array.from({ length: 1_000 }, (_, i) => {
      const c = h.connection();
      c.lastReceived = h.clock.now + i * 5;
      h.sweep.watch(c.target);
      return c;
    });
    const perPass: number[] = [];
    for (let t = 0; t < 25_000; t += h.sweep.intervalMs) {
      h.clock.now += h.sweep.intervalMs;
      perPass.push(h.sweep.sweep().probed);
    }
    expect(perPass.reduce((a, b) => a + b, 0)).toBe(1_000);
    expect(Math.max(...perPass)).toBeLessThanOrEqual(60);
    expect(conns.every((c) => c.probes.length === 1)).toBe(true);
    h.sweep.stop();
  });

  it("runs its timer only while something is watched", () => {
    const h = harness();
    expect(h.sweep.running).toBe(false);
    const unwatchA = h.sweep.watch(h.connection().target);
    const unwatchB = h.sweep.watch(h.connection().target);
    expect(h.sweep.running).toBe(true);
    unwatchA();
    expect(h.sweep.running).toBe(true);
    unwatchB();
    expect(h.sweep.running).toBe(false);
  });
});
