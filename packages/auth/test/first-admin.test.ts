import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { accounts, users } from "@nimbus/db";
import { backend } from "@nimbus/db/testing";
import { FIRST_ADMIN_EMAIL } from "../src/index.js";
import { cookieHeaders, signInEmail, signInUsername, startHarness, type Harness } from "./harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe(`first admin (${backend})`, () => {
  it("is created once, with a generated password that signs in, and only the first time", async () => {
    h = await startHarness();
    const created = await h.auth.ensureFirstAdmin();
    expect(created).toMatchObject({ email: FIRST_ADMIN_EMAIL, username: "admin" });
    const password = created!.password!;
    expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(await h.auth.ensureFirstAdmin()).toBeNull();
    expect(await h.auth.ensureFirstAdmin({ password: "another-password-1" })).toBeNull();

    const signedIn = await signInEmail(h, FIRST_ADMIN_EMAIL, password);
    expect(signedIn.status).toBe(200);
    expect(await h.auth.viewerFromHeaders(cookieHeaders(signedIn.cookie!))).toMatchObject({ role: "admin", tenant: null, name: "Administrator" });
    expect((await signInUsername(h, "admin", password)).status).toBe(200);

    const { records } = await h.auth.audit.query({ action: "users.create-first-admin" }, { limit: 5 });
    expect(records).toHaveLength(1);
  });

  it("takes the password given (NIMBUS_ADMIN_PASSWORD) instead of generating one, and never hands it back", async () => {
    h = await startHarness();
    const created = await h.auth.ensureFirstAdmin({ password: "from-the-environment" });
    expect(created).toEqual({ email: FIRST_ADMIN_EMAIL, username: "admin", password: null });
    expect(JSON.stringify(created)).not.toContain("from-the-environment");
    expect((await signInEmail(h, FIRST_ADMIN_EMAIL, "from-the-environment")).status).toBe(200);
  });

  it("stores an argon2id hash, never the password", async () => {
    h = await startHarness();
    const password = (await h.auth.ensureFirstAdmin())!.password!;
    const [row] = await h.database.db
      .select({ hash: accounts.password })
      .from(accounts)
      .innerJoin(users, eq(users.id, accounts.userId))
      .where(eq(users.email, FIRST_ADMIN_EMAIL));
    expect(row!.hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row!.hash).not.toContain(password);
  });
});
