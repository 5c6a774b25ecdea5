import type { Logger } from "pino";
import type { Operation } from "@nimbus/domain";
import type { OperationStore } from "./contract.js";

interface Slot {
  lastWrite: number;
  timer: NodeJS.Timeout | null;
  latest: Operation;
  /** Writes of one operation run in order, so an older progress row never overwrites the final one. */
  chain: Promise<void>;
}

/**
 * Persists operation changes: progress at most once per `intervalMs` per operation (the latest
 * state wins), final states at once.
 */
export class ThrottledOperationWriter {
  private readonly slots = new Map<string, Slot>();
  /** Final writes still in flight after their slot was released. */
  private readonly finishing = new Set<Promise<void>>();

  constructor(
    private readonly store: OperationStore,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  write(op: Operation, final: boolean): void {
    const slot = this.slots.get(op.id) ?? { lastWrite: 0, timer: null, latest: op, chain: Promise.resolve() };
    this.slots.set(op.id, slot);
    slot.latest = op;
    const since = Date.now() - slot.lastWrite;
    if (final) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = null;
      this.flush(slot);
      this.slots.delete(op.id);
      const done = slot.chain.finally(() => this.finishing.delete(done));
      this.finishing.add(done);
    } else if (!slot.timer) {
      if (since >= this.intervalMs) this.flush(slot);
      else slot.timer = setTimeout(() => ((slot.timer = null), this.flush(slot)), this.intervalMs - since);
    }
  }

  /** Writes whatever is waiting and resolves when every write finished. */
  async drain(): Promise<void> {
    const chains = [...this.slots.values()].map((slot) => {
      if (slot.timer) {
        clearTimeout(slot.timer);
        slot.timer = null;
        this.flush(slot);
      }
      return slot.chain;
    });
    this.slots.clear();
    await Promise.all([...chains, ...this.finishing]);
  }

  private flush(slot: Slot) {
    const op = slot.latest;
    slot.lastWrite = Date.now();
    slot.chain = slot.chain
      .then(() => this.store.update(op))
      .catch((err: unknown) => this.logger.error({ err, operation: op.id }, "could not persist operation"));
  }
}
