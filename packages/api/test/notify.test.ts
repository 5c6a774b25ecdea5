import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deliver, signWebhook, verifyWebhook, type AttemptResult, type DeliveryAttempt } from "../src/services/notify.js";

describe("webhook signatures", () => {
  it("are HMAC-SHA256 over '<timestamp>.<body>', hex, prefixed sha256=", () => {
    const want = createHmac("sha256", "k").update('1700000000.{"a":1}').digest("hex");
    expect(signWebhook("k", "1700000000", '{"a":1}')).toBe(`sha256=${want}`);
  });

  it("verify only with the same key, timestamp and body", () => {
    const sig = signWebhook("key-1", "1700000000", "body");
    expect(verifyWebhook("key-1", "1700000000", "body", sig)).toBe(true);
    expect(verifyWebhook("key-2", "1700000000", "body", sig)).toBe(false);
    expect(verifyWebhook("key-1", "1700000001", "body", sig)).toBe(false);
    expect(verifyWebhook("key-1", "1700000000", "body!", sig)).toBe(false);
    expect(verifyWebhook("key-1", "1700000000", "body", "sha256=short")).toBe(false);
  });
});

describe("deliver", () => {
  const run = async (results: AttemptResult[], attempts = 4) => {
    const waits: number[] = [];
    const seen: DeliveryAttempt[] = [];
    let i = 0;
    const last = await deliver(
      async () => results[Math.min(i++, results.length - 1)]!,
      (a) => void seen.push(a),
      { policy: { attempts, baseMs: 1000, factor: 2, maxMs: 3000 }, sleep: async (ms) => void waits.push(ms) },
    );
    return { last, waits, seen };
  };
  const fail: AttemptResult = { ok: false, statusCode: 503, error: "HTTP 503" };
  const ok: AttemptResult = { ok: true, statusCode: 200, error: null };

  it("retries with the backoff until it succeeds, reporting every attempt", async () => {
    const { last, waits, seen } = await run([fail, fail, ok]);
    expect(waits).toEqual([1000, 2000]);
    expect(seen.map((a) => [a.attempt, a.status])).toEqual([
      [1, "retrying"],
      [2, "retrying"],
      [3, "ok"],
    ]);
    expect(last.status).toBe("ok");
  });

  it("gives up after the last attempt, the waits capped", async () => {
    const { last, waits, seen } = await run([fail], 4);
    expect(waits).toEqual([1000, 2000, 3000]);
    expect(seen.map((a) => a.status)).toEqual(["retrying", "retrying", "retrying", "failed"]);
    expect(last).toMatchObject({ attempt: 4, status: "failed", statusCode: 503 });
  });

  it("does not wait at all when the first attempt succeeds", async () => {
    const { waits, seen } = await run([ok]);
    expect(waits).toEqual([]);
    expect(seen).toHaveLength(1);
  });
});
