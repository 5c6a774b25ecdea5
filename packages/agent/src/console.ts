import { randomUUID } from "node:crypto";
import { CONSOLE_LIMITS, type ConsoleOpenParams } from "@nimbus/domain";
import { conflict, cut, notFound, unsupported } from "./errors.js";

/**
 * One attachment to a VM's serial console, as a driver opens it: `virsh console` under a pty on
 * real hosts, the simulated getty in the lab. Bytes in, bytes out; `onClose` fires once, with a
 * reason in words, whether the guest side ended it (VM stopped, virsh exited) or `close()` did.
 */
export interface ConsoleStream {
  write(data: Buffer): void;
  close(): void;
  onData(listener: (chunk: Buffer) => void): void;
  onClose(listener: (reason: string) => void): void;
}

export interface ConsoleDriver {
  /** Refuses (notFound / conflict) a VM that is not here or not running: a stopped VM has no console. */
  open(domain: string, size: { cols: number; rows: number }): Promise<ConsoleStream>;
}

/** Where a session's output and its end go: the protocol link that opened it. */
export interface ConsoleSink {
  output(session: string, base64: string): void;
  closed(session: string, reason: string): void;
}

interface Attachment {
  domain: string;
  stream: ConsoleStream | null;
  opening: Promise<ConsoleStream> | null;
  sessions: Set<Session>;
  pending: Buffer[];
  pendingBytes: number;
  flushTimer: NodeJS.Timeout | null;
  /** Guest bytes dropped over the host's output budget, said in the next chunk that goes out. */
  dropped: number;
}

interface Session {
  id: string;
  attachment: Attachment;
  sink: ConsoleSink;
  owner: object;
}

export interface ConsoleRegistryOptions {
  /** Sessions at once on this host (default CONSOLE_LIMITS.sessionsPerHost). */
  maxSessions?: number;
  /** Output is gathered this long before it is sent, so one keystroke's echo is not a message per byte (default 15 ms). */
  flushMs?: number;
  /**
   * Console output this host sends per window, all sessions together (default 4 MiB per 10 s):
   * a guest printing without end must not use up the link's notification budget, which the
   * inventory pushes share. What is over is dropped and the terminal says how much.
   */
  outputBudget?: { bytes: number; windowMs: number };
  now?: () => number;
}

/**
 * The console sessions of one host's agent, shared by every protocol link (the daemon's relays,
 * the lab's SSH channels). One attachment per domain fans out to all its sessions: a serial line
 * has one reader, so two people on one VM see the same screen, as with `screen -x`. Sessions are
 * capped per host, owned by the link that opened them (another link's id looks unknown), and
 * closed with it (`closeOwner`). The last session to leave closes the attachment.
 */
export class ConsoleRegistry {
  private readonly attachments = new Map<string, Attachment>();
  private readonly sessions = new Map<string, Session>();
  private readonly maxSessions: number;
  private readonly flushMs: number;
  private readonly budget: { bytes: number; windowMs: number };
  private readonly now: () => number;
  private window = { start: 0, bytes: 0 };

