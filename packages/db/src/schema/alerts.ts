import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

const at = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** Alert rules (the shipped defaults are seeded once; admins edit them). Mirrors `AlertRule` in @nimbus/domain. */
export const alertRules = pgTable("alert_rules", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  enabled: boolean("enabled").notNull(),
  severity: text("severity").notNull(),
  forSeconds: integer("for_seconds").notNull(),
  condition: jsonb("condition").notNull(),
  channels: jsonb("channels").$type<string[]>().notNull().default([]),
  escalation: jsonb("escalation"),
  updatedBy: text("updated_by"),
  updatedAt: at("updated_at").notNull().defaultNow(),
});

/**
 * Where notifications go: a webhook (URL; `secret` is its HMAC key) or email (SMTP settings and
 * recipients; `secret` is the SMTP password). The secret never leaves the server through the API.
 */
export const alertChannels = pgTable(
  "alert_channels",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    kind: text("kind").$type<"webhook" | "email">().notNull(),
    enabled: boolean("enabled").notNull().default(true),
    config: jsonb("config").notNull(),
    secret: text("secret"),
    createdAt: at("created_at").notNull().defaultNow(),
    updatedAt: at("updated_at").notNull().defaultNow(),
  },
  (t) => [check("alert_channels_kind_known", sql`${t.kind} in ('webhook', 'email')`)],
);

/** Every alert that fired: one row per firing, resolved when its condition cleared; acks and escalations on the row. */
export const alerts = pgTable(
  "alerts",
  {
    id: text("id").primaryKey(),
    /** `<rule>|<subject>`: at most one unresolved row per key. */
    key: text("key").notNull(),
    ruleId: text("rule_id").notNull(),
    ruleName: text("rule_name").notNull(),
    severity: text("severity").notNull(),
    subject: text("subject").notNull(),
    category: text("category").notNull(),
    target: text("target").notNull(),
    message: text("message").notNull(),
    affects: jsonb("affects").$type<string[]>().notNull().default([]),
    tenants: jsonb("tenants").$type<string[]>().notNull().default([]),
    link: text("link").notNull(),
    since: at("since").notNull(),
    firedAt: at("fired_at").notNull(),
    resolvedAt: at("resolved_at"),
    ackBy: text("ack_by"),
    ackAt: at("ack_at"),
    ackNote: text("ack_note"),
    escalatedAt: at("escalated_at"),
  },
  (t) => [uniqueIndex("alerts_open_key_idx").on(t.key).where(sql`${t.resolvedAt} is null`), index("alerts_fired_at_idx").on(t.firedAt)],
);

/** Mute alerts matching a check pattern and/or labels until `ends_at` (ending one early moves `ends_at`). */
export const alertSilences = pgTable(
  "alert_silences",
  {
    id: text("id").primaryKey(),
    checks: text("checks"),
    labels: jsonb("labels").$type<Record<string, string>>().notNull().default({}),
    startsAt: at("starts_at").notNull(),
    endsAt: at("ends_at").notNull(),
    createdBy: text("created_by").notNull(),
    comment: text("comment").notNull().default(""),
  },
  (t) => [index("alert_silences_ends_at_idx").on(t.endsAt)],
);

/** Each attempt to deliver a notification: channel, attempt number, outcome and HTTP status (webhooks). */
export const alertDeliveries = pgTable(
  "alert_deliveries",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    at: at("at").notNull().defaultNow(),
    alertId: text("alert_id").notNull(),
    alertKey: text("alert_key").notNull(),
    channelId: text("channel_id").notNull(),
    event: text("event").notNull(),
    attempt: integer("attempt").notNull(),
    status: text("status").$type<"ok" | "retrying" | "failed">().notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
  },
  (t) => [index("alert_deliveries_at_idx").on(t.at), index("alert_deliveries_channel_idx").on(t.channelId)],
);
