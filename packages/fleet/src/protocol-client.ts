import type { Readable, Writable } from "node:stream";
import {
  MAX_MESSAGE_BYTES,
  MAX_SECTION_BYTES,
  NimbusError,
  cutText,
  parseStatsCounters,
  type MethodName,
  type MethodParams,
  type MethodResult,
  type NotificationName,
  type NotificationParams,
} from "@nimbus/domain";
import type { z } from "zod";
import { agentError } from "./agent-errors.js";
import { LineSplitter } from "./line-splitter.js";
import { methodParams, methodResult, notificationParams, wireNotification, wireResponse } from "./protocol-schemas.js";

/**
 * Notifications checked by hand where zod's cost shows at fleet size (every host's counters every
 * 10 s): the same result as the schema, or null, and then the schema words the refusal.
 */
const FAST_NOTIFICATIONS = new Map<string, (params: unknown) => unknown>([["stats.counters", parseStatsCounters]]);

export type AgentNotification = { [N in NotificationName]: { method: N; params: NotificationParams<N> } }[NotificationName];

export interface ProtocolClientOptions {
  host: string;
  /** The agent's stdout. */
  input: Readable;
  /** The agent's stdin. */
  output: Writable;
  requestTimeoutMs?: number;
  maxLineBytes?: number;
  /** Notifications (pushed sections) longer than this are refused; answers may be up to maxLineBytes. */
  maxNotificationBytes?: number;
  /** Pushes beyond this many bytes per window are refused (see NOTIFICATION_BUDGET). */
  notificationBudget?: { bytes: number; windowMs: number };
  onNotification?: (n: AgentNotification) => void;
  /**
   * A message that could not be used (garbage line, invalid notification, unknown id); never fatal
   * here. One refused for its size carries `details.oversizedBytes`.
   */
  onProtocolError?: (err: NimbusError) => void;
  /** The input ended or `close()` was called. */
  onClose?: () => void;
}

interface Pending {
  method: MethodName;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const describeIssues = (error: z.ZodError) =>
  error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
    .join("; ");

/**
 * How much a host may push per minute. A busy hypervisor pushes well under a few MB a minute
 * (sections of tens of KB, on changes); a host that pushes valid 2 MB sections in a loop would
 * keep the server parsing them. Refused pushes count as oversized (three drop the link).
 */
export const NOTIFICATION_BUDGET = { bytes: 64 * 1024 * 1024, windowMs: 60_000 };

/** A peer-chosen string in a message: quoted and cut short, so a hostile agent cannot flood the log. */
const quote = (s: string) => JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);

/**
 * The server's end of the agent protocol: JSON-RPC 2.0, one message per line. Validates every
 * answer and notification against the schemas in @nimbus/domain (compiled: protocol-schemas.ts);
 * whatever does not fit becomes a typed error naming the host and method, and never takes the
 * process down.
 */
