/**
 * Gathers the calls made in one turn of the event loop and serves them with one bulk call, so
 * 2,000 hosts connecting at once cost a few queries instead of 2,000. Each caller still gets its
 * own result (or the batch's error).
 */
export class TickBatch<In, Out> {
  private queue: { input: In; resolve: (v: Out) => void; reject: (e: unknown) => void }[] = [];

  constructor(
    /** Answers for every input, in the same order. */
    private readonly bulk: (inputs: In[]) => Promise<Out[]>,
    private readonly maxBatch = 1_000,
    /** 0: the batch is what one turn of the event loop asked for; more waits that long to gather more. */
    private readonly windowMs = 0,
  ) {}

  run(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      if (!this.queue.length) {
        if (this.windowMs > 0) setTimeout(() => this.drain(), this.windowMs);
        else setImmediate(() => this.drain());
      }
      this.queue.push({ input, resolve, reject });
    });
  }

  private drain() {
    const all = this.queue;
    this.queue = [];
    for (let i = 0; i < all.length; i += this.maxBatch) {
      const batch = all.slice(i, i + this.maxBatch);
      this.bulk(batch.map((b) => b.input)).then(
        (outs) => batch.forEach((b, k) => b.resolve(outs[k]!)),
        (err: unknown) => batch.forEach((b) => b.reject(err)),
      );
    }
  }
}
