/**
 * Runs at most `limit` tasks at once, in arrival order. Connecting 2,000 hosts at once would
 * only add latency to every handshake; a few dozen in flight keep two cores busy while each
 * waits on its peer.
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
