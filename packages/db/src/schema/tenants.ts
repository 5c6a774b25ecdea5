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
