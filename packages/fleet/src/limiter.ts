/**
 * Runs at most `limit` tasks at once, in arrival order: a fleet connecting all at once must not
 * stretch every handshake toward its timeout (the fleet's limit and why: fleet.ts).
 */
export class ConcurrencyLimiter {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly limit: number) {
    if (limit < 1) throw new RangeError("concurrency limit must be at least 1");
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }
}
