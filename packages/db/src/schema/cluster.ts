import { bigint, bigserial, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Replica mode (several servers on one PostgreSQL, packages/cluster). Unused by the embedded
 * single process. Every time here is the database's clock (now()), never a replica's.
 */

/** The replicas alive or recently alive: one heartbeat every 2 s; alive while heartbeat_at > now() - 6 s. */
export const clusterReplicas = pgTable("cluster_replicas", {
  id: text("id").primaryKey(),
  /** How the other replicas reach this one (POST /internal/cluster/*). */
  internalUrl: text("internal_url").notNull(),
  startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  heartbeatAt: timestamp("heartbeat_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/**
 * Which replica watches which host. A lease is held while expires_at > now(); its owner renews
 * it with each heartbeat and stops acting on the host before it could expire. `epoch` counts the
 * take-overs, so anything stamped with an older epoch is recognisably stale.
 */
export const hostLeases = pgTable(
  "host_leases",
  {
    host: text("host").primaryKey(),
    owner: text("owner"),
    epoch: bigint("epoch", { mode: "number" }).notNull().default(0),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("host_leases_owner_idx").on(t.owner)],
);

/** Bus messages too large for a NOTIFY payload (8 KB); the notification carries the id. Trimmed by age. */
export const clusterOutbox = pgTable(
  "cluster_outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    kind: text("kind").notNull(),
    payload: jsonb("payload").notNull(),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("cluster_outbox_at_idx").on(t.at)],
);

/** Failed sign-ins counted across replicas (SignInLimiter over a table, replica mode). */
export const signInFailures = pgTable(
  "sign_in_failures",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    key: text("key").notNull(),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("sign_in_failures_key_at_idx").on(t.key, t.at)],
);

/** better-auth's rate-limit store (rateLimit storage "database", model `rateLimit`). */
export const rateLimits = pgTable("rate_limits", {
  id: text("id").primaryKey(),
  key: text("key").notNull().unique(),
  count: integer("count").notNull(),
  lastRequest: bigint("last_request", { mode: "number" }).notNull(),
});
