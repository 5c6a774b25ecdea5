import { jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Per-service scaling policies of the swarm (domain/swarm/autoscale.ts: bounds, CPU target over a
 * window, whether to propose or add workers, remove idle ones). The policy is the domain's
 * `ScalingPolicy`, parsed again when read; decisions go to the audit trail, not here.
 */
export const swarmScalingPolicies = pgTable("swarm_scaling_policies", {
  service: text("service").primaryKey(),
  policy: jsonb("policy").notNull(),
  updatedBy: text("updated_by").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});
