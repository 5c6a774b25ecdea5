import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

/**
 * Which Host names and which page origins this server answers. The Host header alone proves
 * nothing: under DNS rebinding a page of evil.example, its name now resolving to 127.0.0.1, talks
 * to a loopback-bound console as "its own" origin, Host and Origin both evil.example. So only these
 * names are served: IP literals (a browser reaches them only by that address, nothing to rebind),
 * localhost, the name in NIMBUS_PUBLIC_URL, and NIMBUS_BIND when it is a name. State-changing
 * requests must come from the public origin, the bound address (or its loopback equivalents) on
 * our port, or a page of the very host being asked when that host is allowed.
 */
export interface OriginPolicy {
  /** The origins named by configuration (public URL, bound address and its loopback names). */
  readonly origins: readonly string[];
  hostAllowed(host: string | undefined): boolean;
  originAllowed(origin: string, host: string | undefined): boolean;
}

const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];
const ANY_ADDRESS = new Set(["0.0.0.0", "::", "[::]"]);

export function originPolicy(opts: { publicUrl?: string | undefined; bind: string; port: number }): OriginPolicy {
  const names = new Set(["localhost"]);
  const origins = new Set<string>();
  if (opts.publicUrl) {
    const url = new URL(opts.publicUrl);
    names.add(url.hostname);
    origins.add(url.origin);
  }
  const bind = opts.bind.includes(":") && !opts.bind.startsWith("[") ? `[${opts.bind}]` : opts.bind;
  if (isIP(opts.bind) === 0) names.add(opts.bind.toLowerCase());
  const loopback = LOOPBACK_NAMES.includes(bind) || bind.startsWith("127.") || ANY_ADDRESS.has(bind);
  for (const name of loopback ? [...LOOPBACK_NAMES, ...(ANY_ADDRESS.has(bind) ? [] : [bind])] : [bind]) {
    origins.add(`http://${name}:${opts.port}`);
  }

  const hostAllowed = (host: string | undefined) => {
    const name = hostnameOf(host);
    return name !== null && (isIP(name.replace(/^\[|\]$/g, "")) !== 0 || names.has(name));
  };
  return {
    origins: [...origins],
    hostAllowed,
    originAllowed: (origin, host) => origins.has(origin) || (hostAllowed(host) && (origin === `http://${host}` || origin === `https://${host}`)),
  };
}

/** "Example.org:3000" → "example.org"; null when it is not a host[:port]. */
function hostnameOf(host: string | undefined): string | null {
  if (!host || /[\s/\\@?#]/.test(host)) return null;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return null;
  }
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * True when a state-changing request comes from a page of ours (or from no browser at all).
 * Browsers send Origin on every POST; Referer stands in for it when a privacy setting dropped it.
 */
export function sameOrigin(req: IncomingMessage, policy: OriginPolicy): boolean {
  if (SAFE.has(req.method ?? "GET")) return true;
  const site = req.headers["sec-fetch-site"];
  if (site === "cross-site") return false;
  const origin = req.headers.origin ?? refererOrigin(req.headers.referer);
  if (!origin) return site === undefined || site === "same-origin" || site === "none";
  return policy.originAllowed(origin, req.headers.host);
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return "null";
  }
}
