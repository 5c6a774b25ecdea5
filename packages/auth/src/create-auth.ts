import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { eq } from "drizzle-orm";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { APIError } from "better-auth/api";
import { fromNodeHeaders } from "better-auth/node";
import { username } from "better-auth/plugins";
import { Role, type Viewer } from "@nimbus/domain";
import { AuditLog, AuthRows, betterAuthSchema, schema, users, type AuthRowsPruned, type Db } from "@nimbus/db";
import { createHooks } from "./hooks.js";
import { AUTH_BASE_PATH, CLIENT_IP_HEADER, clientAddress, toNodeAuthHandler } from "./http.js";
import { TrustedProxies } from "./trusted-proxies.js";
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, verifyPassword } from "./password.js";
import { DEFAULT_SIGN_IN_LIMITS, SignInLimiter, type SignInLimits } from "./sign-in-limiter.js";
import { DbSignInLimiter } from "./sign-in-limiter-db.js";
import { UserAdmin } from "./users.js";

export interface AuthOptions {
  db: Db;
  /** Where the browser reaches Nimbus, e.g. "http://127.0.0.1:3000": the one trusted origin. */
  baseURL: string;
  /** Signs session cookies; see resolveAuthSecret. */
  secret: string;
  /** Secure cookies (and the __Secure- prefix); defaults to whether baseURL is https. */
  secureCookies?: boolean;
  /** Other origins allowed to POST to /api/auth (a dev server on another port, say). */
  trustedOrigins?: string[];
  signInLimits?: SignInLimits;
  /** Reverse proxies whose X-Forwarded-For names the client (NIMBUS_TRUSTED_PROXIES); none by default. */
  trustedProxies?: TrustedProxies;
  /** Sign-in requests per address and minute, right or wrong (better-auth's flood guard); 60 by default. */
  signInRequestsPerMinute?: number;
  /** Clock for the sign-in limiter (tests). */
  now?: () => number;
  /**
   * Where failed sign-ins and better-auth's per-address request counts are kept: this process's
   * memory (one server, the default), or the database, shared by every replica (replica mode: an
   * attacker spreading attempts over the replicas behind a load balancer still meets one limit).
   */
  limitsIn?: "memory" | "database";
}

/** Sessions last 12 h since last use: refreshed (sliding) at most once an hour. */
export const SESSION_TTL_SECONDS = 12 * 60 * 60;
const SESSION_REFRESH_SECONDS = 60 * 60;
export const COOKIE_PREFIX = "nimbus";

export type NimbusAuth = ReturnType<typeof createAuth>;