export class ProtocolClient {
  readonly host: string;
  /** When the last bytes of any kind arrived (ms since the epoch; creation time before any): liveness. */
  lastReceivedAt = Date.now();
  // A number per line, not a Date: every pushed section passes here.
  private lastMessageMs: number | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly splitter: LineSplitter;
  private readonly timeoutMs: number;
  private readonly maxLineBytes: number;
  private readonly maxNotificationBytes: number;
  private readonly budget: { bytes: number; windowMs: number };
  private budgetWindow = { start: 0, bytes: 0 };
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: ProtocolClientOptions) {
    this.host = opts.host;
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.maxLineBytes = opts.maxLineBytes ?? MAX_MESSAGE_BYTES;
    this.maxNotificationBytes = Math.min(opts.maxNotificationBytes ?? MAX_SECTION_BYTES, this.maxLineBytes);
    this.budget = opts.notificationBudget ?? NOTIFICATION_BUDGET;
    this.splitter = new LineSplitter(this.maxLineBytes);
    opts.input.on("data", this.onData);
    opts.input.once("end", this.onEnd);
    opts.input.once("close", this.onEnd);
    // A broken pipe on the agent's stdin must not become an uncaught exception.
    opts.output.on("error", this.onOutputError);
  }

  /** When the last message (of any kind) arrived; null before the first. */
  get lastMessageAt(): Date | null {
    return this.lastMessageMs === null ? null : new Date(this.lastMessageMs);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  request<M extends MethodName>(method: M, params: MethodParams<M>, opts?: { timeoutMs?: number }): Promise<MethodResult<M>> {
    if (this.closed) return Promise.reject(this.closedError(method));
    const parsed = methodParams(method).safeParse(params);
    if (!parsed.success)
      return Promise.reject(
        new NimbusError("BAD_INPUT", `${this.host}: invalid ${method} request: ${describeIssues(parsed.error)}`, { host: this.host, method }),
      );
    const id = this.nextId++;
    const timeoutMs = opts?.timeoutMs ?? this.timeoutMs;
    return new Promise<MethodResult<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new NimbusError("TIMEOUT", `${this.host}: ${method} got no answer within ${timeoutMs} ms`, { host: this.host, method }));
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      this.opts.output.write(JSON.stringify({ jsonrpc: "2.0", id, method, params: parsed.data }) + "\n");
    });
  }

  /** Rejects every pending request and stops reading. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.opts.input.off("data", this.onData);
    this.opts.input.off("end", this.onEnd);
    this.opts.input.off("close", this.onEnd);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(this.closedError(p.method));
    }
    this.opts.onClose?.();
  }

  private closedError(method: string) {
    return new NimbusError("HOST_UNREACHABLE", `${this.host}: connection closed before ${method} was answered`, { host: this.host, method });
  }

  private readonly onEnd = () => this.close();
  private readonly onOutputError = () => this.close();

  private readonly onData = (chunk: Buffer | string) => {
    this.lastReceivedAt = Date.now();
    const { lines, oversized } = this.splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    for (let i = 0; i < oversized; i++)
      this.protocolError(`a message exceeded the ${this.maxLineBytes}-byte limit and was dropped`, { oversizedBytes: this.maxLineBytes + 1 });
    for (const line of lines) this.handleLine(line);
  };

  private protocolError(message: string, details: Record<string, unknown> = {}) {
    this.opts.onProtocolError?.(new NimbusError("UNPARSEABLE_OUTPUT", `${this.host}: ${message}`, { host: this.host, ...details }));
  }

  private handleLine(line: string) {
    if (!line.trim()) return;
    this.lastMessageMs = this.lastReceivedAt;
    // Only an answer to a pending request (the first snapshot) may be longer than a pushed
    // section: any other long line is refused, unread when nothing is pending.
    const long = line.length > this.maxNotificationBytes;
    const refuseLong = (what: string) =>
      this.protocolError(`agent sent ${what} (${line.length} bytes, over the ${this.maxNotificationBytes}-byte limit); it was refused`, { oversizedBytes: line.length });
    if (long && this.pending.size === 0) return refuseLong("a message while nothing was asked");
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      if (long) return refuseLong("a line that is not JSON");
      return this.protocolError(`agent sent a line that is not JSON: ${JSON.stringify(line.slice(0, 120))}`);
    }
    if (raw && typeof raw === "object" && "id" in raw) {
      const { id } = raw as { id: unknown };
      if (long && !(typeof id === "number" && this.pending.has(id))) return refuseLong("an answer to no pending request");
      return this.handleResponse(raw);
    }
    const note = wireNotification().safeParse(raw);
    if (!note.success) return this.protocolError(`agent sent a message that is neither an answer nor a notification`);
    const method = note.data.method;
    if (long) return refuseLong(`a ${quote(method)}`);
    if (!this.withinBudget(line.length))
      return this.protocolError(
        `agent pushed more than ${this.budget.bytes} bytes within ${this.budget.windowMs / 1000} s; ${quote(method)} refused`,
        { method: method.slice(0, 64), oversizedBytes: line.length },
      );
    this.handleNotification(method, note.data.params);
  }

  /** Counts a push against the budget of its window; false when it would exceed it (not counted then). */
  private withinBudget(bytes: number): boolean {
    const now = Date.now();
    if (now - this.budgetWindow.start >= this.budget.windowMs) this.budgetWindow = { start: now, bytes: 0 };
    if (this.budgetWindow.bytes + bytes > this.budget.bytes) return false;
    this.budgetWindow.bytes += bytes;
    return true;
  }

  private handleResponse(raw: object) {
    const msg = wireResponse().safeParse(raw);
    if (!msg.success) return this.protocolError(`agent sent a malformed answer: ${describeIssues(msg.error)}`);
    const { id } = msg.data;
    const pending = typeof id === "number" ? this.pending.get(id) : undefined;
    if (!pending) {
      const why = "error" in msg.data ? `: ${cutText(msg.data.error.message, 200)}` : "";
      return this.protocolError(`agent answered unknown or timed-out request ${typeof id === "number" ? id : quote(String(id))}${why}`);
    }
    this.pending.delete(id as number);
    clearTimeout(pending.timer);
    if ("error" in msg.data) return pending.reject(agentError(this.host, pending.method, msg.data.error));
    const result = methodResult(pending.method).safeParse(msg.data.result);
    if (!result.success)
      return pending.reject(
        new NimbusError(
          "UNPARSEABLE_OUTPUT",
          `${this.host}: answer to ${pending.method} does not match the protocol: ${describeIssues(result.error)}`,
          { host: this.host, method: pending.method },
        ),
      );
    pending.resolve(result.data);
  }

  private handleNotification(method: string, params: unknown) {
    const fast = FAST_NOTIFICATIONS.get(method)?.(params);
    if (fast) return this.opts.onNotification?.({ method, params: fast } as AgentNotification);
    const schema = notificationParams(method);
    if (!schema) return this.protocolError(`agent sent unknown notification ${quote(method)}`, { method: method.slice(0, 64) });
    const parsed = schema.safeParse(params);
    if (!parsed.success)
      return this.protocolError(`${method} notification does not match the protocol: ${describeIssues(parsed.error)}`, { method });
    this.opts.onNotification?.({ method, params: parsed.data } as AgentNotification);
  }
}
