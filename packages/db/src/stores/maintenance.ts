import { asc, eq } from "drizzle-orm";
import type { Db } from "../open.js";
import { hostMaintenance } from "../schema/index.js";

/** Hosts in maintenance. Implements `MaintenanceFlagStore` from @nimbus/fleet. */
export class DbMaintenanceFlags {
  constructor(private readonly db: Db) {}

  async list(): Promise<string[]> {
    const rows = await this.db.select({ host: hostMaintenance.host }).from(hostMaintenance).orderBy(asc(hostMaintenance.host));
    return rows.map((r) => r.host);
  }

  /** Idempotent: setting a flag that is already set keeps its original `since`. */
  async set(host: string, on: boolean): Promise<void> {
    if (on) await this.db.insert(hostMaintenance).values({ host }).onConflictDoNothing();
    else await this.db.delete(hostMaintenance).where(eq(hostMaintenance.host, host));
  }

  /** When each host entered maintenance. */
  async since(): Promise<Map<string, string>> {
    const rows = await this.db.select().from(hostMaintenance);
    return new Map(rows.map((r) => [r.host, r.since.toISOString()]));
  }
}
