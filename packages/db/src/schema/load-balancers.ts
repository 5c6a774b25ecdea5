import { sql } from "drizzle-orm";
import { check, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Load balancers Nimbus manages: the spec an admin or operator saved (validated by the domain's
 * LoadBalancerSpec before it is stored) and the hash of the configuration last applied, so the
 * page can tell "applied" from "changed since" after a restart.
 */
export const loadBalancers = pgTable(
  "load_balancers",
  {
    name: text("name").primaryKey(),
    edgeHost: text("edge_host").notNull(),
    spec: jsonb("spec").notNull(),
    appliedHash: text("applied_hash"),
    /** What the last apply sent the agent (servers resolved then), to tell when the swarm moved on. */
    applied: jsonb("applied"),
    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [check("load_balancers_name", sql`${t.name} ~ '^[a-z][a-z0-9-]{0,31}$'`)],
);
