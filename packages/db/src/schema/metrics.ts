import { sql } from "drizzle-orm";
import { bigint, check, customType, index, integer, pgTable, primaryKey, real, text, timestamp } from "drizzle-orm/pg-core";

const at = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const bytea = customType<{ data: Uint8Array }>({ dataType: () => "bytea" });

/**
 * Metric samples at full resolution (every 10 s), kept 24 h. One row per object and 5-minute
 * bucket (the writer keeps a bucket's samples in memory until it closes): the first sample's
 * instant, each sample's offset from it in ms, and the values as a sample x metric matrix of
 * little-endian float4 (NaN: unknown), row by row in the order `METRICS[kind]` names them
 * (domain/metrics), so new metrics go at the end and older rows keep their meaning; a row's width
 * is its bytes / 4 / its samples. Bytes, not real[]: PostgreSQL parsed ~6 million float4 literals
 * per bucket at 2,000 hosts x 10 VMs (~5 s of PGlite's CPU); one row per sample was 22,000 rows
 * every 10 s. Charts decode the few hundred rows they read (`MetricStore.series`).
 */
export const metricChunks = pgTable(
  "metric_chunks",
  {
    /** "host:kvm1", "instance:web-1", "datastore:/instance", "service:web". */
    object: text("object").notNull(),
    at: at("at").notNull(),
    dt: integer("dt").array().notNull(),
    v: bytea("v").notNull(),
  },
  (t) => [primaryKey({ columns: [t.object, t.at] }), index("metric_chunks_at_idx").on(t.at)],
);

/** 5-minute rollups of the samples (mean and maximum per metric, and how many samples), kept 30 days. */
export const metricRollups = pgTable(
  "metric_rollups",
  {
    object: text("object").notNull(),
    bucket: at("bucket").notNull(),
    n: integer("n").notNull(),
    avg: real("avg").array().notNull(),
    max: real("max").array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.object, t.bucket] }), index("metric_rollups_bucket_idx").on(t.bucket)],
);

/**
 * What the health timeline shows beside the health transitions: acknowledgements given and taken
 * back (health_acks keeps only the current one), and the NFS VIP's holder changes with their cause.
 */
export const historyEvents = pgTable(
  "history_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    at: at("at").notNull(),
    kind: text("kind").notNull(),
    /** The check id (acks) or the VIP address. */
    subject: text("subject").notNull(),
    /** Who acknowledged; the new VIP holder. */
    actor: text("actor"),
    /** The VIP's holder before. */
    previous: text("previous"),
    /** The ack's note; the cause of a VIP change. */
    detail: text("detail").notNull(),
  },
  (t) => [
    check("history_events_kind_known", sql`${t.kind} in ('ack', 'unack', 'vip-lost', 'vip-held')`),
    index("history_events_subject_idx").on(t.subject, t.at),
    index("history_events_at_idx").on(t.at),
  ],
);
