import { describe, expect, it } from "vitest";
import { Clock } from "../src/world/clock.js";

describe("Clock.every", () => {
  it("keeps its phase after a late tick instead of shifting every later tick", async () => {
    const clock = new Clock(1);
    const start = Date.now();
    const ticks: number[] = [];
    await new Promise<void>((done) => {
      clock.every(
        100,
        () => {
          ticks.push(Date.now() - start);
          // The first tick finds the event loop busy for 250 ms (a lab starting 2,000 hosts).
          if (ticks.length === 1) for (const until = Date.now() + 250; Date.now() < until; );
          if (ticks.length === 5) done();
        },
        5,
      );
    });
    clock.stop();
    // The tick due at 105 can only run once the loop is free (~255); the ones after it land on
    // 5 + k*100 again (305, 405, 505). Rescheduling from the late moment put them at ~355, 455, 555.
    for (const t of ticks.slice(2)) {
      const offPhase = (t - 5) % 100;
      expect(Math.min(offPhase, 100 - offPhase), `tick at ${t} ms`).toBeLessThan(35);
    }
    expect(ticks[1]).toBeGreaterThanOrEqual(255);
  });
});
