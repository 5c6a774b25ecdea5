import { sql } from "drizzle-orm";
import { boolean, check, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** A tenant: its own instances, services and one VXLAN VNI that stretches its L2 across hosts. */
export const tenants = pgTable(
  "tenants",
  {
    slug: text("slug").primaryKey(),
    name: text("name").notNull(),
    vni: integer("vni").notNull().unique(),
    /** Whether members may start/stop/reboot their own instances. */
    allowPower: boolean("allow_power").notNull().default(false),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [check("tenants_vni_range", sql`${t.vni} between 1 and 16777215`)],
);

/** Per-tenant quotas an admin set (null = unlimited); a tenant without a row gets the default quota. */
export const tenantQuotas = pgTable(
  "tenant_quotas",
  {
    tenant: text("tenant")
      .primaryKey()
      .references(() => tenants.slug, { onDelete: "cascade" }),
    instances: integer("instances"),
    vcpus: integer("vcpus"),
    memoryMiB: integer("memory_mib"),
    diskGiB: integer("disk_gib"),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    check("tenant_quotas_non_negative", sql`coalesce(${t.instances}, 0) >= 0 and coalesce(${t.vcpus}, 0) >= 0 and coalesce(${t.memoryMiB}, 0) >= 0 and coalesce(${t.diskGiB}, 0) >= 0`),
  ],
);
