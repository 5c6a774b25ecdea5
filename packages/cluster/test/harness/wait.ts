import { createServer } from "node:net";

/** Thrown by a check to stop waiting at once (the process it waits for exited). */
export class GiveUp extends Error {}

/** Polls `check` (a condition on state another process changes) until it returns a truthy value. */
export async function waitFor<T>(check: () => Promise<T | false | null | undefined> | T | false | null | undefined, opts: { timeoutMs: number; what: string; everyMs?: number }): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 100));
  }
}

/** A loopback port free right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}
