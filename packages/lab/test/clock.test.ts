import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Clock } from "../src/world/clock.js";

// Fake timers: the test is about the clock's arithmetic, not about how busy this machine is.
// A busy event loop is modelled by moving the wall clock on inside a tick (`setSystemTime`)
// without firing timers: the next timer then runs late, exactly as after a blocked loop.
describe("Clock.every", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] }));
  afterEach(() => vi.useRealTimers());

  it("keeps its phase after a late tick instead of shifting every later tick", () => {
    const clock = new Clock(1);
    const start = Date.now();
    const ticks: number[] = [];
    clock.every(
      100,
      () => {
        ticks.push(Date.now() - start);
        // The first tick finds the event loop busy for 250 ms (a lab starting 2,000 hosts).
        if (ticks.length === 1) vi.setSystemTime(Date.now() + 250);
      },
      5,
    );
    vi.advanceTimersByTime(1_000);
    clock.stop();
    expect(ticks.length).toBeGreaterThanOrEqual(5);
    // The tick due at 105 runs late (355 on the wall clock); the ones after it land on
    // 5 + k*100 again (405, 505, …). Rescheduling from the late moment put them at 455, 555, ….
    expect(ticks[1]).toBeGreaterThanOrEqual(255);
    for (const t of ticks.slice(2)) expect((t - 5) % 100, `tick at ${t} ms`).toBe(0);
  });

  it("skips the ticks missed while the loop was busy instead of running them in a burst", () => {
    const clock = new Clock(1);
    const start = Date.now();
    const ticks: number[] = [];
    clock.every(100, () => {
      ticks.push(Date.now() - start);
      if (ticks.length === 1) vi.setSystemTime(Date.now() + 450);
    });
    vi.advanceTimersByTime(600);
    clock.stop();
    // 100 (then busy until 550), 650 late-run, then 700: never two ticks closer than the period.
    for (let i = 2; i < ticks.length; i++) expect(ticks[i]! - ticks[i - 1]!).toBeGreaterThanOrEqual(50);
  });

  it("scales lab time by its speed", () => {
    const clock = new Clock(10);
    let fired = 0;
    clock.after(1_000, () => fired++);
    vi.advanceTimersByTime(99);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);
    expect(clock.now()).toBe(1_000);
  });
});
