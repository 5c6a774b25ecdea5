import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { MetricStore, openDatabase, Tenants } from "../src/index.js";
import { backend, createTestTarget, tempDir, type TestTarget } from "../src/testing.js";

/** A copy of the migrations up to (and with) `lastTag`, as an older release shipped them. */
function migrationsUpTo(lastTag: string): { folder: string; remove(): void } {
  const source = fileURLToPath(new URL("../drizzle", import.meta.url));
  const dir = tempDir("migrations");
  fs.mkdirSync(path.join(dir, "meta"));
  const journal = JSON.parse(fs.readFileSync(path.join(source, "meta", "_journal.json"), "utf8")) as { entries: { tag: string }[] };
  const upTo = journal.entries.findIndex((e) => e.tag === lastTag);
  if (upTo < 0) throw new Error(`no migration ${lastTag}`);
  journal.entries = journal.entries.slice(0, upTo + 1);
  for (const e of journal.entries) fs.copyFileSync(path.join(source, `${e.tag}.sql`), path.join(dir, `${e.tag}.sql`));
  fs.writeFileSync(path.join(dir, "meta", "_journal.json"), JSON.stringify(journal));
  return { folder: dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

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
        "accounts", "alert_channels", "alert_deliveries", "alert_rules", "alert_silences", "alerts", "audit_log", "cluster_outbox", "cluster_replicas", "health_acks", "health_history", "history_events", "host_keys", "host_leases", "host_maintenance", "load_balancers", "metric_chunks", "metric_rollups", "operations", "rate_limits", "sessions", "sign_in_failures", "swarm_scaling_policies", "tenant_quotas", "tenants", "users", "verifications",
      ]);
      const triggers = rowsOf<{ tgname: string }>(
        await database.db.execute(sql`select tgname from pg_trigger where tgrelid = 'audit_log'::regclass and not tgisinternal order by tgname`),
      ).map((r) => r.tgname);
      expect(triggers).toEqual(["audit_log_no_truncate", "audit_log_no_update_or_delete"]);
    } finally {
      await database.close();
    }
  });

  // One cluster for both (an empty one costs an initdb): an older release's database upgraded, then reopened.
  it("upgrades a database with per-sample metric rows (old samples go, rollups stay), and reopening applies nothing twice and keeps the data", async () => {
    target = await createTestTarget({ empty: true });
    const old = migrationsUpTo("0010_cluster");
    const bucket = Date.parse("2030-05-01T00:00:00Z");
    try {
      const first = await openDatabase({ ...target.options, migrationsFolder: old.folder });
      await new Tenants(first.db).create({ slug: "acme", name: "Acme" });
      await first.db.execute(sql`insert into metric_samples (object, at, v) values ('host:kvm1', ${new Date(bucket)}, '{1,2,3}'), ('host:kvm1', ${new Date(bucket + 10_000)}, '{4,5,6}')`);
      await first.db.execute(sql`insert into metric_rollups (object, bucket, n, avg, max) values ('host:kvm1', ${new Date(bucket)}, 30, '{12.5,2,3}', '{40,2,3}')`);
      const applied = await migrationCount(first);
      await first.close();

      const upgraded = await openDatabase(target.options);
      expect(await migrationCount(upgraded)).toBe(applied + 1);
      const tables = rowsOf<{ t: string }>(await upgraded.db.execute(sql`select table_name as t from information_schema.tables where table_name like 'metric_%' order by 1`)).map((r) => r.t);
      expect(tables).toEqual(["metric_chunks", "metric_rollups"]);
      const store = new MetricStore(upgraded.db);
      expect(await store.series("host:kvm1", 0, { from: bucket, to: bucket + 600_000 }, "5m", 300_000)).toEqual([{ t: bucket, avg: 12.5, max: 40, n: 30 }]);
      // New samples are written and read in the new layout.
      await store.writeSamples([{ object: "host:kvm1", at: bucket + 20_000, values: [7, 8, 9] }]);
      await upgraded.close();

      const second = await openDatabase(target.options);
      try {
        expect(await migrationCount(second)).toBe(applied + 1);
        expect(applied).toBeGreaterThanOrEqual(2);
        expect(await new Tenants(second.db).get("acme")).toMatchObject({ slug: "acme", vni: 5000 });
        expect(await new MetricStore(second.db).series("host:kvm1", 2, { from: bucket, to: bucket + 600_000 }, "raw", 10_000)).toEqual([{ t: bucket + 20_000, avg: 9, max: 9, n: 1 }]);
      } finally {
        await second.close();
      }
    } finally {
      old.remove();
    }
  });
});

async function migrationCount(database: { db: { execute: (q: ReturnType<typeof sql>) => Promise<unknown> } }) {
  const [row] = rowsOf<{ n: number | string }>(await database.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`));
  return Number(row!.n);
}
