import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { appRouter, createCallerFactory, type Context } from "@nimbus/api";

const createCaller = createCallerFactory(appRouter);

/**
 * GET /api/audit.csv?user=…&action=…: the audit export as a download, streamed. It goes through
 * the `audit.csv` procedure (same permission, same filter validation) and writes each chunk as the
 * socket takes it: a slow download reads the database slowly, and nothing holds the whole file.
 */
export async function serveAuditCsv(req: IncomingMessage, res: ServerResponse, context: () => Promise<Context>): Promise<void> {
  let chunks: AsyncIterable<string>;
  try {
    const filter = Object.fromEntries(new URL(req.url ?? "/", "http://nimbus").searchParams);
    chunks = (await createCaller(await context()).audit.csv(filter as never)) as AsyncIterable<string>;
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    res.statusCode = getHTTPStatusCodeFromError(err);
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ error: err.message }));
    return;
  }
  const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, "");
  res.writeHead(200, {
    "Content-Type": "text/csv; charset=utf-8",
    "Content-Disposition": `attachment; filename="nimbus-audit-${stamp}.csv"`,
    "Cache-Control": "no-store",
  });
  // pipeline waits for the socket to drain between chunks and stops the query loop if the client goes.
  await pipeline(Readable.from(chunks), res).catch((err: unknown) => {
    if ((err as { code?: string }).code !== "ERR_STREAM_PREMATURE_CLOSE") throw err;
  });
}
