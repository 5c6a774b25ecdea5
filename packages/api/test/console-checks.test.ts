import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConsoleChecks } from "../src/services/console-checks.js";

const timers = { now: () => new Date(), setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };

describe("ConsoleChecks (fake timers)", () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date("2026-12-07T09:00:00.000Z") }));
  afterEach(() => vi.useRealTimers());

  it("the database check rises after 2 answers, falls after 3 failures or hung queries, and says why", async () => {
    let mode: "ok" | "fail" | "hang" = "ok";
    const database = vi.fn(() => (mode === "ok" ? Promise.resolve() : mode === "fail" ? Promise.reject(new Error("connection terminated")) : new Promise(() => undefined)));
    const checks = new ConsoleChecks({ database }, { intervalMs: 1000, timeoutMs: 500, timers });
    checks.start();
    expect(checks.checks()[0]).toMatchObject({ id: "console:database", state: "unknown" });
    await vi.advanceTimersByTimeAsync(1000);
    expect(checks.checks()[0]).toMatchObject({ state: "ok", message: "UP: answers" });
    mode = "fail";
    await vi.advanceTimersByTimeAsync(2000);
    expect(checks.checks()[0]!.state).toBe("ok");
    await vi.advanceTimersByTimeAsync(1000);
    expect(checks.checks()[0]).toMatchObject({ state: "crit", message: "DOWN: connection terminated" });
    mode = "ok";
    await vi.advanceTimersByTimeAsync(2000);
    expect(checks.checks()[0]!.state).toBe("ok");
    mode = "hang";
    await vi.advanceTimersByTimeAsync(3 * 1500);
    expect(checks.checks()[0]).toMatchObject({ state: "crit", message: "DOWN: no answer within 500 ms" });
    checks.stop();
    const calls = database.mock.calls.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(database.mock.calls.length).toBe(calls);
  });
});
