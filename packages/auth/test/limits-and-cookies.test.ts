import { afterEach, describe, expect, it } from "vitest";
import { openTestDatabase, backend } from "@nimbus/db/testing";
import type { Database } from "@nimbus/db";
import { createAuth, TrustedProxies } from "../src/index.js";
import { post, signInEmail, startHarness, TEST_SECRET, type Harness } from "./harness.js";

const PASSWORD = "correct-horse-battery";
let h: Harness | undefined;
let database: Database | undefined;
afterEach(async () => {
  await h?.close();
  await database?.close();
  h = database = undefined;
});

describe(`sign-in limits and cookie flags (${backend})`, () => {
  it("blocks an address after its failures across many accounts, with Retry-After", async () => {
    h = await startHarness({ signInLimits: { perAccountAndAddress: { failures: 5, windowMs: 60_000 }, perAddress: { failures: 3, windowMs: 10 * 60_000 } } });
    await h.auth.createUser({ email: "real@nimbus.local", name: "Real", password: PASSWORD, role: "oncall", tenant: null });
    for (const name of ["a", "b", "c"]) expect((await signInEmail(h, `${name}@nimbus.local`, "wrong-password")).status).toBe(401);
    const blocked = await signInEmail(h, "real@nimbus.local", PASSWORD);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(9 * 60);
    expect(blocked.body).toMatchObject({ code: "RATE_LIMITED" });
    h.advance(10 * 60_000);
    expect((await signInEmail(h, "real@nimbus.local", PASSWORD)).status).toBe(200);
  });

  it("five wrong passwords for the admin from one address do not lock the admin out from another", async () => {
    // Behind the documented TLS proxy: it is the peer, and names each client in X-Forwarded-For.
    h = await startHarness({ trustedProxies: TrustedProxies.parse(["127.0.0.1"]) });
    await h.auth.createUser({ email: "boss@nimbus.local", name: "Boss", password: PASSWORD, role: "admin", tenant: null });
    const from = (address: string) => ({ "x-forwarded-for": address });
    for (let i = 0; i < 5; i++) expect((await post(h, "/sign-in/email", { email: "boss@nimbus.local", password: `guess-${i}` }, from("198.51.100.66"))).status).toBe(401);

    expect((await post(h, "/sign-in/email", { email: "boss@nimbus.local", password: PASSWORD }, from("198.51.100.66"))).status).toBe(429);
    const boss = await post(h, "/sign-in/email", { email: "boss@nimbus.local", password: PASSWORD }, from("203.0.113.10"));
    expect(boss.status).toBe(200);
    expect(boss.cookie).not.toBeNull();
    const { records } = await h.auth.audit.query({ action: "auth.sign-in" }, { limit: 1 });
    expect(records[0]).toMatchObject({ result: "ok", ip: "203.0.113.10" });
  });

  it("believes no X-Forwarded-For without a trusted proxy: a new one per attempt does not escape the limit", async () => {
    h = await startHarness({ signInLimits: { perAccountAndAddress: { failures: 5, windowMs: 60_000 }, perAddress: { failures: 3, windowMs: 60_000 } } });
    for (let i = 0; i < 3; i++) {
      expect((await post(h, "/sign-in/email", { email: `u${i}@nimbus.local`, password: "wrong-password" }, { "x-forwarded-for": `198.51.100.${i}` })).status).toBe(401);
    }
    const next = await post(h, "/sign-in/email", { email: "u9@nimbus.local", password: "wrong-password" }, { "x-forwarded-for": "198.51.100.99" });
    expect(next.status).toBe(429);
  });

  it("marks cookies Secure (with the __Secure- prefix) when Nimbus is served over https", async () => {
    database = await openTestDatabase();
    const baseURL = "https://nimbus.example";
    const auth = createAuth({ db: database.db, baseURL, secret: TEST_SECRET });
    await auth.createUser({ email: "sec@nimbus.local", name: "Sec", password: PASSWORD, role: "admin", tenant: null });
    const res = await auth.fetchHandler(
      new Request(`${baseURL}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: baseURL },
        body: JSON.stringify({ email: "sec@nimbus.local", password: PASSWORD }),
      }),
    );
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("__Secure-nimbus.session_token="));
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    const viewer = await auth.viewerFromHeaders(new Headers({ cookie: cookie!.split(";")[0]! }));
    expect(viewer).toMatchObject({ name: "Sec", role: "admin" });
  });
});