  constructor(opts: ConsoleRegistryOptions = {}) {
    this.maxSessions = opts.maxSessions ?? CONSOLE_LIMITS.sessionsPerHost;
    this.flushMs = opts.flushMs ?? 15;
    this.budget = opts.outputBudget ?? { bytes: 4 * 1024 * 1024, windowMs: 10_000 };
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Guest bytes dropped over the output budget since the agent started. */
  droppedBytes = 0;

  async open(driver: ConsoleDriver | undefined, params: ConsoleOpenParams, sink: ConsoleSink, owner: object): Promise<string> {
    if (!driver) throw unsupported("the serial console");
    if (this.sessions.size >= this.maxSessions)
      throw conflict(`this host already has ${this.maxSessions} console sessions open; close one and try again`);
    let att = this.attachments.get(params.domain);
    if (!att) {
      att = { domain: params.domain, stream: null, opening: null, sessions: new Set(), pending: [], pendingBytes: 0, flushTimer: null, dropped: 0 };
      this.attachments.set(params.domain, att);
    }
    const session: Session = { id: randomUUID(), attachment: att, sink, owner };
    // Counted while the attachment opens, so a burst of opens cannot pass the cap together.
    att.sessions.add(session);
    this.sessions.set(session.id, session);
    try {
      if (!att.stream) {
        att.opening ??= this.attach(driver, att, params);
        await att.opening;
      }
    } catch (e) {
      this.drop(session);
      throw e;
    }
    if (!this.sessions.has(session.id)) throw conflict(`the console of ${params.domain} closed while it was opening`);
    return session.id;
  }

  input(session: string, data: string, owner: object): void {
    const s = this.owned(session, owner);
    // Ctrl-] is virsh console's escape: it would end the attachment for everyone on it.
    const bytes = Buffer.from(data.replaceAll("\x1d", ""), "utf8");
    if (bytes.length && s.attachment.stream) s.attachment.stream.write(bytes);
  }

  /** Idempotent: an unknown or already closed session is no change. */
  close(session: string, owner: object): void {
    const s = this.sessions.get(session);
    if (s && s.owner === owner) this.drop(s);
  }

  /** The link went: every session it opened ends, quietly (nobody is left to tell). */
  closeOwner(owner: object): void {
    for (const s of [...this.sessions.values()]) if (s.owner === owner) this.drop(s);
  }

  private owned(session: string, owner: object): Session {
    const s = this.sessions.get(session);
    if (!s || s.owner !== owner) throw notFound(`console session ${cut(session, 64)}`);
    return s;
  }

  private async attach(driver: ConsoleDriver, att: Attachment, params: ConsoleOpenParams): Promise<ConsoleStream> {
    try {
      const stream = await driver.open(params.domain, { cols: params.cols, rows: params.rows });
      att.opening = null;
      if (att.sessions.size === 0 || this.attachments.get(att.domain) !== att) {
        stream.close();
        return stream;
      }
      att.stream = stream;
      stream.onData((chunk) => this.buffer(att, chunk));
      stream.onClose((reason) => this.ended(att, reason));
      return stream;
    } catch (e) {
      att.opening = null;
      if (this.attachments.get(att.domain) === att) this.attachments.delete(att.domain);
      throw e;
    }
  }

  private buffer(att: Attachment, chunk: Buffer) {
    att.pending.push(chunk);
    att.pendingBytes += chunk.length;
    if (att.pendingBytes >= CONSOLE_LIMITS.chunkBytes) return this.flush(att);
    att.flushTimer ??= setTimeout(() => this.flush(att), this.flushMs);
  }

  private flush(att: Attachment) {
    if (att.flushTimer) clearTimeout(att.flushTimer);
    att.flushTimer = null;
    if (!att.pendingBytes) return;
    let all = Buffer.concat(att.pending);
    att.pending = [];
    att.pendingBytes = 0;
    const now = this.now();
    if (now - this.window.start >= this.budget.windowMs) this.window = { start: now, bytes: 0 };
    const cost = all.length * Math.max(1, att.sessions.size);
    if (this.window.bytes + cost > this.budget.bytes) {
      att.dropped += all.length;
      this.droppedBytes += all.length;
      return;
    }
    this.window.bytes += cost;
    if (att.dropped) {
      all = Buffer.concat([Buffer.from(`\r\n[nimbus: ${att.dropped} bytes of console output dropped: the guest printed faster than this host may send]\r\n`), all]);
      att.dropped = 0;
    }
    for (let at = 0; at < all.length; at += CONSOLE_LIMITS.chunkBytes) {
      const data = all.subarray(at, at + CONSOLE_LIMITS.chunkBytes).toString("base64");
      for (const s of att.sessions) s.sink.output(s.id, data);
    }
  }

  /** The stream ended by itself: what it had said goes out first, then every session learns why. */
  private ended(att: Attachment, reason: string) {
    if (this.attachments.get(att.domain) !== att) return;
    this.flush(att);
    this.attachments.delete(att.domain);
    for (const s of att.sessions) {
      this.sessions.delete(s.id);
      s.sink.closed(s.id, reason);
    }
    att.sessions.clear();
  }

  private drop(s: Session) {
    this.sessions.delete(s.id);
    const att = s.attachment;
    att.sessions.delete(s);
    if (att.sessions.size) return;
    if (att.flushTimer) clearTimeout(att.flushTimer);
    att.flushTimer = null;
    if (this.attachments.get(att.domain) === att) this.attachments.delete(att.domain);
    const stream = att.stream;
    att.stream = null;
    stream?.close();
  }
}
