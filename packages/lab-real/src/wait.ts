import { setTimeout as sleep } from "node:timers/promises";
import { LabError } from "./errors.js";

/** Thrown by a probe when waiting longer cannot help: ends the wait at once with this error. */
export class GiveUp extends Error {}

/**
 * Polls a condition until it holds. The lab waits for what it needs (a socket, an answer),
 * never a fixed time; the message says what did not happen.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | false | null | undefined> | T | false | null | undefined,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let interval = opts.intervalMs ?? 50;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== false && v !== null && v !== undefined) return v;
    } catch (e) {
      if (e instanceof GiveUp) throw new LabError(`gave up waiting for ${what}: ${e.message}`);
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new LabError(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(interval);
    interval = Math.min(interval * 1.5, 500);
  }
}
