import { eq } from "drizzle-orm";
import { APIError, createAuthMiddleware, isAPIError } from "better-auth/api";
import { passwordProblem } from "@nimbus/domain";
import { users, type AuditEntry, type AuditLog, type Db } from "@nimbus/db";
import { CLIENT_IP_HEADER, REQUEST_ID_HEADER } from "./http.js";
import type { FailedSignIns } from "./sign-in-limiter.js";

/**
 * better-auth hooks that add what it does not do itself: limits on failed sign-ins per account from
 * one address and per address, and an audit record for every sign-in (ok or not, naming the attempted
 * account), sign-out and password change.
 */
const SIGN_IN = { "/sign-in/email": "email", "/sign-in/username": "username" } as const;
type SignInPath = keyof typeof SIGN_IN;
const isSignIn = (path: string | undefined): path is SignInPath => path !== undefined && path in SIGN_IN;
/** Paths audited under the session that made the request. */
const SESSION_ACTIONS: Record<string, string> = { "/sign-out": "auth.sign-out", "/change-password": "auth.change-password" };

/** Longest account name looked up, counted and audited as typed. */
const MAX_IDENTIFIER = 320;

type UserRecord = typeof users.$inferSelect;
type HookContext = Parameters<Parameters<typeof createAuthMiddleware>[0]>[0];

interface Attempt {
  method: "email" | "username";
  /** As typed, lower-cased: what better-auth looks up. */
  identifier: string;
  user: UserRecord | null;
  ip: string;
}

export function createHooks(deps: { db: Db; audit: AuditLog; limiter: FailedSignIns }) {
  const { db, audit, limiter } = deps;
  // Who made a sign-out or password change, found before the handler ends the session.
  const sessionUsers = new WeakMap<Headers, UserRecord>();

  async function attemptOf(ctx: HookContext, path: SignInPath): Promise<Attempt> {
    const method = SIGN_IN[path];
    const body = (ctx.body ?? {}) as Record<string, unknown>;
    const typed = String(body[method] ?? "").trim().toLowerCase();
    // No account is named longer (an email address has at most 254 characters); a longer name is
    // cut before it is looked up, counted or audited: a sign-in body may be 256 KiB, and each
    // failed attempt would otherwise keep that much in the limiter and the audit log.
    const identifier = typed.length > MAX_IDENTIFIER ? `${typed.slice(0, MAX_IDENTIFIER)}…` : typed;
    const column = method === "email" ? users.email : users.username;
    const [user] = identifier ? await db.select().from(users).where(eq(column, identifier)) : [];
    return { method, identifier, user: user ?? null, ip: clientIp(ctx) };
  }

  /** One counter per account however it is named (email or username); unknown names count too. */
  const accountKey = (a: Attempt) => (a.user ? `user:${a.user.id}` : `${a.method}:${a.identifier}`);

  const record = (ctx: HookContext, user: UserRecord | null, fields: Pick<AuditEntry, "action" | "target" | "input" | "result" | "errorCode"> & { userName?: string | null }) =>
    audit.append({
      userId: user?.id ?? null,
      userName: fields.userName ?? user?.email ?? null,
      role: user?.role ?? null,
      tenant: user?.tenant ?? null,
      action: fields.action,
      target: fields.target,
      input: fields.input,
      result: fields.result,
      errorCode: fields.errorCode ?? null,
      requestId: ctx.headers?.get(REQUEST_ID_HEADER) ?? null,
      ip: clientIp(ctx),
    });

  const before = createAuthMiddleware(async (ctx) => {
    if (isSignIn(ctx.path)) {
      const attempt = await attemptOf(ctx, ctx.path);
      const retryAfter = await limiter.retryAfter(accountKey(attempt), attempt.ip);
      if (retryAfter === null) return;
      await record(ctx, attempt.user, {
        action: "auth.sign-in", target: attempt.identifier, userName: attempt.identifier,
        input: { method: attempt.method, identifier: attempt.identifier }, result: "error", errorCode: "RATE_LIMITED",
      });
      throw new APIError(
        "TOO_MANY_REQUESTS",
        { code: "RATE_LIMITED", message: `Too many failed sign-ins. Try again in ${retryAfter} s.`, retryAfter },
        { "Retry-After": String(retryAfter) },
      );
    }
    if (ctx.path && ctx.path in SESSION_ACTIONS && ctx.headers) {
      const user = await sessionUser(ctx);
      if (user) sessionUsers.set(ctx.headers, user);
      if (user && ctx.path === "/change-password") await refuseWeakPassword(ctx, user);
    }
  });

  const after = createAuthMiddleware(async (ctx) => {
    const returned: unknown = ctx.context.returned;
    const failed = isAPIError(returned) ? returned : null;
    const errorCode = failed ? String((failed.body as { code?: unknown } | undefined)?.code ?? failed.status) : null;
    if (isSignIn(ctx.path)) {
      const attempt = await attemptOf(ctx, ctx.path);
      if (!failed) await limiter.recordSuccess(accountKey(attempt), attempt.ip);
      // Only a wrong name or password counts; a disabled account or a malformed request does not.
      else if (failed.statusCode === 401) await limiter.recordFailure(accountKey(attempt), attempt.ip);
      await record(ctx, attempt.user, {
        action: "auth.sign-in", target: attempt.identifier, userName: attempt.identifier,
        input: { method: attempt.method, identifier: attempt.identifier }, result: failed ? "error" : "ok", errorCode,
      });
      return;
    }
    const action = ctx.path ? SESSION_ACTIONS[ctx.path] : undefined;
    const user = action && ctx.headers ? sessionUsers.get(ctx.headers) : undefined;
    if (action && user) {
      await record(ctx, user, { action, target: user.email, input: {}, result: failed ? "error" : "ok", errorCode });
    }
  });

  /** better-auth checks only the length; the one policy (domain/password-policy.ts) says more. */
  async function refuseWeakPassword(ctx: HookContext, user: UserRecord): Promise<void> {
    const next = (ctx.body as { newPassword?: unknown } | undefined)?.newPassword;
    const problem = typeof next === "string" ? passwordProblem(next, user) : null;
    if (!problem) return;
    await record(ctx, user, { action: SESSION_ACTIONS["/change-password"]!, target: user.email, input: {}, result: "error", errorCode: "WEAK_PASSWORD" });
    throw new APIError("BAD_REQUEST", { code: "WEAK_PASSWORD", message: problem });
  }

  async function sessionUser(ctx: HookContext): Promise<UserRecord | null> {
    const token = await ctx.getSignedCookie(ctx.context.authCookies.sessionToken.name, ctx.context.secret);
    if (!token) return null;
    const found = await ctx.context.internalAdapter.findSession(token);
    if (!found) return null;
    const [user] = await db.select().from(users).where(eq(users.id, found.user.id));
    return user ?? null;
  }

  return { before, after };
}

/** Set by our HTTP handler from the socket; "unknown" for direct auth.api calls without it. */
const clientIp = (ctx: HookContext) => ctx.headers?.get(CLIENT_IP_HEADER) ?? "unknown";
