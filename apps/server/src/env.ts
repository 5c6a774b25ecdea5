import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { FIRST_ADMIN_EMAIL, FIRST_ADMIN_USERNAME, TrustedProxies } from "@nimbus/auth";
import { passwordProblem } from "@nimbus/domain";

/** The one place that reads process.env. */
const repoRoot = resolve(fileURLToPath(new URL("../../..", import.meta.url)));

const Env = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  NIMBUS_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  /** Loopback by default: exposing the console is a decision, not an accident. */
  NIMBUS_BIND: z.string().default("127.0.0.1"),
  NIMBUS_DATA_DIR: z.string().default(resolve(repoRoot, ".nimbus")),
  /** Fleet config file; without it the embedded lab starts. */
  NIMBUS_CONFIG: z.string().optional(),
  DATABASE_URL: z.string().optional(),
  /**
   * Replica mode (several servers on one PostgreSQL, sharing the hosts by lease): set on every
   * replica, the same value, at least 32 characters; it authenticates replica-to-replica calls.
   * Needs DATABASE_URL. Unset: one process, as always.
   */
  NIMBUS_CLUSTER_SECRET: z.string().min(32, "at least 32 characters").optional(),
  /** This replica's name in the cluster (default hostname-pid). */
  NIMBUS_REPLICA_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, "letters, digits, dot, dash and underscore, at most 64")
    .optional(),
  /** How the other replicas reach this one (default http://NIMBUS_BIND:NIMBUS_PORT). */
  NIMBUS_INTERNAL_URL: z.url().optional(),
  /** The first admin's password on first start; the one password policy applies. */
  NIMBUS_ADMIN_PASSWORD: z
    .string()
    .superRefine((password, ctx) => {
      const problem = passwordProblem(password, { email: FIRST_ADMIN_EMAIL, username: FIRST_ADMIN_USERNAME });
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  /**
   * Reverse proxies (addresses, CIDR ranges; comma-separated) whose X-Forwarded-For names the
   * client. None by default: the TCP peer is the client.
   */
  NIMBUS_TRUSTED_PROXIES: z
    .string()
    .default("")
    .transform((text, ctx) => {
      try {
        return TrustedProxies.parse(text.split(",").map((e) => e.trim()).filter(Boolean));
      } catch (e) {
        ctx.addIssue({ code: "custom", message: (e as Error).message });
        return z.NEVER;
      }
    }),
  NIMBUS_AUTH_SECRET: z.string().min(32).optional(),
  /** Public URL when behind a TLS proxy; enables Secure cookies when https. */
  NIMBUS_PUBLIC_URL: z.url().optional(),
  /** Bearer token Prometheus sends to /metrics; without one /metrics answers 404. */
  NIMBUS_METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  NIMBUS_LAB_SPEED: z.coerce.number().positive().max(100).default(1),
  /** Simultaneous SSH handshakes of this server (default 768, see packages/fleet/src/fleet.ts); replicas sharing one machine may split it. */
  NIMBUS_SSH_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).optional(),
  NIMBUS_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Skip Next.js (API-only), for benchmarks and API tests. */
  NIMBUS_NO_WEB: z.stringbool().default(false),
  /** List every event-loop stall over 20 ms (and the GC in it) on /healthz, for the benchmark (`pnpm bench --only stalls`). */
  NIMBUS_STALL_WATCH: z.stringbool().default(false),
  /** Largest request body accepted (bytes); a larger one is refused with 413 before it is read. */
  NIMBUS_MAX_BODY_BYTES: z.coerce.number().int().min(16 * 1024).max(64 * 1024 * 1024).default(256 * 1024),
  /** API calls one address may make per minute without a session (the sign-in page makes a few). */
  NIMBUS_ANON_REQUESTS_PER_MINUTE: z.coerce.number().int().min(10).default(120),
  /** Sign-in requests one address may send per minute, right or wrong (a flood guard; failures have tighter limits). */
  NIMBUS_SIGNIN_REQUESTS_PER_MINUTE: z.coerce.number().int().min(5).max(10_000).default(60),
  /** Live streams (open console tabs) per user and per address. */
  NIMBUS_LIVE_STREAMS_PER_USER: z.coerce.number().int().min(1).default(8),
  NIMBUS_LIVE_STREAMS_PER_ADDRESS: z.coerce.number().int().min(1).default(32),
  /** Days of history kept; older records are removed by an hourly prune. */
  NIMBUS_RETENTION_AUDIT_DAYS: z.coerce.number().int().min(1).default(365),
  NIMBUS_RETENTION_HEALTH_DAYS: z.coerce.number().int().min(1).default(90),
  NIMBUS_RETENTION_OPERATIONS_DAYS: z.coerce.number().int().min(1).default(180),
});

export type ServerEnv = z.infer<typeof Env> & { repoRoot: string };

export { replicaConfig, type ReplicaConfig } from "./replica-config.js";

export function loadEnv(source: Record<string, string | undefined> = process.env): ServerEnv {
  const parsed = Env.superRefine((e, ctx) => {
    if (e.NIMBUS_CLUSTER_SECRET && !e.DATABASE_URL) ctx.addIssue({ code: "custom", path: ["NIMBUS_CLUSTER_SECRET"], message: "replica mode needs PostgreSQL: set DATABASE_URL too" });
    if (e.NIMBUS_CLUSTER_SECRET && e.NIMBUS_PORT === 0 && !e.NIMBUS_INTERNAL_URL) ctx.addIssue({ code: "custom", path: ["NIMBUS_INTERNAL_URL"], message: "with NIMBUS_PORT=0 the other replicas cannot guess this one's address: set NIMBUS_INTERNAL_URL" });
  }).safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`invalid environment:\n${problems}`);
  }
  return { ...parsed.data, repoRoot };
}
