/**
 * Keystrokes from the terminal to the server: gathered while a call is out and sent in order, one
 * call at a time, each at most `maxChars` (the server's bound; a paste is cut into several calls).
 * Typing faster than a round trip costs one call per round trip, not one per key.
 *
 * Paused while the console is (re)connecting: keys typed meanwhile are kept and sent, in order, once
 * it is connected again. A call the server refused because the console is reconnecting (`retry`:
 * nothing of it reached the guest) is put back in front and the batcher pauses, so nothing typed is
 * lost or sent twice when the console's host changes server replica.
 */
export class InputBatcher {
  private pending = "";
  private sending = false;
  private stopped = false;
  private paused = false;

  constructor(
    private readonly send: (data: string) => Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly maxChars = 1024,
    private readonly retry: (err: unknown) => boolean = () => false,
  ) {}

  push(data: string): void {
    if (this.stopped || !data) return;
    this.pending += data;
    void this.drain();
  }

  /** Keeps what is typed from now on without sending it (the console is connecting). */
  pause(): void {
    this.paused = true;
  }

  /** Sends what was kept (the console is connected). */
  resume(): void {
    this.paused = false;
    void this.drain();
  }

  /** Drops what was not sent (the console closed). */
  stop(): void {
    this.stopped = true;
    this.pending = "";
  }

  private async drain() {
    if (this.sending || this.paused) return;
    this.sending = true;
    let chunk = "";
    try {
      while (this.pending && !this.stopped && !this.paused) {
        // Never split a UTF-16 surrogate pair across two calls.
        let cut = Math.min(this.maxChars, this.pending.length);
        const code = this.pending.charCodeAt(cut - 1);
        if (cut < this.pending.length && code >= 0xd800 && code <= 0xdbff) cut--;
        chunk = this.pending.slice(0, cut);
        this.pending = this.pending.slice(cut);
        await this.send(chunk);
      }
    } catch (err) {
      if (this.retry(err) && !this.stopped) {
        this.pending = chunk + this.pending;
        this.paused = true;
        return;
      }
      this.pending = "";
      if (!this.stopped) this.onError(err);
    } finally {
      this.sending = false;
    }
  }
}

export type ConsolePhase = { kind: "connecting" } | { kind: "connected" } | { kind: "closed"; reason: string };

/** What the stream says, as the panel shows it. */
export type ConsoleEvent =
  | { kind: "connecting" }
  | { kind: "connected" }
  | { kind: "reset" }
  | { kind: "output"; data: string }
  | { kind: "closed"; reason: string };

/** base64 (the guest's bytes) to the bytes xterm writes (it decodes UTF-8 across chunks itself). */
export function bytesOf(base64: string): Uint8Array {
  const bin = atob(base64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
