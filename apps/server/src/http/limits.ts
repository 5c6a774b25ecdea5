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
 * is counted as it streams by tRPC (maxBodySize: past it, the connection is closed), and refused
 * elsewhere.
 */
export function refuseOversizedBody(req: IncomingMessage, res: ServerResponse, limits: HttpLimits): boolean {
  if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] !== undefined && !req.url?.startsWith("/api/trpc/")) {
    // Only tRPC counts a streamed body; the sign-in handler would read one whole.
    return refuse(res, 411, "send the body with a Content-Length");
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (!(declared > limits.maxBodyBytes)) return false;
  return refuse(res, 413, `request bodies are limited to ${limits.maxBodyBytes} bytes`);
}

function refuse(res: ServerResponse, status: number, message: string): true {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  // The client may be sending the body still: nothing more is read from this connection.
  res.setHeader("Connection", "close");
  res.end(JSON.stringify({ error: message }));
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
