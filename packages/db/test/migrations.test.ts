import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, Tenants } from "../src/index.js";
import { backend, createTestTarget, type TestTarget } from "../src/testing.js";

const rowsOf = <T>(r: unknown) => (r as { rows: T[] }).rows;

describe(`migrations (${backend})`, () => {
  let target: TestTarget | undefined;
  afterEach(async () => {
    await target?.remove();
    target = undefined;
  });

  it("creates every table on an empty database", async () => {
    target = await createTestTarget({ empty: true });
    const database = await openDatabase(target.options);
    try {
      const tables = rowsOf<{ table_name: string }>(
        await database.db.execute(sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`),
      ).map((r) => r.table_name);
      expect(tables).toEqual([
        "accounts", "alert_channels", "alert_deliveries", "alert_rules", "alert_silences", "alerts", "audit_log", "cluster_outbox", "cluster_replicas", "health_acks", "health_history", "history_events", "host_keys", "host_leases", "host_maintenance", "load_balancers", "metric_rollups", "metric_samples", "operations", "rate_limits", "sessions", "sign_in_failures", "swarm_scaling_policies", "tenant_quotas", "tenants", "users", "verifications",
      ]);
      const triggers = rowsOf<{ tgname: string }>(
        await database.db.execute(sql`select tgname from pg_trigger where tgrelid = 'audit_log'::regclass and not tgisinternal order by tgname`),
      ).map((r) => r.tgname);
      expect(triggers).toEqual(["audit_log_no_truncate", "audit_log_no_update_or_delete"]);
    } finally {
      await database.close();
    }
  });

  it("reopening applies nothing twice and keeps the data", async () => {
    target = await createTestTarget({ empty: true });
    const first = await openDatabase(target.options);
    await new Tenants(first.db).create({ slug: "acme", name: "Acme" });
    const applied = await migrationCount(first);
    await first.close();

    const second = await openDatabase(target.options);
    try {
      expect(await migrationCount(second)).toBe(applied);
      expect(applied).toBeGreaterThanOrEqual(2);
      expect(await new Tenants(second.db).get("acme")).toMatchObject({ slug: "acme", vni: 5000 });
    } finally {
      await second.close();
    }
  });
});

async function migrationCount(database: { db: { execute: (q: ReturnType<typeof sql>) => Promise<unknown> } }) {
  const [row] = rowsOf<{ n: number | string }>(await database.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`));
  return Number(row!.n);
}
