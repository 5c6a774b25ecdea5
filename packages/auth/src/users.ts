import { randomBytes } from "node:crypto";
import { and, asc, count, eq, ne } from "drizzle-orm";
import { z } from "zod";
import { NimbusError, Role, TenantSlug, isNimbusError, type Viewer } from "@nimbus/domain";
import { accounts, constraintName, FOREIGN_KEY_VIOLATION, sqlState, UNIQUE_VIOLATION, users, type AuditLog, type Db } from "@nimbus/db";
import { checkPassword, generatePassword, hashPassword } from "./password.js";

export interface UserRow {
  id: string;
  email: string;
  name: string;
  username: string | null;
  role: Role;
  tenant: string | null;
  disabled: boolean;
  createdAt: string;
}

/** Who asks for a user-admin change; given, the change (or its failure) is written to the audit log. */
export interface AdminContext {
  actor: Viewer;
  requestId?: string | null;
  ip?: string | null;
}

export interface NewUser {
  email: string;
  name: string;
  password: string;
  role: Role;
  /** Required for the tenant role, null for staff roles. */
  tenant: string | null;
  /** Optional sign-in name besides the email: letters, digits, '_' and '.', 3-30 characters. */
  username?: string | null;
}

export const FIRST_ADMIN_EMAIL = "admin@nimbus.local";
export const FIRST_ADMIN_USERNAME = "admin";

/** better-auth finds a user's password in the account whose providerId is "credential". */
const CREDENTIAL = "credential";
const Email = z.email();
const Username = z.string().regex(/^[a-zA-Z0-9_.]{3,30}$/, "usernames are 3-30 letters, digits, '_' or '.'");

const newId = () => randomBytes(16).toString("base64url");

/**
 * Users, written with drizzle in transactions (better-auth has no atomic "create user with
 * password"); better-auth reads them at sign-in and owns sessions. Disabling a user or resetting
 * a password revokes their sessions through `revokeSessions`.
 */
