import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { toNodeHandler } from "better-auth/node";
import { TrustedProxies, unmapped } from "./trusted-proxies.js";

/** Written by our handler from the TCP peer address; any value a client sends is replaced. */
export const CLIENT_IP_HEADER = "x-nimbus-client-ip";
export const REQUEST_ID_HEADER = "x-request-id";
export const AUTH_BASE_PATH = "/api/auth";

/**
 * The only better-auth endpoints reachable over HTTP. Users are created and changed through the
 * audited admin functions, never through better-auth's sign-up, update-user or delete-user routes.
 */
const EXPOSED = new Set([
  "POST /sign-in/email",
  "POST /sign-in/username",
  "POST /sign-out",
  "GET /get-session",
  "POST /change-password",
  "GET /ok",
]);

export type WebHandler = (request: Request) => Promise<Response>;

/** Refuses unexposed routes and gives every 429 a standard Retry-After header. */
export function guardAuthRoutes(handler: WebHandler): WebHandler {
  return async (request) => {
    const path = new URL(request.url).pathname;
    const route = `${request.method} ${path.startsWith(AUTH_BASE_PATH) ? path.slice(AUTH_BASE_PATH.length) : path}`;
    if (!EXPOSED.has(route)) return Response.json({ code: "NOT_FOUND", message: `No such route: ${request.method} ${path}` }, { status: 404 });
    const response = await handler(request);
    // better-auth's own per-address limiter says X-Retry-After; browsers and the UI read Retry-After.
    const retry = response.headers.get("x-retry-after");
    if (response.status !== 429 || response.headers.has("retry-after") || !retry) return response;
    const headers = new Headers(response.headers);
    headers.set("retry-after", retry);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}

/** A Node handler for `/api/auth/*`. */
export function toNodeAuthHandler(handler: WebHandler, proxies: TrustedProxies = TrustedProxies.none): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const node = toNodeHandler(guardAuthRoutes(handler));
  return async (req, res) => {
    req.headers[CLIENT_IP_HEADER] = clientAddress(req, proxies);
    if (!req.headers[REQUEST_ID_HEADER]) req.headers[REQUEST_ID_HEADER] = randomUUID();
    await node(req, res);
  };
}

/** "::ffff:127.0.0.1" → "127.0.0.1". Behind a reverse proxy this is the proxy's address. */
export function peerAddress(req: IncomingMessage): string {
  return unmapped(req.socket.remoteAddress ?? "unknown");
}

/** The TCP peer, or the client a trusted proxy names in X-Forwarded-For. */
export const clientAddress = (req: IncomingMessage, proxies: TrustedProxies): string => proxies.clientAddress(peerAddress(req), req.headers["x-forwarded-for"]);
