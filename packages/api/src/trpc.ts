import { TRPCError, initTRPC } from "@trpc/server";
import { NimbusError, can, type NimbusErrorCode, type Permission, type Viewer } from "@nimbus/domain";
import type { ApiDeps } from "./deps.js";
import { inputProblem } from "./input-limits.js";
import type { LiveHub } from "./services/live-hub.js";
import type { HealthMonitor } from "./services/health-monitor.js";
import type { TopologyService } from "./services/topology.js";
import { tenantBoundary } from "./tenant-boundary.js";

export interface Context {
  deps: ApiDeps;
  live: LiveHub;
  health: HealthMonitor;
  topology: TopologyService;
  viewer: Viewer | null;
  /** Whether the session behind this request is still valid; long streams ask again later. */
  revalidate?: () => Promise<boolean>;
  requestId: string;
  ip: string | null;
}

/** What a handler adds to its mutation's audit record (the quota state at the moment of a create or delete). */
export interface AuditNote {
  quota?: unknown;
  /** Kept instead of the request's input (a compose file's environment may hold secrets: the stack's name and services say enough). */
  input?: unknown;
}

/** How each procedure treats tenants; the isolation test enumerates the router and reads this. */
export interface Meta {
  scope: "public" | "tenant-scoped" | "staff-only";
  /**
   * false: no audit row per call. Only for console keystrokes: the console session is audited as a
   * whole (open, close, duration), and a row per batch would store what was typed (passwords too).
   */
  audit?: false;
}

const trpcCode: Record<NimbusErrorCode, TRPCError["code"]> = {
  NOT_FOUND: "NOT_FOUND",
  FORBIDDEN: "FORBIDDEN",
  UNAUTHORIZED: "UNAUTHORIZED",
  BAD_INPUT: "BAD_REQUEST",
  CONFLICT: "CONFLICT",
  PRECONDITION_FAILED: "PRECONDITION_FAILED",
  HOST_UNREACHABLE: "BAD_GATEWAY",
  HOST_KEY_CHANGED: "BAD_GATEWAY",
  PROTOCOL_MISMATCH: "BAD_GATEWAY",
  TOOL_FAILED: "BAD_GATEWAY",
  UNPARSEABLE_OUTPUT: "BAD_GATEWAY",
  TIMEOUT: "TIMEOUT",
  RATE_LIMITED: "TOO_MANY_REQUESTS",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    sse: { ping: { enabled: true, intervalMs: 15_000 }, client: { reconnectAfterInactivityMs: 40_000 } },
    errorFormatter({ shape, error }) {
      const cause = error.cause instanceof NimbusError ? error.cause : null;
      return {
        ...shape,
        data: {
          ...shape.data,
          stack: undefined,
          nimbusCode: cause?.code ?? null,
          details: cause?.details ?? null,
        },
      };
    },
  });

/** Lets handlers throw NimbusError; tRPC sees a TRPCError with the mapped code, once, here. */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof NimbusError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: trpcCode[cause.code], message: cause.message, cause });
  }
  return result;
});

/**
 * Every mutation leaves an audit record, whatever its outcome. A signed-in caller's record names
 * the target and keeps a bounded, redacted summary of the input. A signed-out caller's record keeps
 * neither (nothing it sent is read, let alone stored) and an address leaves at most a few such
 * records a minute: the rest are refused all the same, without a row.
 */
const audit = t.middleware(async ({ ctx, type, path, meta, getRawInput, next }) => {
  const auditNote: AuditNote = {};
  if (type !== "mutation" || meta?.audit === false) return next({ ctx: { auditNote } });
  const result = await next({ ctx: { auditNote } });
  const code = result.ok ? null : result.error.cause instanceof NimbusError ? result.error.cause.code : result.error.code;
  const common = { action: path, result: result.ok ? ("ok" as const) : ("error" as const), errorCode: code, requestId: ctx.requestId, ip: ctx.ip };
  if (!ctx.viewer) {
    if (await ctx.deps.limits.anonymousAudit.take(ctx.ip ?? "unknown")) {
      await ctx.deps.audit.append({ ...common, userId: null, userName: null, role: null, tenant: null, target: null });
    }
    return result;
  }
  const input = await getRawInput().catch(() => undefined);
  await ctx.deps.audit.append({
    ...common,
    userId: ctx.viewer.userId,
    userName: ctx.viewer.name,
    role: ctx.viewer.role,
    tenant: ctx.viewer.tenant,
    target: targetOf(input),
    // The note goes first: the stored summary keeps a bounded number of values.
    input:
      auditNote.input !== undefined
        ? auditNote.input
        : auditNote.quota !== undefined
          ? { quotaState: auditNote.quota, ...(input && typeof input === "object" ? input : { input }) }
          : input,
  });
  return result;
});

function targetOf(input: unknown): string | null {
  if (!input || typeof input !== "object") return null;
  const i = input as Record<string, unknown>;
  for (const k of ["instance", "name", "service", "node", "id", "slug", "userId", "email"]) {
    if (typeof i[k] === "string") return i[k] as string;
  }
  return null;
}

/** Refuses an input too big or too deep before its schema walks it (see input-limits.ts). */
const boundedInput = t.middleware(async ({ getRawInput, next }) => {
  const problem = inputProblem(await getRawInput());
  if (problem) throw new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: problem });
  return next();
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Whatever a tenant member receives (data, errors, stream events) leaves through the infrastructure mask. */
const maskForTenants = t.middleware(async ({ ctx, next, getRawInput }) => tenantBoundary(ctx, await next(), getRawInput));

const base = t.procedure.use(mapErrors).use(audit).use(maskForTenants);

export const publicProcedure = base.meta({ scope: "public" }).use(boundedInput);

const requireViewer = t.middleware(({ ctx, next }) => {
  if (!ctx.viewer) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first" });
  return next({ ctx: { ...ctx, viewer: ctx.viewer } });
});

/** Signed in; the handler scopes by tenant (lists filtered, other tenants' ids answer NOT_FOUND). */
export const tenantProcedure = base.meta({ scope: "tenant-scoped" }).use(requireViewer).use(boundedInput);

/** Staff with a permission; tenant members never pass. */
export const staffProcedure = (permission: Permission) =>
  base
    .meta({ scope: "staff-only" })
    .use(requireViewer)
    .use(boundedInput)
    .use(({ ctx, next }) => {
      if (!can(ctx.viewer!, permission) || ctx.viewer!.role === "tenant")
        throw new TRPCError({ code: "FORBIDDEN", message: `your role (${ctx.viewer!.role}) may not do this` });
      return next();
    });

/** Signed in with a permission that tenant members may also hold. */
export const permittedProcedure = (permission: Permission) =>
  tenantProcedure.use(({ ctx, next }) => {
    if (!can(ctx.viewer!, permission)) throw new TRPCError({ code: "FORBIDDEN", message: `your role (${ctx.viewer!.role}) may not do this` });
    return next();
  });

export const notFound = (what: string) => new NimbusError("NOT_FOUND", `${what} not found`);