export class UserAdmin {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly revokeSessions: (userId: string) => Promise<void>,
  ) {}

  async listUsers(): Promise<UserRow[]> {
    const rows = await this.db.select().from(users).orderBy(asc(users.email));
    return rows.map(toUserRow);
  }

  async getUser(id: string): Promise<UserRow | null> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id));
    return row ? toUserRow(row) : null;
  }

  createUser(input: NewUser, ctx?: AdminContext): Promise<UserRow> {
    const summary = { email: input.email, name: input.name, username: input.username ?? null, role: input.role, tenant: input.tenant };
    return this.audited(ctx, "users.create", input.email.trim().toLowerCase(), summary, () => this.insertUser(input));
  }

  setRole(userId: string, role: Role, tenant: string | null, ctx?: AdminContext): Promise<UserRow> {
    return this.audited(ctx, "users.set-role", userId, { role, tenant }, async () => {
      const user = await this.require(userId);
      const next = checkMembership(parse(Role, role, "role"), tenant);
      if (user.role === "admin" && next.role !== "admin") await this.assertAnotherAdmin(user, "loses the admin role");
      return this.update(userId, { role: next.role, tenant: next.tenant });
    });
  }

  /** Moves a tenant member to another tenant. Staff roles belong to no tenant: use setRole. */
  setTenant(userId: string, tenant: string, ctx?: AdminContext): Promise<UserRow> {
    return this.audited(ctx, "users.set-tenant", userId, { tenant }, async () => {
      const user = await this.require(userId);
      if (user.role !== "tenant") {
        throw new NimbusError("PRECONDITION_FAILED", `${user.email} has the ${user.role} role and sees every tenant; make them a tenant member with setRole.`, { userId });
      }
      return this.update(userId, { tenant: checkMembership("tenant", tenant).tenant });
    });
  }

  /** Sets a generated password, returned once, and signs the user out everywhere. */
  resetPassword(userId: string, ctx?: AdminContext): Promise<{ password: string }> {
    return this.audited(ctx, "users.reset-password", userId, {}, async () => {
      await this.require(userId);
      const password = generatePassword();
      const hash = await hashPassword(password);
      await this.db.transaction(async (tx) => {
        const updated = await tx
          .update(accounts)
          .set({ password: hash, updatedAt: new Date() })
          .where(and(eq(accounts.userId, userId), eq(accounts.providerId, CREDENTIAL)))
          .returning({ id: accounts.id });
        if (updated.length === 0) {
          await tx.insert(accounts).values({ id: newId(), accountId: userId, providerId: CREDENTIAL, userId, password: hash });
        }
      });
      await this.revokeSessions(userId);
      return { password };
    });
  }

  /** A disabled user cannot sign in, and their sessions end now. */
  setDisabled(userId: string, disabled: boolean, ctx?: AdminContext): Promise<UserRow> {
    return this.audited(ctx, "users.set-disabled", userId, { disabled }, async () => {
      const user = await this.require(userId);
      if (disabled && ctx?.actor.userId === userId) {
        throw new NimbusError("PRECONDITION_FAILED", "You cannot disable your own account.", { userId });
      }
      if (disabled && user.role === "admin") await this.assertAnotherAdmin(user, "would be disabled");
      const row = await this.update(userId, { disabled });
      if (disabled) await this.revokeSessions(userId);
      return row;
    });
  }

  /**
   * On first start (no users at all) creates admin@nimbus.local with `password` or a generated
   * one; afterwards returns null. A generated password is returned so the server prints it once;
   * one given (NIMBUS_ADMIN_PASSWORD) is not handed back (`password: null`): whoever set it knows
   * it, and it must not end up in a terminal or a log.
   */
  async ensureFirstAdmin(opts: { password?: string | undefined } = {}): Promise<{ email: string; username: string; password: string | null } | null> {
    const [existing] = await this.db.select({ n: count() }).from(users);
    if ((existing?.n ?? 0) > 0) return null;
    const password = opts.password || generatePassword();
    const input: NewUser = { email: FIRST_ADMIN_EMAIL, username: FIRST_ADMIN_USERNAME, name: "Administrator", password, role: "admin", tenant: null };
    try {
      await this.insertUser(input);
    } catch (e) {
      // Another replica created it first.
      if (isNimbusError(e) && e.code === "CONFLICT") return null;
      throw e;
    }
    await this.audit.append({
      userId: null, userName: "system", role: null, tenant: null, action: "users.create-first-admin", target: FIRST_ADMIN_EMAIL,
      input: { fromEnvironment: Boolean(opts.password) }, result: "ok",
    });
    return { email: FIRST_ADMIN_EMAIL, username: FIRST_ADMIN_USERNAME, password: opts.password ? null : password };
  }

  private async insertUser(input: NewUser): Promise<UserRow> {
    const email = parse(Email, input.email.trim().toLowerCase(), "email address");
    const name = input.name.trim();
    if (!name) throw new NimbusError("BAD_INPUT", `The user ${email} needs a name.`, { email });
    const username = input.username ? parse(Username, input.username.trim(), "username") : null;
    checkPassword(input.password, { email, username });
    const { role, tenant } = checkMembership(parse(Role, input.role, "role"), input.tenant);
    const hash = await hashPassword(input.password);
    const id = newId();
    try {
      await this.db.transaction(async (tx) => {
        await tx.insert(users).values({ id, email, name, username: username?.toLowerCase() ?? null, displayUsername: username, role, tenant });
        await tx.insert(accounts).values({ id: newId(), accountId: id, providerId: CREDENTIAL, userId: id, password: hash });
      });
    } catch (e) {
      throw explainWriteError(e, { email, username, tenant });
    }
    return (await this.getUser(id))!;
  }

  private async update(userId: string, set: Partial<typeof users.$inferInsert>): Promise<UserRow> {
    try {
      const [row] = await this.db.update(users).set({ ...set, updatedAt: new Date() }).where(eq(users.id, userId)).returning();
      if (!row) throw userNotFound(userId);
      return toUserRow(row);
    } catch (e) {
      throw explainWriteError(e, { tenant: set.tenant ?? null });
    }
  }

  private async require(userId: string): Promise<UserRow> {
    const user = await this.getUser(userId);
    if (!user) throw userNotFound(userId);
    return user;
  }

  /** Nimbus must keep someone who can manage users. */
  private async assertAnotherAdmin(user: UserRow, change: string): Promise<void> {
    const [others] = await this.db
      .select({ n: count() })
      .from(users)
      .where(and(eq(users.role, "admin"), eq(users.disabled, false), ne(users.id, user.id)));
    if ((others?.n ?? 0) === 0) {
      throw new NimbusError("PRECONDITION_FAILED", `${user.email} is the last enabled admin and ${change}; make another user admin first.`, { userId: user.id });
    }
  }

  private async audited<T>(ctx: AdminContext | undefined, action: string, target: string, input: unknown, run: () => Promise<T>): Promise<T> {
    if (!ctx) return run();
    const targetName = action === "users.create" ? target : ((await this.getUser(target))?.email ?? target);
    const base = {
      userId: ctx.actor.userId, userName: ctx.actor.name, role: ctx.actor.role, tenant: ctx.actor.tenant,
      action, target: targetName, input, requestId: ctx.requestId ?? null, ip: ctx.ip ?? null,
    };
    try {
      const result = await run();
      await this.audit.append({ ...base, result: "ok" });
      return result;
    } catch (e) {
      await this.audit.append({ ...base, result: "error", errorCode: isNimbusError(e) ? e.code : "INTERNAL" });
      throw e;
    }
  }
}

function checkMembership(role: Role, tenant: string | null): { role: Role; tenant: string | null } {
  if (role === "tenant") {
    if (!tenant) throw new NimbusError("BAD_INPUT", "A tenant member needs a tenant.");
    return { role, tenant: parse(TenantSlug, tenant, "tenant id") };
  }
  if (tenant) throw new NimbusError("BAD_INPUT", `The ${role} role sees every tenant and belongs to none; leave the tenant empty.`, { role, tenant });
  return { role, tenant: null };
}

function explainWriteError(e: unknown, about: { email?: string; username?: string | null; tenant: string | null }): unknown {
  const state = sqlState(e);
  if (state === FOREIGN_KEY_VIOLATION && about.tenant) {
    return new NimbusError("NOT_FOUND", `Tenant ${about.tenant} does not exist.`, { tenant: about.tenant });
  }
  if (state === UNIQUE_VIOLATION) {
    if (constraintName(e) === "users_username_unique") return new NimbusError("CONFLICT", `The username ${about.username} is taken.`, { username: about.username });
    return new NimbusError("CONFLICT", `A user with the email ${about.email} already exists.`, { email: about.email });
  }
  return e;
}

const userNotFound = (userId: string) => new NimbusError("NOT_FOUND", `User ${userId} does not exist.`, { userId });

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new NimbusError("BAD_INPUT", `Invalid ${what} ${JSON.stringify(value)}: ${r.error.issues[0]?.message ?? "rejected"}.`, { value });
  return r.data;
}

function toUserRow(r: typeof users.$inferSelect): UserRow {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    username: r.username,
    role: Role.parse(r.role),
    tenant: r.tenant,
    disabled: r.disabled,
    createdAt: r.createdAt.toISOString(),
  };
}
