import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Security headers for every response, and the cross-site request check for everything that
 * changes state. tRPC mutations are JSON POSTs; a foreign page cannot send those without CORS,
 * but a browser always sends Origin on POST, so we also require it to be our own.
 */
export function securityHeaders(res: ServerResponse, opts: { dev: boolean; https: boolean }) {
  const script = opts.dev ? "'self' 'unsafe-inline' 'unsafe-eval'" : "'self' 'unsafe-inline'";
  res.setHeader(
    "Content-Security-Policy",
    [
      "default-src 'self'",
      `script-src ${script}`,
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data: blob:",
      "font-src 'self' data:",
      `connect-src 'self'${opts.dev ? " ws: wss:" : ""}`,
      "frame-ancestors 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      "object-src 'none'",
    ].join("; "),
  );
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Referrer-Policy", "same-origin");
  res.setHeader("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  if (opts.https) res.setHeader("Strict-Transport-Security", "max-age=31536000");
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** True when a state-changing request comes from a page of ours (or from no browser at all). */
export function sameOrigin(req: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  if (SAFE.has(req.method ?? "GET")) return true;
  const origin = req.headers.origin;
  const site = req.headers["sec-fetch-site"];
  if (site === "cross-site") return false;
  if (!origin) return site === undefined || site === "same-origin" || site === "none";
  const host = req.headers.host;
  return allowedOrigins.includes(origin) || (!!host && (origin === `http://${host}` || origin === `https://${host}`));
}

export function toHeaders(req: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const x of v) h.append(k, x);
    else if (v !== undefined) h.set(k, v);
  }
  return h;
}
