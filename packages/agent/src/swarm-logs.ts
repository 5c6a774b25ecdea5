import { LOG_LIMITS, LineRate, cutLine, type LogChunk, type LogLine, type LogsParams } from "@nimbus/domain";

/** Where a driver's log stream goes: lines as they come, then one end (null: ended normally). */
export interface LogSink {
  line(line: LogLine): void;
  end(error: string | null): void;
}

/**
 * Turns a driver's lines into bounded `swarm.logLines` chunks: each line cut, at most
 * LOG_LIMITS.linesPerSecond lines a second (the rest dropped and counted), lines gathered for
 * a few milliseconds into chunks of at most LOG_LIMITS.linesPerChunk, and exactly one last chunk.
 */
export function chunkedSink(streamId: string, push: (chunk: LogChunk) => void, opts: { flushMs?: number; now?: () => number } = {}): LogSink & { closed(): boolean } {
  const flushMs = opts.flushMs ?? 50;
  const now = opts.now ?? Date.now;
  const rate = new LineRate();
  let buffer: LogLine[] = [];
  let timer: NodeJS.Timeout | null = null;
  let ended = false;
  const flush = (end: LogChunk["end"]) => {
    if (timer) clearTimeout(timer);
    timer = null;
    const dropped = rate.takeDropped();
    if (!buffer.length && !dropped && !end) return;
    push({ streamId, lines: buffer, dropped, end });
    buffer = [];
  };
  return {
    line(line) {
      if (ended || !rate.admit(now())) return;
      buffer.push({ ...line, text: cutLine(line.text) });
      if (buffer.length >= LOG_LIMITS.linesPerChunk) flush(null);
      else timer ??= setTimeout(() => flush(null), flushMs);
    },
    end(error) {
      if (ended) return;
      ended = true;
      flush({ error: error ? error.slice(0, 1000) : null });
    },
    closed: () => ended,
  };
}

/** A driver's log streaming: starts at once, returns the stop function (idempotent). */
export type StartLogs = (params: LogsParams, sink: LogSink) => () => void;

/**
 * The log streams of one protocol session, so they end with it and one session cannot open more
 * than a handful (the server also caps streams per user).
 */
export class SessionLogStreams {
  private readonly streams = new Map<string, () => void>();
  static readonly MAX = 16;

  start(params: LogsParams, startLogs: StartLogs, push: (chunk: LogChunk) => void): void {
    if (this.streams.has(params.streamId)) return;
    if (this.streams.size >= SessionLogStreams.MAX) throw new Error(`at most ${SessionLogStreams.MAX} log streams per link`);
    const sink = chunkedSink(params.streamId, (chunk) => {
      if (chunk.end) this.streams.delete(params.streamId);
      push(chunk);
    });
    let stop: (() => void) | null = null;
    this.streams.set(params.streamId, () => stop?.());
    const maxTimer = setTimeout(() => {
      stop?.();
      sink.end(`the stream ended after ${LOG_LIMITS.maxFollowMs / 60_000} minutes; follow again to go on`);
    }, LOG_LIMITS.maxFollowMs);
    maxTimer.unref();
    stop = startLogs(params, {
      line: (l) => sink.line(l),
      end: (e) => {
        clearTimeout(maxTimer);
        this.streams.delete(params.streamId);
        sink.end(e);
      },
    });
    if (sink.closed()) this.streams.delete(params.streamId);
    const stopNow = stop;
    this.streams.set(params.streamId, () => {
      clearTimeout(maxTimer);
      stopNow();
    });
  }

  stop(streamId: string): void {
    const stop = this.streams.get(streamId);
    this.streams.delete(streamId);
    stop?.();
  }

  stopAll(): void {
    for (const id of [...this.streams.keys()]) this.stop(id);
  }
}
