/**
 * Simulated time. Every duration in the world is written in "lab milliseconds" as they would
 * pass at speed 1; the clock divides them by `speed`, so tests run the same story 10x faster.
 * Background timers are unref'd (an idle lab never keeps a process alive by itself); `sleep()`,
 * which someone awaits (a migration step), keeps it alive like any pending I/O. All are
 * tracked, so `stop()` leaves nothing behind.
 */
export class Clock {
  private readonly origin = Date.now();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(readonly speed: number) {
    if (!(speed > 0)) throw new Error(`speed must be > 0, got ${speed}`);
  }

  /** Lab milliseconds since the world started. */
  now(): number {
    return (Date.now() - this.origin) * this.speed;
  }

  /** Runs `fn` after `ms` lab milliseconds; returns a cancel function. */
  after(ms: number, fn: () => void, keepAlive = false): () => void {
    if (this.stopped) return () => {};
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms / this.speed);
    if (!keepAlive) t.unref();
    this.timers.add(t);
    return () => {
      clearTimeout(t);
      this.timers.delete(t);
    };
  }

  /**
   * Runs `fn` every `ms` lab milliseconds, first after `firstAfterMs` (default `ms`). Ticks keep
   * their phase: a late tick (a busy event loop) does not push the next ones later, and missed
   * ones are skipped. Rescheduling from the late moment instead made 2,000 hosts' random phases
   * collapse into one burst every period after a busy start.
   */
  every(ms: number, fn: () => void, firstAfterMs = ms): () => void {
    let cancel = () => {};
    let due = this.now() + firstAfterMs;
    const loop = () => {
      const now = this.now();
      due += ms;
      if (due <= now) due += Math.ceil((now - due) / ms + Number.EPSILON) * ms;
      cancel = this.after(due - now, loop);
      fn();
    };
    cancel = this.after(firstAfterMs, loop);
    return () => cancel();
  }

  /** Waits `ms` lab milliseconds; rejects with the signal's reason when aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const onAbort = () => {
        cancel();
        reject(abortReason(signal!));
      };
      const cancel = this.after(
        ms,
        () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        true,
      );
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

const abortReason = (signal: AbortSignal) =>
  signal.reason instanceof Error ? signal.reason : new Error("cancelled");
