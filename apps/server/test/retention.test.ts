import { afterEach, describe, expect, it, vi } from "vitest";
import { scheduleRetention } from "../src/retention.js";
import { loadEnv } from "../src/env.js";

afterEach(() => vi.useRealTimers());

describe("retention schedule", () => {
  it("prunes a minute after start, then an hour after each run ends, never two at once, and stops", async () => {
    vi.useFakeTimers();
    let running = 0;
    let runs = 0;
    let finish: (() => void) | null = null;
    const errors: unknown[] = [];
    const stop = scheduleRetention(
      () => {
        runs++;
        running++;
        expect(running).toBe(1);
        return new Promise<void>((r) => (finish = () => (running--, r())));
      },
      { onError: (e) => errors.push(e) },
    );
    await vi.advanceTimersByTimeAsync(59_999);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    // A slow prune: the next waits for it, then an hour more.
    await vi.advanceTimersByTimeAsync(5 * 3_600_000);
    expect(runs).toBe(1);
    finish!();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(runs).toBe(2);
    finish!();
    stop();
    await vi.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(runs).toBe(2);
    expect(errors).toEqual([]);
  });

  it("reports a failed prune and tries again an hour later", async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    let runs = 0;
    const stop = scheduleRetention(async () => {
      runs++;
      throw new Error("database gone");
    }, { firstAfterMs: 0, onError: (e) => errors.push(e) });
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(runs).toBe(2);
    expect(errors).toHaveLength(2);
    stop();
  });

  it("reads the retention days from the environment, with defaults", () => {
    expect(loadEnv({})).toMatchObject({ NIMBUS_RETENTION_AUDIT_DAYS: 365, NIMBUS_RETENTION_HEALTH_DAYS: 90, NIMBUS_RETENTION_OPERATIONS_DAYS: 180 });
    expect(loadEnv({ NIMBUS_RETENTION_AUDIT_DAYS: "30" }).NIMBUS_RETENTION_AUDIT_DAYS).toBe(30);
    expect(() => loadEnv({ NIMBUS_RETENTION_AUDIT_DAYS: "0" })).toThrow(/NIMBUS_RETENTION_AUDIT_DAYS/);
  });
});
