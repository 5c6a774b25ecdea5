import type { Logger } from "pino";

/** Subscribers of one event stream; a throwing listener is logged and does not stop the others. */
export class ListenerSet<E> {
  private readonly listeners = new Set<(e: E) => void>();

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  add(listener: (e: E) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: E): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.error({ err }, `${this.what} listener failed`);
      }
    }
  }
}
