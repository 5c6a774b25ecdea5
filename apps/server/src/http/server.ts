import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { appRouter, type Context } from "@nimbus/api";
import type { Logger } from "pino";
import { serveAuditCsv } from "./audit-csv.js";
import { DEFAULT_HTTP_LIMITS, limitedContext, refuseOversizedBody, type HttpLimits } from "./limits.js";
import { sameOrigin, type OriginPolicy } from "./origin-policy.js";
import { withPageNonce } from "./csp.js";
import { securityHeaders, toHeaders } from "./security.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpOptions {
  logger: Logger;
  dev: boolean;
  https: boolean;
  /** Host names served and origins allowed to change state; null until the port is known. */
  origins: () => OriginPolicy | null;
  /** Builds the tRPC context; the viewer comes from the session cookie. */
  context: (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<Context>;
  /** better-auth's Node handler for /api/auth/*. */
  auth: Handler;
  /** Next.js request handler for everything else; null when serving the API only (or not yet ready). */
  web: () => Handler | null;
  /** GET /metrics (Prometheus; refuses without its bearer token). */
  metrics?: Handler;
  /**
   * Replica-to-replica calls under /internal/cluster/ (bearer NIMBUS_CLUSTER_SECRET, checked by the
   * handler); null when not a replica: the path then answers 404 like any unknown one.
   */
  internal?: () => Handler | null;
  /** Extra readiness detail for /healthz. */
  ready: () => { ready: boolean } & Record<string, unknown>;
  /** Body size, batch size and signed-out rate; DEFAULT_HTTP_LIMITS for what is not given. */
  limits?: Partial<HttpLimits>;
}

/**
 * One origin for pages, API and the live channel: /api/trpc (queries, mutations and the SSE
 * subscription), /api/auth (sign-in), /healthz, and Next.js for the rest.
 */
export function createHttpServer(opts: HttpOptions): Server {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...opts.limits };
  const limited = limitedContext(limits);
  const contextFor = async (req: IncomingMessage, res: ServerResponse, calls: number) =>
    limited(await opts.context(req, res, (req as IncomingMessage & { id?: string }).id ?? randomUUID()), res, calls);
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/api/trpc/",
    maxBodySize: limits.maxBodyBytes,
    createContext: ({ req, res, info }) => contextFor(req, res, info.calls.length),
    onError: ({ error, path }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") opts.logger.error({ err: error.cause ?? error, path }, "procedure failed");
    },
  });

  const server = createServer(async (req, res) => {
    const requestId = randomUUID();
    (req as IncomingMessage & { id?: string }).id = requestId;
    res.setHeader("X-Request-Id", requestId);
    securityHeaders(res, opts);
    const url = req.url ?? "/";
    try {
      // Not a page or an API a browser uses: no cookies, no origin rules; the cluster secret or 404.
      if (url.startsWith("/internal/")) {
        const internal = url.startsWith("/internal/cluster/") ? opts.internal?.() : null;
        if (!internal) return deny(res, 404, "not found");
        return await internal(req, res);
      }
      const origins = opts.origins();
      if (!origins) return deny(res, 503, "starting");
      // DNS rebinding: a name other than ours pointing at this address is not a visit to Nimbus.
      if (!origins.hostAllowed(req.headers.host)) return deny(res, 421, "this server does not answer to that host name; use the address in NIMBUS_PUBLIC_URL");
      if (url.startsWith("/api/")) {
        if (!sameOrigin(req, origins)) return deny(res, 403, "cross-site request refused");
        if (refuseOversizedBody(req, res, limits)) return;
        if (url.startsWith("/api/trpc/")) return trpc(req, res);
        if (req.method === "GET" && /^\/api\/audit\.csv(\?|$)/.test(url)) return await serveAuditCsv(req, res, () => contextFor(req, res, 1));
        if (url.startsWith("/api/auth/")) return await opts.auth(req, res);
        return deny(res, 404, "no such API");
      }
      if (url === "/healthz") {
        // 503 until the backend is wired, so load balancers and test runners wait for it.
        const state = opts.ready();
        res.statusCode = state.ready ? 200 : 503;
        res.setHeader("Content-Type", "application/json");
        return res.end(JSON.stringify({ ok: state.ready, ...state }));
      }
      if (opts.metrics && /^\/metrics(\?|$)/.test(url)) return await opts.metrics(req, res);
      const web = opts.web();
      if (!web) return deny(res, 404, "the web app is not served by this process");
      withPageNonce(req, res, opts.dev);
      await web(req, res);
    } catch (err) {
      opts.logger.error({ err, url, requestId }, "request failed");
      if (!res.headersSent) deny(res, 500, "internal error");
      else res.end();
    }
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

function deny(res: ServerResponse, status: number, message: string) {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ error: message }));
}

export { toHeaders };
