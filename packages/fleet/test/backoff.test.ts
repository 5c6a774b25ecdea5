import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_BACKOFF } from "../src/backoff.js";

describe("backoffDelay", () => {
  it("doubles from 1 s and stops at 30 s without jitter", () => {
    const noJitter = () => 0;
    expect([0, 1, 2, 3, 4, 5, 6, 20].map((a) => backoffDelay(a, DEFAULT_BACKOFF, noJitter))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it("takes away at most the jitter share", () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 1)).toBe(750);
    expect(backoffDelay(10, DEFAULT_BACKOFF, () => 1)).toBe(22_500);
  });

  it("spreads hosts that failed together", () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(6_000), expect(d).toBeLessThanOrEqual(8_000);
  });

  it("does not overflow for huge attempt counts", () => {
    expect(backoffDelay(10_000, DEFAULT_BACKOFF, () => 0)).toBe(30_000);
  });
});
