import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerProcess, type ServerProcess } from "./server-process.js";

/**
 * What a request may cost, probed as an attacker would, over HTTP against the real process: body
 * size, batch size, calls without a session, what those leave in the audit log, live streams per
 * user, and the streamed audit export. Each probe comes from its own address (the server trusts
 * X-Forwarded-For from loopback here), so one probe's allowance does not spend another's.
 */
const PASSWORD = "http-limits-admin-password";
const MAX_BODY = 64 * 1024;
let server: ServerProcess;
let base = "";

beforeAll(async () => {
  server = await startServerProcess({
    NIMBUS_ADMIN_PASSWORD: PASSWORD,
    NIMBUS_TRUSTED_PROXIES: "127.0.0.1",
    NIMBUS_MAX_BODY_BYTES: String(MAX_BODY),
    NIMBUS_ANON_REQUESTS_PER_MINUTE: "30",
    NIMBUS_LIVE_STREAMS_PER_USER: "2",
  });
  base = server.base;
});
afterAll(() => server?.stop());

const from = (address: string) => ({ "x-forwarded-for": address });

async function signIn(address: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base, ...from(address) },
    body: JSON.stringify({ email: "admin@nimbus.local", password: PASSWORD }),
  });
  expect(res.status).toBe(200);
  return res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
}

/**
 * Sends the first piece of a body, then waits for the answer without ending the body: the
 * server must answer without the rest of what was declared.
 */
function upload(path: string, headers: Record<string, string>, first: string): Promise<{ status: number | null; body: string }> {
  return new Promise((resolve) => {
    let status: number | null = null;
    let body = "";
    const req = request(new URL(path, base), { method: "POST", headers: { "content-type": "application/json", origin: base, ...headers } });
    req.on("response", (res) => {
      status = res.statusCode ?? null;
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status, body }));
    });
    req.on("error", () => resolve({ status, body }));
    req.write(first);
  });
}

const post = (path: string, body: BodyInit, headers: Record<string, string>) =>
  fetch(`${base}/api/trpc/${path}`, { method: "POST", headers: { "content-type": "application/json", origin: base, ...headers }, body, duplex: "half" } as RequestInit);

describe("request limits", () => {
  it("refuses a 20 MB body with a million keys, sent without a cookie, with 413 before parsing it", async () => {
    const keys = Array.from({ length: 1_000_000 }, (_, i) => `"k${i}":"${"v".repeat(8)}"`).join(",");
    const json = `{"slug":"x","name":"y",${keys}}`;
    const res = await upload("/api/trpc/admin.tenants.create", { ...from("198.51.100.1"), "content-length": String(json.length) }, json.slice(0, 64 * 1024));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error).toBe(`request bodies are limited to ${MAX_BODY} bytes`);
  });

  it("refuses a streamed body without a declared length once it passes the limit", async () => {
    // Signed in: a signed-out call is refused before its body is read at all.
    const cookie = await signIn("198.51.100.2");
    const chunk = new TextEncoder().encode(`"${"x".repeat(16 * 1024)}",`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode("["));
        if (sent++ < 64) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await post("admin.tenants.create", body, { cookie, ...from("198.51.100.2") });
    expect(res.status).toBe(413);
  });

  it("refuses a sign-in body without a declared length (the sign-in handler would read it whole)", async () => {
    const res = await upload("/api/auth/sign-in/email", from("198.51.100.13"), '{"email":');
    expect(res.status).toBe(411);
  });

  it("refuses a batch of more than 20 calls with a message that says so", async () => {
    const paths = Array.from({ length: 21 }, () => "session.me").join(",");
    const res = await fetch(`${base}/api/trpc/${paths}?batch=1&input=${encodeURIComponent("{}")}`, { headers: from("198.51.100.3") });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("a batch holds at most 20 calls; this one had 21");
    const twenty = await fetch(`${base}/api/trpc/${paths.split(",").slice(1).join(",")}?batch=1&input=${encodeURIComponent("{}")}`, { headers: from("198.51.100.4") });
    expect(twenty.status).toBe(200);
  });

  it("answers 429 with Retry-After to an address past its calls without a session, and still serves signed-in users there", async () => {
    const address = from("198.51.100.5");
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await fetch(`${base}/api/trpc/session.me`, { headers: address })).status);
    expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
    const refused = await fetch(`${base}/api/trpc/session.me`, { headers: address });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // A batch counts every call it holds.
    const batch = await fetch(`${base}/api/trpc/session.me,session.me?batch=1&input=${encodeURIComponent("{}")}`, { headers: from("198.51.100.6") });
    expect(batch.status).toBe(200);
    const cookie = await signIn("198.51.100.5");
    const me = await fetch(`${base}/api/trpc/session.me`, { headers: { ...address, cookie } });
    expect(me.status).toBe(200);
  });

  it("records signed-out mutations without their input, at most 10 a minute per address", async () => {
    const address = from("198.51.100.7");
    const name = "n".repeat(50_000);
    for (let i = 0; i < 25; i++) {
      const res = await post("admin.tenants.create", JSON.stringify({ slug: `flood${i}`, name }), address);
      expect([401, 429]).toContain(res.status);
    }
    const cookie = await signIn("198.51.100.8");
    const query = encodeURIComponent(JSON.stringify({ action: "admin.tenants.create", limit: 100 }));
    const list = await (await fetch(`${base}/api/trpc/audit.list?input=${query}`, { headers: { cookie, ...from("198.51.100.8") } })).json();
    const records = list.result.data.records.filter((r: { ip: string }) => r.ip === "198.51.100.7");
    expect(records).toHaveLength(10);
    for (const r of records) expect(r).toMatchObject({ userId: null, target: null, inputSummary: {}, result: "error", errorCode: "UNAUTHORIZED" });
  });

  it("streams the audit export to staff and refuses it without a session", async () => {
    const anonymous = await fetch(`${base}/api/audit.csv`, { headers: from("198.51.100.9") });
    expect(anonymous.status).toBe(401);
    const cookie = await signIn("198.51.100.10");
    const res = await fetch(`${base}/api/audit.csv?action=auth.sign-in`, { headers: { cookie, ...from("198.51.100.10") } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="nimbus-audit-/);
    const lines = (await res.text()).trimEnd().split("\r\n");
    expect(lines[0]).toMatch(/^id,at,user_id,/);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.slice(1).every((l) => l.includes(",auth.sign-in,"))).toBe(true);
    const bad = await fetch(`${base}/api/audit.csv?result=maybe`, { headers: { cookie, ...from("198.51.100.10") } });
    expect(bad.status).toBe(400);
  });

  it("refuses a user's live stream past the per-user limit with a clear error", async () => {
    const cookie = await signIn("198.51.100.11");
    const abort = new AbortController();
    const open = (): Promise<Response> =>
      fetch(`${base}/api/trpc/live.events?input=${encodeURIComponent("{}")}`, { headers: { cookie, accept: "text/event-stream", ...from("198.51.100.11") }, signal: abort.signal });
    const readUntil = async (res: Response, needle: string) => {
      const reader = res.body!.getReader();
      let text = "";
      while (!text.includes(needle)) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      return text;
    };
    const first = await open();
    await readUntil(first, '"type":"reset"');
    const second = await open();
    await readUntil(second, '"type":"reset"');
    const third = await readUntil(await open(), "serialized-error");
    expect(third).toContain("you already have 2 live connections open");
    abort.abort();
  });
});
