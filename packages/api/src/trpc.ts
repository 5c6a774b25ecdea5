import { TRPCError, initTRPC } from "@trpc/server";
import { NimbusError, can, type NimbusErrorCode, type Permission, type Viewer } from "@nimbus/domain";
import type { ApiDeps } from "./deps.js";
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

/** How each procedure treats tenants; the isolation test enumerates the router and reads this. */
export interface Meta {
  scope: "public" | "tenant-scoped" | "staff-only";
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

/** Every mutation leaves an audit record, whatever its outcome. */
const audit = t.middleware(async ({ ctx, type, path, getRawInput, next }) => {
  if (type !== "mutation") return next();
  const result = await next();
  const input = await getRawInput().catch(() => undefined);
  const code = result.ok ? null : result.error.cause instanceof NimbusError ? result.error.cause.code : result.error.code;
  await ctx.deps.audit.append({
    userId: ctx.viewer?.userId ?? null,
    userName: ctx.viewer?.name ?? null,
    role: ctx.viewer?.role ?? null,
    tenant: ctx.viewer?.tenant ?? null,
    action: path,
    target: targetOf(input),
    input,
    result: result.ok ? "ok" : "error",
    errorCode: code,
    requestId: ctx.requestId,
    ip: ctx.ip,
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

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Whatever a tenant member receives (data, errors, stream events) leaves through the infrastructure mask. */
const maskForTenants = t.middleware(async ({ ctx, next, getRawInput }) => tenantBoundary(ctx, await next(), getRawInput));

const base = t.procedure.use(mapErrors).use(audit).use(maskForTenants);

export const publicProcedure = base.meta({ scope: "public" });

const requireViewer = t.middleware(({ ctx, next }) => {
  if (!ctx.viewer) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in first" });
  return next({ ctx: { ...ctx, viewer: ctx.viewer } });
});

/** Signed in; the handler scopes by tenant (lists filtered, other tenants' ids answer NOT_FOUND). */
export const tenantProcedure = base.meta({ scope: "tenant-scoped" }).use(requireViewer);

/** Staff with a permission; tenant members never pass. */
export const staffProcedure = (permission: Permission) =>
  base
    .meta({ scope: "staff-only" })
    .use(requireViewer)
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
