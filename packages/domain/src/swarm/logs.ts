import { z } from "zod";
import { boundedName } from "../bounds.js";
import { ServiceName } from "../names.js";

/**
 * A service's logs, streamed from a manager: `swarm.logs` starts a stream named by the server,
 * the agent pushes `swarm.logLines` chunks for it, `swarm.logsStop` (or the session's end) stops it.
 * Everything is bounded: the tail asked, each line's length, lines per chunk, lines per second.
 */
export const LOG_LIMITS = {
  /** Longest tail a viewer may ask for. */
  maxTail: 2000,
  tails: [50, 200, 1000, 2000] as const,
  /** A line longer than this is cut (with "…"). */
  lineChars: 2000,
  /** Lines in one pushed chunk. */
  linesPerChunk: 200,
  /** Lines per second one stream may carry; past it lines are dropped and counted. */
  linesPerSecond: 200,
  /** Log streams one user may have open at once. */
  streamsPerUser: 3,
  /** Follow streams end after this long; the viewer can start again. */
  maxFollowMs: 30 * 60_000,
} as const;

export const LogsRequest = z.object({
  service: ServiceName,
  tail: z.number().int().min(1).max(LOG_LIMITS.maxTail).default(200),
  follow: z.boolean().default(true),
});
export type LogsRequest = z.infer<typeof LogsRequest>;

export const LogsParams = LogsRequest.extend({ streamId: z.string().min(1).max(64) });
export type LogsParams = z.infer<typeof LogsParams>;

export const LogLine = z.object({
  /** RFC 3339 timestamp from docker, or null when the line had none. */
  at: boundedName().nullable(),
  /** The task, as SERVICE.SLOT (or SERVICE.NODEID for a global service). */
  task: boundedName().nullable(),
  /** The node the task ran on (staff only: the server drops it for tenants). */
  node: boundedName().nullable(),
  text: z.string().transform((s) => cutLine(s)),
});
export type LogLine = z.infer<typeof LogLine>;

export const LogChunk = z.object({
  streamId: z.string().max(64),
  lines: z.array(LogLine).max(LOG_LIMITS.linesPerChunk),
  /** Lines the agent dropped since the last chunk (rate limit). */
  dropped: z.number().int().nonnegative().default(0),
  /** Set on the last chunk of a stream: null when it ended normally, else why it ended. */
  end: z.object({ error: z.string().max(1000).nullable() }).nullable().default(null),
});
export type LogChunk = z.infer<typeof LogChunk>;

export const cutLine = (s: string) => (s.length > LOG_LIMITS.lineChars ? `${s.slice(0, LOG_LIMITS.lineChars - 1)}…` : s);

/**
 * Lets through at most `perSecond` lines in each one-second window and counts the rest, so a
 * service that logs in a tight loop cannot flood the channel (the window is the caller's clock).
 */
export class LineRate {
  private windowStart = -Infinity;
  private inWindow = 0;
  dropped = 0;
  constructor(private readonly perSecond: number = LOG_LIMITS.linesPerSecond) {}
  admit(nowMs: number): boolean {
    if (nowMs - this.windowStart >= 1000) {
      this.windowStart = nowMs;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.perSecond) {
      this.dropped++;
      return false;
    }
    this.inWindow++;
    return true;
  }
  takeDropped(): number {
    const d = this.dropped;
    this.dropped = 0;
    return d;
  }
}
