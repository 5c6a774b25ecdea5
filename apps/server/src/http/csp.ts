import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * The Content-Security-Policy. In production no inline script runs without this response's nonce:
 * an injected <script> cannot guess it. `next dev` needs inline and eval'd scripts (React Refresh),
 * and browsers ignore 'unsafe-inline' once a nonce is listed, so dev has no nonce.
 */
export function contentSecurityPolicy(opts: { dev: boolean; nonce: string | null }): string {
  const script = opts.dev ? "'self' 'unsafe-inline' 'unsafe-eval'" : `'self'${opts.nonce ? ` 'nonce-${opts.nonce}'` : ""}`;
  return [
    "default-src 'self'",
    `script-src ${script}`,
    // React writes style attributes; styles cannot run code.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${opts.dev ? " ws: wss:" : ""}`,
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
  ].join("; ");
}

/** Request headers Next.js reads the nonce from; a client's own values never get through. */
export const NONCE_REQUEST_HEADERS = ["content-security-policy", "content-security-policy-report-only", "x-nonce"] as const;

/**
 * Gives a page request its own nonce: in the response's CSP, and in the request headers Next.js
 * reads (it puts the nonce of the request's `Content-Security-Policy` on the scripts it renders;
 * the root layout reads `x-nonce` for its own inline script).
 */
export function withPageNonce(req: IncomingMessage, res: ServerResponse, dev: boolean): void {
  for (const h of NONCE_REQUEST_HEADERS) delete req.headers[h];
  if (dev) return;
  const nonce = randomBytes(18).toString("base64");
  const policy = contentSecurityPolicy({ dev, nonce });
  res.setHeader("Content-Security-Policy", policy);
  req.headers["content-security-policy"] = policy;
  req.headers["x-nonce"] = nonce;
}
