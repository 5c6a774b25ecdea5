/**
 * Counts what each key (an address) did in the current window and refuses past a limit. One
 * window for all keys: when it ends every count is forgotten at once, so memory holds only the
 * keys seen in the last window, however many came before.
 */
export class RateWindow {
  private counts = new Map<string, number>();
  private startedAt: number;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  /** Counts `n` more for `key`; false (and nothing counted) when that would pass the limit. */
  take(key: string, n = 1): boolean {
    this.roll();
    const used = this.counts.get(key) ?? 0;
    if (used + n > this.limit) return false;
    this.counts.set(key, used + n);
    return true;
  }

  /** Seconds until the window ends and `key` may try again. */
  retryAfterSeconds(): number {
    this.roll();
    return Math.max(1, Math.ceil((this.startedAt + this.windowMs - this.now()) / 1000));
  }

  private roll() {
    const now = this.now();
    if (now - this.startedAt < this.windowMs) return;
    this.counts.clear();
    this.startedAt = now;
  }
}
