import type { IncomingMessage, ServerResponse } from "node:http";
import { TRPCError } from "@trpc/server";
import { RateWindow, type Context } from "@nimbus/api";

/** What one request may cost before any of it is parsed or stored. */
export interface HttpLimits {
  /** Largest body read (bytes). Declared larger: 413 at once; streamed larger: cut off at the limit. */
  maxBodyBytes: number;
  /** Calls in one tRPC batch; the web client batches at most this many (apps/web/src/lib/trpc.ts). */
  maxBatchCalls: number;
  /** API calls per address and minute without a session; past it, 429 with Retry-After. */
  anonymousPerMinute: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { maxBodyBytes: 256 * 1024, maxBatchCalls: 20, anonymousPerMinute: 120 };

/**
 * Refuses a body whose declared length is over the limit, before a byte of it is read (the
 * connection is closed: the client may already be sending it). A body without a declared length
 * is counted as it streams by the handler that reads it (tRPC's maxBodySize). A body nobody read
 * (a call refused before its input was needed) is drained by Node after the answer, whatever its
 * length: past the limit, the connection is closed instead.
 */
export function refuseOversizedBody(req: IncomingMessage, res: ServerResponse, limits: HttpLimits): boolean {
  res.once("finish", () => {
    if (req.complete) return;
    let drained = 0;
    req.on("data", (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > limits.maxBodyBytes) req.socket.destroy();
    });
  });
  const declared = Number(req.headers["content-length"] ?? 0);
  if (!(declared > limits.maxBodyBytes)) return false;
  res.statusCode = 413;
  res.setHeader("Content-Type", "application/json");
  res.setHeader("Connection", "close");
  res.end(JSON.stringify({ error: `request bodies are limited to ${limits.maxBodyBytes} bytes` }));
  return true;
}

/**
 * Wraps the context builder of every API call: a batch of too many calls is refused, and calls
 * without a session count against their address's allowance (a batch counts each call). Runs
 * before tRPC parses any input, so neither costs a JSON.parse.
 */
export function limitedContext(limits: HttpLimits, now: () => number = Date.now) {
  const anonymous = new RateWindow(limits.anonymousPerMinute, 60_000, now);
  return async (ctx: Context, res: ServerResponse, calls: number): Promise<Context> => {
    if (calls > limits.maxBatchCalls)
      throw new TRPCError({ code: "BAD_REQUEST", message: `a batch holds at most ${limits.maxBatchCalls} calls; this one had ${calls}` });
    if (!ctx.viewer && !anonymous.take(ctx.ip ?? "unknown", calls)) {
      if (!res.headersSent) res.setHeader("Retry-After", String(anonymous.retryAfterSeconds()));
      throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: "too many requests without signing in: wait a minute" });
    }
    return ctx;
  };
}