export function createAuth(opts: AuthOptions) {
  const { db } = opts;
  const audit = new AuditLog(db);
  const shared = opts.limitsIn === "database";
  const limiter = shared ? new DbSignInLimiter(db, opts.signInLimits ?? DEFAULT_SIGN_IN_LIMITS, opts.now) : new SignInLimiter(opts.signInLimits ?? DEFAULT_SIGN_IN_LIMITS, opts.now);
  const hooks = createHooks({ db, audit, limiter });
  const proxies = opts.trustedProxies ?? TrustedProxies.none;
  const secure = opts.secureCookies ?? new URL(opts.baseURL).protocol === "https:";

  const rateLimits = {
    window: 60,
    max: 300,
    customRules: { "/sign-in/*": { window: 60, max: opts.signInRequestsPerMinute ?? 60 }, "/change-password": { window: 60, max: 10 } },
  };
  const signInLimits = opts.signInLimits ?? DEFAULT_SIGN_IN_LIMITS;
  // better-auth's own rules (sign-in 10 s, password reset 60 s) are never longer than a minute either.
  const longestRateWindowMs = Math.max(60, rateLimits.window, ...Object.values(rateLimits.customRules).map((r) => r.window)) * 1000;
  const longestSignInWindowMs = Math.max(signInLimits.perAccountAndAddress.windowMs, signInLimits.perAddress.windowMs);
  const rows = new AuthRows(db);

  const auth = betterAuth({
    appName: "Nimbus",
    baseURL: opts.baseURL,
    basePath: AUTH_BASE_PATH,
    secret: opts.secret,
    trustedOrigins: opts.trustedOrigins ?? [],
    database: drizzleAdapter(db, { provider: "pg", schema: { ...betterAuthSchema, rateLimit: schema.rateLimits } }),
    emailAndPassword: {
      enabled: true,
      // Accounts are made by admins (UserAdmin.createUser), never by visitors.
      disableSignUp: true,
      minPasswordLength: MIN_PASSWORD_LENGTH,
      maxPasswordLength: MAX_PASSWORD_LENGTH,
      password: { hash: hashPassword, verify: verifyPassword },
    },
    user: {
      additionalFields: {
        role: { type: "string", required: true, input: false },
        tenant: { type: "string", required: false, input: false },
        disabled: { type: "boolean", required: false, input: false, defaultValue: false },
      },
    },
    session: { expiresIn: SESSION_TTL_SECONDS, updateAge: SESSION_REFRESH_SECONDS },
    plugins: [username()],
    // better-auth's own limiter: every request per address and path, a flood guard (in memory, or
    // in `rate_limits` shared by the replicas). Failed sign-ins are limited more tightly per
    // account and per address by SignInLimiter / DbSignInLimiter.
    rateLimit: { enabled: true, storage: shared ? "database" : "memory", modelName: "rateLimit", ...rateLimits },
    advanced: {
      cookiePrefix: COOKIE_PREFIX,
      useSecureCookies: secure,
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax", secure },
      // better-auth skips its Origin/CSRF check under NODE_ENV=test unless told otherwise.
      disableOriginCheck: false,
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
    },
    hooks: { before: hooks.before, after: hooks.after },
    databaseHooks: {
      session: {
        create: {
          async before(session) {
            const [user] = await db.select({ disabled: users.disabled }).from(users).where(eq(users.id, session.userId));
            if (user?.disabled) {
              throw new APIError("FORBIDDEN", { code: "ACCOUNT_DISABLED", message: "This account is disabled. Ask an administrator to enable it." });
            }
          },
        },
      },
    },
    logger: { level: "error" },
    telemetry: { enabled: false },
  });

  const admin = new UserAdmin(db, audit, async (userId) => {
    const ctx = await auth.$context;
    await ctx.internalAdapter.deleteUserSessions(userId);
  });

  /** The viewer behind a request's session cookie, plus any refreshed cookie to send back. */
  async function sessionFromHeaders(headers: Headers | IncomingHttpHeaders): Promise<{ viewer: Viewer | null; setCookie: string[] }> {
    const h = headers instanceof Headers ? headers : fromNodeHeaders(headers);
    const result = await auth.api.getSession({ headers: h, returnHeaders: true });
    const setCookie = result.headers?.getSetCookie() ?? [];
    const user = result.response?.user;
    if (!user || user.disabled) return { viewer: null, setCookie };
    const role = Role.parse(user.role);
    return { viewer: { userId: user.id, name: user.name, role, tenant: role === "tenant" ? (user.tenant ?? null) : null }, setCookie };
  }

  return {
    /** Node handler for `/api/auth/*` (sign-in, sign-out, get-session, change-password). */
    handler: toNodeAuthHandler(auth.handler, proxies) as (req: IncomingMessage, res: ServerResponse) => Promise<void>,
    /** The same, for fetch-style servers. */
    fetchHandler: auth.handler,
    sessionFromHeaders,
    /** The address sign-in limits and audit records use for a request: the peer or a trusted proxy's client. */
    clientAddress: (req: IncomingMessage) => clientAddress(req, proxies),
    /** Null without a valid session, after expiry, and for a disabled user. */
    viewerFromHeaders: async (headers: Headers | IncomingHttpHeaders) => (await sessionFromHeaders(headers)).viewer,
    listUsers: admin.listUsers.bind(admin),
    getUser: admin.getUser.bind(admin),
    createUser: admin.createUser.bind(admin),
    setRole: admin.setRole.bind(admin),
    setTenant: admin.setTenant.bind(admin),
    resetPassword: admin.resetPassword.bind(admin),
    setDisabled: admin.setDisabled.bind(admin),
    ensureFirstAdmin: admin.ensureFirstAdmin.bind(admin),
    audit,
    /**
     * Removes what unauthenticated requests left behind once it counts for nothing: request
     * counters past the longest rate-limit window, failed sign-ins past the longest sign-in window,
     * expired sessions and verifications (bounded per round; safe on every replica at once). The
     * server runs it every minute. `at` (epoch ms) is for tests; by default better-auth's counters
     * and sessions are judged by Date.now() (what stamps them), failed sign-ins by the limiter's clock.
     */
    pruneRows: (at?: number): Promise<AuthRowsPruned> =>
      rows.prune({
        rateLimitsBefore: (at ?? Date.now()) - longestRateWindowMs,
        signInFailuresBefore: new Date((at ?? (opts.now ?? Date.now)()) - longestSignInWindowMs),
        expiredBefore: new Date(at ?? Date.now()),
      }),
    /** better-auth itself, for what the functions above do not cover. */
    betterAuth: auth,
  };
}
