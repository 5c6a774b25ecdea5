import type { IncomingMessage, ServerResponse } from "node:http";
import { contentSecurityPolicy } from "./csp.js";

/**
 * Security headers for every response. The cross-site request check for everything that changes
 * state is in origin-policy.ts; the page CSP's nonce in csp.ts.
 */
export function securityHeaders(res: ServerResponse, opts: { dev: boolean; https: boolean }) {
  res.setHeader("Content-Security-Policy", contentSecurityPolicy({ dev: opts.dev, nonce: null }));
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Referrer-Policy", "same-origin");
  res.setHeader("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  if (opts.https) res.setHeader("Strict-Transport-Security", "max-age=31536000");
}

export function toHeaders(req: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const x of v) h.append(k, x);
    else if (v !== undefined) h.set(k, v);
  }
  return h;
}
