import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Viewer } from "@nimbus/domain";
import { sessions, Tenants } from "@nimbus/db";
import { backend } from "@nimbus/db/testing";
import { cookieHeaders, post, signInEmail, signInUsername, startHarness, type Harness } from "./harness.js";

let h: Harness;
let admin: Viewer;
const PASSWORD = "correct-horse-battery";

beforeAll(async () => {
  // Generous per-address limit here: the per-address rule has its own file.
  h = await startHarness({ signInLimits: { perAccountAndAddress: { failures: 5, windowMs: 15 * 60_000 }, perAddress: { failures: 1000, windowMs: 15 * 60_000 } } });
  await new Tenants(h.database.db).create({ slug: "acme", name: "Acme" });
  const a = await h.auth.createUser({ email: "ada@nimbus.local", name: "Ada", password: PASSWORD, role: "admin", tenant: null });
  admin = { userId: a.id, name: a.name, role: "admin", tenant: null };
  await h.auth.createUser({ email: "tess@acme.example", username: "tess", name: "Tess", password: PASSWORD, role: "tenant", tenant: "acme" });
});
afterAll(() => h?.close());

const lastAudit = async (action: string) => (await h.auth.audit.query({ action }, { limit: 1 })).records[0]!;

describe(`sign-in over HTTP (${backend})`, () => {
  it("signs in with email and sets an httpOnly, SameSite=Lax session cookie", async () => {
    const res = await signInEmail(h, "Tess@Acme.example", PASSWORD);
    expect(res.status).toBe(200);
    const cookie = res.setCookie.find((c) => c.startsWith("nimbus.session_token="))!;
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; Max-Age=43200/);
    expect(cookie).not.toMatch(/; Secure/i);
  });

  it("turns the cookie into the viewer", async () => {
    const res = await signInEmail(h, "tess@acme.example", PASSWORD);
    expect(await h.auth.viewerFromHeaders(cookieHeaders(res.cookie!))).toEqual({ userId: expect.any(String), name: "Tess", role: "tenant", tenant: "acme" });
    expect(await h.auth.viewerFromHeaders({ cookie: res.cookie! })).toMatchObject({ name: "Tess" });
  });

  it("signs in with the username too", async () => {
    const res = await signInUsername(h, "TESS", PASSWORD);
    expect(res.status).toBe(200);
    expect(await h.auth.viewerFromHeaders(cookieHeaders(res.cookie!))).toMatchObject({ name: "Tess" });
  });

  it("has no viewer without a cookie or with a forged one", async () => {
    expect(await h.auth.viewerFromHeaders(new Headers())).toBeNull();
    expect(await h.auth.viewerFromHeaders(cookieHeaders("nimbus.session_token=forged.value"))).toBeNull();
  });

  it("refuses a wrong password and records the failed attempt with the account", async () => {
    const res = await signInEmail(h, "ada@nimbus.local", "wrong-password");
    expect(res.status).toBe(401);
    expect(res.cookie).toBeNull();
    expect(await lastAudit("auth.sign-in")).toMatchObject({
      userId: admin.userId, userName: "ada@nimbus.local", role: "admin", target: "ada@nimbus.local",
      result: "error", errorCode: "INVALID_EMAIL_OR_PASSWORD", ip: "127.0.0.1",
      inputSummary: { method: "email", identifier: "ada@nimbus.local" },
    });
    // Succeeding clears the account's failure count.
    expect((await signInEmail(h, "ada@nimbus.local", PASSWORD)).status).toBe(200);
  });

  it("records a sign-in to an account that does not exist", async () => {
    expect((await signInEmail(h, "nobody@nimbus.local", PASSWORD)).status).toBe(401);
    expect(await lastAudit("auth.sign-in")).toMatchObject({ userId: null, userName: "nobody@nimbus.local", result: "error" });
  });

  it("records a successful sign-in with a request id", async () => {
    await post(h, "/sign-in/email", { email: "tess@acme.example", password: PASSWORD }, { "x-request-id": "req-42" });
    expect(await lastAudit("auth.sign-in")).toMatchObject({ userName: "tess@acme.example", role: "tenant", tenant: "acme", result: "ok", requestId: "req-42" });
  });

  it("refuses a disabled user even with the right password", async () => {
    const u = await h.auth.createUser({ email: "gone@nimbus.local", name: "Gone", password: PASSWORD, role: "oncall", tenant: null });
    await h.auth.setDisabled(u.id, true, { actor: admin });
    const res = await signInEmail(h, "gone@nimbus.local", PASSWORD);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: "ACCOUNT_DISABLED" });
    expect(res.cookie).toBeNull();
    expect(await lastAudit("auth.sign-in")).toMatchObject({ userName: "gone@nimbus.local", result: "error", errorCode: "ACCOUNT_DISABLED" });
  });

  it("holds back an address after 5 failures for an account and says when to retry, even for the right password", async () => {
    await h.auth.createUser({ email: "target@nimbus.local", username: "target", name: "Target", password: PASSWORD, role: "operator", tenant: null });
    for (let i = 0; i < 3; i++) expect((await signInEmail(h, "target@nimbus.local", `guess-${i}-xx`)).status).toBe(401);
    // The username names the same account: it shares the count.
    for (let i = 3; i < 5; i++) expect((await signInUsername(h, "target", `guess-${i}-xx`)).status).toBe(401);

    const locked = await signInEmail(h, "target@nimbus.local", PASSWORD);
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(locked.body).toMatchObject({ code: "RATE_LIMITED", retryAfter, message: `Too many failed sign-ins. Try again in ${retryAfter} s.` });
    expect(locked.cookie).toBeNull();
    expect(await lastAudit("auth.sign-in")).toMatchObject({ userName: "target@nimbus.local", errorCode: "RATE_LIMITED" });
    // Other accounts are not affected.
    expect((await signInEmail(h, "tess@acme.example", PASSWORD)).status).toBe(200);

    h.advance(retryAfter * 1000);
    expect((await signInEmail(h, "target@nimbus.local", PASSWORD)).status).toBe(200);
  });

  it("signs out: the session is revoked and the cookie cleared", async () => {
    const { cookie } = await signInEmail(h, "tess@acme.example", PASSWORD);
    const viewer = await h.auth.viewerFromHeaders(cookieHeaders(cookie!));
    const out = await post(h, "/sign-out", {}, { cookie: cookie! });
    expect(out.status).toBe(200);
    expect(out.setCookie.find((c) => c.startsWith("nimbus.session_token="))).toMatch(/Max-Age=0/);
    expect(await h.auth.viewerFromHeaders(cookieHeaders(cookie!))).toBeNull();
    expect(await lastAudit("auth.sign-out")).toMatchObject({ userId: viewer!.userId, userName: "tess@acme.example", result: "ok" });
  });

  it("lets a signed-in user change their own password, recorded in the audit log", async () => {
    await h.auth.createUser({ email: "changer@nimbus.local", name: "Changer", password: PASSWORD, role: "oncall", tenant: null });
    const { cookie } = await signInEmail(h, "changer@nimbus.local", PASSWORD);
    const wrong = await post(h, "/change-password", { currentPassword: "not-my-password", newPassword: "a-new-password-1" }, { cookie: cookie! });
    expect(wrong.status).toBeGreaterThanOrEqual(400);
    expect(await lastAudit("auth.change-password")).toMatchObject({ userName: "changer@nimbus.local", result: "error" });
    const ok = await post(h, "/change-password", { currentPassword: PASSWORD, newPassword: "a-new-password-1" }, { cookie: cookie! });
    expect(ok.status).toBe(200);
    expect(await lastAudit("auth.change-password")).toMatchObject({ userName: "changer@nimbus.local", result: "ok", inputSummary: {} });
    expect((await signInEmail(h, "changer@nimbus.local", PASSWORD)).status).toBe(401);
    expect((await signInEmail(h, "changer@nimbus.local", "a-new-password-1")).status).toBe(200);
  });

  it("refuses a new password the policy refuses, in words, and keeps the old one", async () => {
    await h.auth.createUser({ email: "weak@nimbus.local", username: "weakling_user", name: "Weak", password: PASSWORD, role: "oncall", tenant: null });
    const { cookie } = await signInEmail(h, "weak@nimbus.local", PASSWORD);
    for (const [newPassword, message] of [
      ["short-one", "Use at least 12 characters (this password has 9)."],
      ["x".repeat(257), "Use at most 256 characters (this password has 257)."],
      ["Weak@nimbus.local", "The password must not be the account's email address or username."],
      ["Weakling_User", "The password must not be the account's email address or username."],
    ] as const) {
      const res = await post(h, "/change-password", { currentPassword: PASSWORD, newPassword }, { cookie: cookie! });
      expect(res.status, newPassword).toBe(400);
      expect(res.body, newPassword).toMatchObject({ message });
    }
    expect(await lastAudit("auth.change-password")).toMatchObject({ userName: "weak@nimbus.local", result: "error", errorCode: "WEAK_PASSWORD" });
    expect((await signInEmail(h, "weak@nimbus.local", PASSWORD)).status).toBe(200);
  });

  it("refuses a cross-site sign-out (CSRF): the session survives", async () => {
    const { cookie } = await signInEmail(h, "tess@acme.example", PASSWORD);
    const res = await post(h, "/sign-out", {}, { cookie: cookie!, origin: "https://evil.example" });
    expect(res.status).toBe(403);
    expect(await h.auth.viewerFromHeaders(cookieHeaders(cookie!))).not.toBeNull();
  });

  it("ends an expired session", async () => {
    const { cookie } = await signInEmail(h, "tess@acme.example", PASSWORD);
    const token = decodeURIComponent(cookie!.split("=")[1]!).split(".")[0]!;
    await h.database.db.update(sessions).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(sessions.token, token));
    expect(await h.auth.viewerFromHeaders(cookieHeaders(cookie!))).toBeNull();
  });

  it("slides the session forward when it is used after an hour", async () => {
    const { cookie } = await signInEmail(h, "tess@acme.example", PASSWORD);
    const token = decodeURIComponent(cookie!.split("=")[1]!).split(".")[0]!;
    const inTwoHours = new Date(Date.now() + 2 * 3600_000);
    await h.database.db.update(sessions).set({ expiresAt: inTwoHours }).where(eq(sessions.token, token));
    const { viewer, setCookie } = await h.auth.sessionFromHeaders(cookieHeaders(cookie!));
    expect(viewer).not.toBeNull();
    expect(setCookie.some((c) => c.startsWith("nimbus.session_token="))).toBe(true);
    const [row] = await h.database.db.select().from(sessions).where(eq(sessions.token, token));
    expect(row!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 11 * 3600_000);
  });

  it.each([
    ["POST", "/sign-up/email"],
    ["POST", "/update-user"],
    ["POST", "/delete-user"],
    ["POST", "/is-username-available"],
    ["GET", "/list-sessions"],
  ])("does not expose %s %s", async (method, path) => {
    const res = await fetch(`${h.baseURL}/api/auth${path}`, {
      method, headers: { "content-type": "application/json", origin: h.baseURL }, body: method === "POST" ? "{}" : undefined,
    });
    expect(res.status).toBe(404);
  });
});
