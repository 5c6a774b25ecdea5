import { eq } from "drizzle-orm";
import { NimbusError, Quota } from "@nimbus/domain";
import type { Db } from "../open.js";
import { tenantQuotas } from "../schema/index.js";
import { FOREIGN_KEY_VIOLATION, sqlState } from "../errors.js";

/** Quotas admins set per tenant; null when none was set (the caller applies its default). */
export class TenantQuotas {
  constructor(private readonly db: Db) {}

  async get(tenant: string): Promise<Quota | null> {
    const [row] = await this.db.select().from(tenantQuotas).where(eq(tenantQuotas.tenant, tenant));
    return row ? { instances: row.instances, vcpus: row.vcpus, memoryMiB: row.memoryMiB, diskGiB: row.diskGiB } : null;
  }

  async list(): Promise<Map<string, Quota>> {
    const rows = await this.db.select().from(tenantQuotas);
    return new Map(rows.map((r) => [r.tenant, { instances: r.instances, vcpus: r.vcpus, memoryMiB: r.memoryMiB, diskGiB: r.diskGiB }]));
  }

  async set(tenant: string, quota: Quota): Promise<Quota> {
    const q = Quota.parse(quota);
    const values = { tenant, ...q, updatedAt: new Date() };
    try {
      await this.db.insert(tenantQuotas).values(values).onConflictDoUpdate({ target: tenantQuotas.tenant, set: { ...q, updatedAt: values.updatedAt } });
    } catch (e) {
      if (sqlState(e) === FOREIGN_KEY_VIOLATION) throw new NimbusError("NOT_FOUND", `tenant ${tenant} not found`, { tenant });
      throw e;
    }
    return q;
  }
}
