import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, withPageNonce } from "../src/http/csp.js";

const scriptSrc = (policy: string) => policy.split("; ").find((d) => d.startsWith("script-src "))!;

function pageRequest(headers: Record<string, string> = {}) {
  const req = { headers: { ...headers } } as unknown as IncomingMessage;
  const sent = new Map<string, string>();
  const res = { setHeader: (k: string, v: string) => sent.set(k.toLowerCase(), v) } as unknown as ServerResponse;
  return { req, res, sent };
}

describe("content security policy", () => {
  it("lets no inline script run in production without the nonce", () => {
    expect(scriptSrc(contentSecurityPolicy({ dev: false, nonce: null }))).toBe("script-src 'self'");
    expect(scriptSrc(contentSecurityPolicy({ dev: false, nonce: "abc123" }))).toBe("script-src 'self' 'nonce-abc123'");
  });

  it("gives each page request its own nonce, in the response and where Next.js reads it", () => {
    const a = pageRequest();
    const b = pageRequest();
    withPageNonce(a.req, a.res, false);
    withPageNonce(b.req, b.res, false);
    const nonce = a.req.headers["x-nonce"] as string;
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{24}$/);
    expect(b.req.headers["x-nonce"]).not.toBe(nonce);
    expect(a.sent.get("content-security-policy")).toContain(`'nonce-${nonce}'`);
    expect(a.req.headers["content-security-policy"]).toBe(a.sent.get("content-security-policy"));
  });

  it("never passes on a nonce or policy the client sent", () => {
    const forged = pageRequest({ "x-nonce": "chosen", "content-security-policy": "script-src 'nonce-chosen'", "content-security-policy-report-only": "script-src 'nonce-chosen'" });
    withPageNonce(forged.req, forged.res, false);
    expect(forged.req.headers["x-nonce"]).not.toBe("chosen");
    expect(forged.req.headers["content-security-policy"]).not.toContain("chosen");
    expect(forged.req.headers["content-security-policy-report-only"]).toBeUndefined();
    const dev = pageRequest({ "x-nonce": "chosen", "content-security-policy": "script-src 'nonce-chosen'" });
    withPageNonce(dev.req, dev.res, true);
    expect(dev.req.headers["x-nonce"]).toBeUndefined();
    expect(dev.req.headers["content-security-policy"]).toBeUndefined();
  });
});
