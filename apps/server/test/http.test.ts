import { request, type IncomingHttpHeaders } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerProcess, type ServerProcess } from "./server-process.js";

/**
 * The real server process over HTTP (API only): security headers, the cross-site check, sign-in
 * cookies, and the live channel pushing a lab change without any polling.
 */
let server: ServerProcess;
let base = "";
const PASSWORD = "http-test-admin-password";

beforeAll(async () => {
  server = await startServerProcess({ NIMBUS_ADMIN_PASSWORD: PASSWORD });
  base = server.base;
});
afterAll(() => server?.stop());

async function signIn(): Promise<string> {
  const res = await fetch(`${base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ email: "admin@nimbus.local", password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  const cookies = res.headers.getSetCookie();
  return cookies.map((c) => c.split(";")[0]).join("; ");
}

/** node:http, not fetch: fetch will not send a Host header of our choosing. */
function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const trpcPost = (path: string, input: unknown, headers: Record<string, string>) =>
  fetch(`${base}/api/trpc/${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(input) });

describe("HTTP surface", () => {
  it("sends security headers on every response", async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    // Production pages run only scripts from our origin or carrying their response's nonce.
    expect(res.headers.get("content-security-policy")).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });

  it("sets an httpOnly SameSite session cookie at sign-in and knows the user from it", async () => {
    const res = await fetch(`${base}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ email: "admin@nimbus.local", password: PASSWORD }),
    });
    const session = res.headers.getSetCookie().find((c) => c.includes("session_token"))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Lax/i);
    const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const me = await (await fetch(`${base}/api/trpc/session.me`, { headers: { cookie } })).json();
    expect(me.result.data.user).toMatchObject({ role: "admin", name: "Administrator" });
  });

  it("refuses a wrong password without saying which part was wrong", async () => {
    const res = await fetch(`${base}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ email: "admin@nimbus.local", password: "not-the-password" }),
    });
    expect(res.status).toBe(401);
  });

  it("refuses a cross-site mutation even with a valid session cookie", async () => {
    const cookie = await signIn();
    const res = await trpcPost("hosts.setMaintenance", { name: "kvm2", on: true }, { cookie, origin: "http://evil.example" });
    expect(res.status).toBe(403);
    const hosts = await (await fetch(`${base}/api/trpc/hosts.get?input=${encodeURIComponent(JSON.stringify({ name: "kvm2" }))}`, { headers: { cookie } })).json();
    expect(hosts.result.data.summary.maintenance).toBe(false);
  });

  it("never prints the NIMBUS_ADMIN_PASSWORD it was given", async () => {
    expect(server.output()).toContain("First start: sign in as admin@nimbus.local");
    expect(server.output()).not.toContain(PASSWORD);
  });

  it("answers no other host name (DNS rebinding): neither a page, nor sign-in, nor a mutation", async () => {
    const port = new URL(base).port;
    const rebound = { host: `evil.example:${port}`, origin: `http://evil.example:${port}` };
    expect((await raw("GET", "/healthz", { host: rebound.host })).status).toBe(421);
    const signInRebound = await raw("POST", "/api/auth/sign-in/email", { ...rebound, "content-type": "application/json" }, JSON.stringify({ email: "admin@nimbus.local", password: PASSWORD }));
    expect(signInRebound.status).toBe(421);
    expect(signInRebound.headers["set-cookie"]).toBeUndefined();
    const cookie = await signIn();
    const mutation = await raw("POST", "/api/trpc/hosts.setMaintenance", { ...rebound, cookie, "content-type": "application/json" }, JSON.stringify({ name: "kvm2", on: true }));
    expect(mutation.status).toBe(421);
    // The same server under its own name still works.
    expect((await raw("GET", "/healthz", { host: `localhost:${port}` })).status).toBe(200);
  });

  it("signs in from a loopback name of the bound address (localhost), like from 127.0.0.1", async () => {
    const local = `localhost:${new URL(base).port}`;
    const res = await raw("POST", "/api/auth/sign-in/email", { host: local, origin: `http://${local}`, "content-type": "application/json" }, JSON.stringify({ email: "admin@nimbus.local", password: PASSWORD }));
    expect(res.status).toBe(200);
    expect(res.headers["set-cookie"]?.some((c) => c.includes("session_token"))).toBe(true);
  });

  it("pushes a lab change on the open live channel", async () => {
    const cookie = await signIn();
    const abort = new AbortController();
    const res = await fetch(`${base}/api/trpc/live.events?input=${encodeURIComponent(JSON.stringify({}))}`, {
      headers: { cookie, accept: "text/event-stream" },
      signal: abort.signal,
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string, ms: number) => {
      const deadline = Date.now() + ms;
      while (!text.includes(needle)) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no "${needle}" within ${ms} ms; got ${text.slice(-400)}`);
        const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), left))]);
        if (chunk && !chunk.done) text += decoder.decode(chunk.value);
      }
    };
    await readUntil('"type":"reset"', 5000);
    const inject = await trpcPost("lab.inject", { name: "fill-datastore", args: ["/instance", "93"] }, { cookie, origin: base });
    expect(inject.status).toBe(200);
    // Latency is measured by `pnpm bench`; here it only has to arrive, pushed, on the open stream.
    await readUntil('"level":"crit"', 10_000);
    abort.abort();
  });

  it("sign-out ends the session", async () => {
    const cookie = await signIn();
    const out = await fetch(`${base}/api/auth/sign-out`, { method: "POST", headers: { cookie, origin: base, "content-type": "application/json" }, body: "{}" });
    expect(out.status).toBe(200);
    const me = await (await fetch(`${base}/api/trpc/session.me`, { headers: { cookie } })).json();
    expect(me.result.data).toBeNull();
  });
});
