import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Viewer } from "@nimbus/domain";
import { Tenants } from "@nimbus/db";
import { backend } from "@nimbus/db/testing";
import type { AdminContext } from "../src/index.js";
import { cookieHeaders, signInEmail, startHarness, type Harness } from "./harness.js";

let h: Harness;
let by: AdminContext;
const PASSWORD = "correct-horse-battery";

beforeAll(async () => {
  h = await startHarness();
  const tenants = new Tenants(h.database.db);
  await tenants.create({ slug: "acme", name: "Acme" });
  await tenants.create({ slug: "globex", name: "Globex" });
  const first = (await h.auth.ensureFirstAdmin({ password: PASSWORD }))!;
  const admin = (await h.auth.listUsers()).find((u) => u.email === first.email)!;
  const actor: Viewer = { userId: admin.id, name: admin.name, role: "admin", tenant: null };
  by = { actor, requestId: "req-users", ip: "127.0.0.1" };
});
afterAll(() => h?.close());

const lastAudit = async (action: string) => (await h.auth.audit.query({ action }, { limit: 1 })).records[0]!;
let n = 0;
const email = () => `user${++n}@nimbus.local`;

describe(`user admin (${backend})`, () => {
  it("creates a tenant member who signs in and sees their tenant", async () => {
    const u = await h.auth.createUser({ email: "Mia@Acme.example", name: "Mia", password: PASSWORD, role: "tenant", tenant: "acme" }, by);
    expect(u).toMatchObject({ email: "mia@acme.example", role: "tenant", tenant: "acme", disabled: false });
    const { cookie } = await signInEmail(h, "mia@acme.example", PASSWORD);
    expect(await h.auth.viewerFromHeaders(cookieHeaders(cookie!))).toEqual({ userId: u.id, name: "Mia", role: "tenant", tenant: "acme" });
    expect(await lastAudit("users.create")).toMatchObject({
      userId: by.actor.userId, role: "admin", target: "mia@acme.example", result: "ok", requestId: "req-users",
      inputSummary: { email: "Mia@Acme.example", name: "Mia", username: null, role: "tenant", tenant: "acme" },
    });
  });

  it.each([
    [{ role: "tenant" as const, tenant: null }, "BAD_INPUT", "needs a tenant"],
    [{ role: "operator" as const, tenant: "acme" }, "BAD_INPUT", "belongs to none"],
    [{ role: "tenant" as const, tenant: "initech" }, "NOT_FOUND", "Tenant initech does not exist"],
    [{ role: "oncall" as const, tenant: null, password: "eight-ch" }, "BAD_INPUT", "Use at least 12 characters (this password has 8)."],
    [{ role: "oncall" as const, tenant: null, password: "x".repeat(257) }, "BAD_INPUT", "Use at most 256 characters"],
    [{ role: "oncall" as const, tenant: null, email: "same-as-pass@nimbus.local", password: "Same-As-Pass@nimbus.local" }, "BAD_INPUT", "must not be the account's email address"],
    [{ role: "oncall" as const, tenant: null, username: "operator_jane", password: "operator_jane" }, "BAD_INPUT", "must not be the account's email address or username"],
    [{ role: "oncall" as const, tenant: null, email: "not-an-email" }, "BAD_INPUT", "Invalid email address"],
    [{ role: "oncall" as const, tenant: null, username: "no spaces" }, "BAD_INPUT", "Invalid username"],
    [{ role: "root" as never, tenant: null }, "BAD_INPUT", "Invalid role"],
  ])("refuses to create %j", async (over, code, message) => {
    const attempt = h.auth.createUser({ email: email(), name: "X", password: PASSWORD, ...over });
    await expect(attempt).rejects.toMatchObject({ code, message: expect.stringContaining(message) });
  });

  it("refuses a second user with the same email or username, and records the failure", async () => {
    await h.auth.createUser({ email: "dup@nimbus.local", username: "dup", name: "Dup", password: PASSWORD, role: "oncall", tenant: null });
    await expect(h.auth.createUser({ email: "DUP@nimbus.local", name: "Dup2", password: PASSWORD, role: "oncall", tenant: null }, by)).rejects.toMatchObject({
      code: "CONFLICT", message: "A user with the email dup@nimbus.local already exists.",
    });
    expect(await lastAudit("users.create")).toMatchObject({ result: "error", errorCode: "CONFLICT" });
    await expect(h.auth.createUser({ email: email(), username: "DUP", name: "Dup3", password: PASSWORD, role: "oncall", tenant: null })).rejects.toMatchObject({
      code: "CONFLICT", message: "The username DUP is taken.",
    });
  });

  it("changes role and tenant, effective on the next request of an existing session", async () => {
    const u = await h.auth.createUser({ email: email(), name: "Role", password: PASSWORD, role: "oncall", tenant: null });
    const { cookie } = await signInEmail(h, u.email, PASSWORD);
    await h.auth.setRole(u.id, "tenant", "acme", by);
    expect(await h.auth.viewerFromHeaders(cookieHeaders(cookie!))).toMatchObject({ role: "tenant", tenant: "acme" });
    await h.auth.setTenant(u.id, "globex", by);
    expect(await h.auth.viewerFromHeaders(cookieHeaders(cookie!))).toMatchObject({ role: "tenant", tenant: "globex" });
    await h.auth.setRole(u.id, "operator", null, by);
    expect(await h.auth.viewerFromHeaders(cookieHeaders(cookie!))).toMatchObject({ role: "operator", tenant: null });
    expect(await lastAudit("users.set-role")).toMatchObject({ target: u.email, inputSummary: { role: "operator", tenant: null }, result: "ok" });
  });

  it("moves only tenant members between tenants", async () => {
    const staff = await h.auth.createUser({ email: email(), name: "Staff", password: PASSWORD, role: "operator", tenant: null });
    await expect(h.auth.setTenant(staff.id, "acme", by)).rejects.toMatchObject({ code: "PRECONDITION_FAILED" });
    await expect(h.auth.setTenant("no-such-user", "acme", by)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("resets a password: the new one works, the old one and old sessions do not", async () => {
    const u = await h.auth.createUser({ email: email(), name: "Reset", password: PASSWORD, role: "oncall", tenant: null });
    const { cookie } = await signInEmail(h, u.email, PASSWORD);
    const { password } = await h.auth.resetPassword(u.id, by);
    expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(await h.auth.viewerFromHeaders(cookieHeaders(cookie!))).toBeNull();
    expect((await signInEmail(h, u.email, PASSWORD)).status).toBe(401);
    expect((await signInEmail(h, u.email, password)).status).toBe(200);
    const record = await lastAudit("users.reset-password");
    expect(record).toMatchObject({ target: u.email, result: "ok" });
    expect(JSON.stringify(record)).not.toContain(password);
  });

  it("disabling ends the user's sessions; enabling lets them sign in again", async () => {
    const u = await h.auth.createUser({ email: email(), name: "Dis", password: PASSWORD, role: "oncall", tenant: null });
    const { cookie } = await signInEmail(h, u.email, PASSWORD);
    expect((await h.auth.setDisabled(u.id, true, by)).disabled).toBe(true);
    expect(await h.auth.viewerFromHeaders(cookieHeaders(cookie!))).toBeNull();
    await h.auth.setDisabled(u.id, false, by);
    expect((await signInEmail(h, u.email, PASSWORD)).status).toBe(200);
  });

  it("keeps at least one enabled admin, and no admin can disable themselves", async () => {
    await expect(h.auth.setDisabled(by.actor.userId, true, by)).rejects.toMatchObject({ code: "PRECONDITION_FAILED", message: "You cannot disable your own account." });
    await expect(h.auth.setRole(by.actor.userId, "operator", null, by)).rejects.toMatchObject({
      code: "PRECONDITION_FAILED", message: expect.stringContaining("is the last enabled admin"),
    });
    expect(await lastAudit("users.set-role")).toMatchObject({ result: "error", errorCode: "PRECONDITION_FAILED" });
    const second = await h.auth.createUser({ email: email(), name: "Second", password: PASSWORD, role: "admin", tenant: null });
    await h.auth.setRole(second.id, "oncall", null, by);
    expect((await h.auth.getUser(second.id))!.role).toBe("oncall");
  });

  it("lists users without their passwords", async () => {
    const list = await h.auth.listUsers();
    expect(list.length).toBeGreaterThan(3);
    expect(Object.keys(list[0]!).sort()).toEqual(["createdAt", "disabled", "email", "id", "name", "role", "tenant", "username"]);
  });

  it("records nothing when the caller audits itself (no context given)", async () => {
    const before = (await h.auth.audit.query({ action: "users.create" }, { limit: 1000 })).total;
    await h.auth.createUser({ email: email(), name: "Quiet", password: PASSWORD, role: "oncall", tenant: null });
    expect((await h.auth.audit.query({ action: "users.create" }, { limit: 1000 })).total).toBe(before);
  });
});
