import { sql } from "drizzle-orm";
import { bigint, check, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

const at = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/**
 * Every mutation, sign-in and sign-out. Append-only: the stores offer no update or delete, and a
 * trigger (migration 0001) raises on UPDATE, DELETE and TRUNCATE so no other path can either.
 * No foreign key to users: records must outlive the accounts they name.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    at: at("at").notNull().defaultNow(),
    userId: text("user_id"),
    userName: text("user_name"),
    role: text("role"),
    tenant: text("tenant"),
    action: text("action").notNull(),
    target: text("target"),
    /** The input with secrets redacted (see redactSecrets). */
    inputSummary: jsonb("input_summary").notNull().default({}),
    result: text("result").$type<"ok" | "error">().notNull(),
    errorCode: text("error_code"),
    requestId: text("request_id"),
    ip: text("ip"),
  },
  (t) => [
    check("audit_log_result_known", sql`${t.result} in ('ok', 'error')`),
    index("audit_log_at_idx").on(t.at),
    index("audit_log_user_id_idx").on(t.userId),
    index("audit_log_action_idx").on(t.action),
  ],
);

/** Long work (migrate, scale, ...): mirrors the `Operation` schema in @nimbus/domain. */
export const operations = pgTable(
  "operations",
  {
    id: text("id").primaryKey(),
    kind: text("kind").notNull(),
    state: text("state").notNull(),
    targetType: text("target_type").notNull(),
    targetName: text("target_name").notNull(),
    host: text("host").notNull(),
    tenant: text("tenant"),
    requestedBy: text("requested_by").notNull(),
    summary: text("summary").notNull(),
    params: jsonb("params").notNull().default({}),
    progress: jsonb("progress"),
    /** A create's or delete's steps (the task view); [] for other kinds. */
    steps: jsonb("steps").notNull().default([]),
    error: text("error"),
    /** The replica running it (replica mode); null in the embedded single process. */
    replica: text("replica"),
    createdAt: at("created_at").notNull(),
    updatedAt: at("updated_at").notNull(),
    finishedAt: at("finished_at"),
  },
  (t) => [
    index("operations_target_idx").on(t.targetType, t.targetName, t.createdAt),
    index("operations_created_at_idx").on(t.createdAt),
    // Small: only what a restart must reconcile.
    index("operations_unfinished_idx").on(t.state).where(sql`${t.state} in ('pending', 'running')`),
    // Adoption: the unfinished operations a dead replica ran.
    index("operations_replica_unfinished_idx").on(t.replica).where(sql`${t.state} in ('pending', 'running')`),
  ],
);

/** Pinned SSH host keys (trust on first use; an admin accepts a changed key). */
export const hostKeys = pgTable("host_keys", {
  host: text("host").primaryKey(),
  fingerprint: text("fingerprint").notNull(),
  key: text("key").notNull(),
  acceptedAt: at("accepted_at").notNull().defaultNow(),
  acceptedBy: text("accepted_by"),
});

/** Hosts an operator put in maintenance: out of placement until they exit it, across restarts. */
export const hostMaintenance = pgTable("host_maintenance", {
  host: text("host").primaryKey(),
  since: at("since").notNull().defaultNow(),
});

/** State transitions of health checks, so the health page can say "since when" after a restart. */
export const healthHistory = pgTable(
  "health_history",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    checkId: text("check_id").notNull(),
    state: text("state").notNull(),
    at: at("at").notNull(),
    message: text("message").notNull(),
  },
  (t) => [
    check("health_history_state_known", sql`${t.state} in ('ok', 'warn', 'crit', 'unknown')`),
    index("health_history_check_idx").on(t.checkId, t.at),
  ],
);

/** Failing health checks someone is on: kept across restarts, removed when the check recovers or the ack is taken back. */
export const healthAcks = pgTable("health_acks", {
  checkId: text("check_id").primaryKey(),
  by: text("by").notNull(),
  at: at("at").notNull(),
  note: text("note"),
});
