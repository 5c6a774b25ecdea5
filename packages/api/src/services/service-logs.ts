import { randomUUID } from "node:crypto";
import type { FleetView } from "@nimbus/fleet";
import { LOG_LIMITS, NimbusError, type LogChunk, type LogLine, type LogsRequest, type Viewer } from "@nimbus/domain";

/** What the browser receives: lines (node only for staff), lines dropped by the rate limit, and the end. */
export interface LogBatch {
  lines: LogLine[];
  dropped: number;
  end: { error: string | null } | null;
}

/** Chunks waiting for a slow browser, at most; past it the oldest lines are dropped and counted. */
const MAX_QUEUED_CHUNKS = 50;

/**
 * Service log streams for browsers: one `swarm.logs` stream on the manager per subscription,
 * its `swarm.logLines` chunks routed by stream id, stopped (`swarm.logsStop`) when the browser
 * goes. At most LOG_LIMITS.streamsPerUser streams per user at once; a manager that drops off
 * ends the stream with the reason. One per fleet (a WeakMap), so it needs no wiring.
 */
export class ServiceLogStreams {
  private readonly perUser = new Map<string, number>();

  constructor(private readonly fleet: FleetView) {}

  /** Refuses a user who already holds the most streams (asked before the stream starts, so the error reaches the browser as such). */
  assertRoom(viewer: Viewer): void {
    if ((this.perUser.get(viewer.userId) ?? 0) >= LOG_LIMITS.streamsPerUser)
      throw new NimbusError("RATE_LIMITED", `you already follow ${LOG_LIMITS.streamsPerUser} service logs: close one of them first`);
  }

  async *stream(viewer: Viewer, manager: string, request: LogsRequest, signal: AbortSignal | undefined): AsyncGenerator<LogBatch> {
    this.assertRoom(viewer);
    this.perUser.set(viewer.userId, (this.perUser.get(viewer.userId) ?? 0) + 1);
    const streamId = randomUUID();
    const queue: LogBatch[] = [];
    let wake: (() => void) | null = null;
    let ended = false;
    const push = (b: LogBatch) => {
      if (queue.length >= MAX_QUEUED_CHUNKS) {
        const dropped = queue.shift()!;
        queue[0] = { ...queue[0]!, dropped: queue[0]!.dropped + dropped.dropped + dropped.lines.length };
      }
      queue.push(b);
      wake?.();
    };
    const staff = viewer.role !== "tenant";
    const unsubscribe = this.fleet.subscribe((e) => {
      if (ended) return;
      if (e.type === "log-lines" && e.host === manager && e.chunk.streamId === streamId) return push(batchOf(e.chunk, staff));
      if (e.type === "host" && e.host.name === manager && e.changed.includes("connection") && e.host.connection.state !== "online")
        push({ lines: [], dropped: 0, end: { error: "the swarm manager went offline; follow again once it is back" } });
    });
    const onAbort = () => wake?.();
    signal?.addEventListener("abort", onAbort);
    try {
      await this.fleet.request(manager, "swarm.logs", { streamId, service: request.service, tail: request.tail, follow: request.follow });
      while (!signal?.aborted) {
        const next = queue.shift();
        if (!next) {
          await new Promise<void>((r) => (wake = r));
          wake = null;
          continue;
        }
        yield next;
        if (next.end) {
          ended = true;
          return;
        }
      }
    } finally {
      ended = true;
      unsubscribe();
      signal?.removeEventListener("abort", onAbort);
      const left = (this.perUser.get(viewer.userId) ?? 1) - 1;
      if (left > 0) this.perUser.set(viewer.userId, left);
      else this.perUser.delete(viewer.userId);
      // The browser went (or the stream ended): the agent stops reading docker's output.
      void this.fleet.request(manager, "swarm.logsStop", { streamId }).catch(() => {});
    }
  }

  /** Streams open now (tests). */
  openFor(userId: string): number {
    return this.perUser.get(userId) ?? 0;
  }
}

function batchOf(chunk: LogChunk, staff: boolean): LogBatch {
  // Nodes are infrastructure: a tenant sees the task, not where it ran.
  return { lines: staff ? chunk.lines : chunk.lines.map((l) => ({ ...l, node: null })), dropped: chunk.dropped, end: chunk.end };
}

const streams = new WeakMap<FleetView, ServiceLogStreams>();
export function serviceLogStreams(fleet: FleetView): ServiceLogStreams {
  let s = streams.get(fleet);
  if (!s) streams.set(fleet, (s = new ServiceLogStreams(fleet)));
  return s;
}
