import { sql } from "drizzle-orm";
import type { Operation } from "@nimbus/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog, DbOperationStore, HealthHistory, Retention, sqlState, type Database } from "../src/index.js";
import { backend, openTestDatabase } from "../src/testing.js";

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database?.close());

const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();
const rowsOf = <T>(r: unknown) => (r as { rows: T[] }).rows;

/** The store offers no way to date a record; an old one is written as it would have been, by SQL. */
const oldAudit = (days: number, action: string) =>
  database.db.execute(sql`insert into audit_log (at, action, result) values (now() - make_interval(days => ${days}::int), ${action}, 'ok')`);
const auditActions = async () =>
  rowsOf<{ action: string }>(await database.db.execute(sql`select action from audit_log order by id`)).map((r) => r.action);

const op = (id: string, state: Operation["state"], finishedDaysAgo: number | null): Operation => ({
  id, kind: "migrate", state, target: { type: "instance", name: "web-1" }, host: "kvm1", tenant: null, requestedBy: "u", summary: id,
  params: {}, progress: null, steps: [], error: null, createdAt: daysAgo(400), updatedAt: daysAgo(400),
  finishedAt: finishedDaysAgo === null ? null : daysAgo(finishedDaysAgo),
});

describe(`Retention (${backend})`, () => {
  it("removes audit records older than the retention through the trigger, in batches, and keeps the rest", async () => {
    for (const [days, action] of [[400, "old.a"], [380, "old.b"], [370, "old.c"], [300, "kept.old"], [0, "kept.new"]] as const) await oldAudit(days, action);
    const pruned = await new Retention(database.db, { auditDays: 365, healthDays: 90, operationsDays: 90 }, 2).prune();
    expect(pruned.audit).toBe(3);
    expect(await auditActions()).toEqual(["kept.old", "kept.new"]);
    expect((await new AuditLog(database.db).query({}, { limit: 10 })).total).toBe(2);
  });

  it("paced (the running server): the pace's rows a statement, a pause before each one (PGlite holds the event loop for a statement)", async () => {
    for (const [days, action] of [[400, "paced.a"], [390, "paced.b"], [380, "paced.c"]] as const) await oldAudit(days, action);
    let pauses = 0;
    const pace = { sampleRows: 100, rollupRows: 150, deleteRows: 2, pause: async () => void pauses++ };
    const pruned = await new Retention(database.db, { auditDays: 365, healthDays: 90, operationsDays: 90 }, 5_000, pace).prune();
    expect(pruned.audit).toBe(3);
    expect((await auditActions()).filter((a) => a.startsWith("paced."))).toEqual([]);
    // Without the pace: 0. Audit: 2 + 1 rows (two statements), one each for health, operations and events (the metric tables pause between their own statements only).
    expect(pauses).toBeGreaterThanOrEqual(5);
  });

  it("still refuses a DELETE of audit records by any other path, even one that names a recent cut-off", async () => {
    const refused = (statement: ReturnType<typeof sql>) =>
      database.db.transaction(async (tx) => {
        await tx.execute(sql`select set_config('nimbus.audit_prune_before', ${new Date(Date.now() + DAY).toISOString()}, true)`);
        await tx.execute(statement);
      }).then(() => null, (e: unknown) => e);
    expect(sqlState(await refused(sql`delete from audit_log`))).toBe("42501");
    expect(await auditActions()).toEqual(["kept.old", "kept.new"]);
    const error = await database.db.execute(sql`select audit_log_prune(0, 100)`).then(() => null, (e: unknown) => e);
    expect(String((error as { cause?: Error }).cause?.message ?? error)).toContain("at least one day");
    expect(await auditActions()).toEqual(["kept.old", "kept.new"]);
  });

  it("removes old health transitions but keeps each check's latest", async () => {
    const history = new HealthHistory(database.db);
    await history.appendMany([
      { checkId: "host:kvm1", state: "crit", at: daysAgo(200), message: "down" },
      { checkId: "host:kvm1", state: "ok", at: daysAgo(150), message: "up" },
      { checkId: "host:kvm1", state: "warn", at: daysAgo(1), message: "slow" },
      { checkId: "host:kvm2", state: "crit", at: daysAgo(300), message: "down for long" },
      { checkId: "host:kvm2", state: "ok", at: daysAgo(250), message: "up for long" },
    ]);
    const pruned = await new Retention(database.db, { auditDays: 365, healthDays: 90, operationsDays: 90 }).prune();
    expect(pruned.health).toBe(3);
    expect((await history.list("host:kvm1", { limit: 10 })).map((t) => t.message)).toEqual(["slow"]);
    expect((await history.list("host:kvm2", { limit: 10 })).map((t) => t.message)).toEqual(["up for long"]);
  });

  it("removes operations finished before the retention, never unfinished ones", async () => {
    const store = new DbOperationStore(database.db);
    for (const o of [op("done-old", "succeeded", 100), op("failed-old", "failed", 200), op("done-recent", "succeeded", 10), op("stuck", "running", null)]) await store.insert(o);
    const pruned = await new Retention(database.db, { auditDays: 365, healthDays: 90, operationsDays: 90 }).prune();
    expect(pruned.operations).toBe(2);
    expect(await store.get("done-old")).toBeNull();
    expect(await store.get("failed-old")).toBeNull();
    expect(await store.get("done-recent")).not.toBeNull();
    expect(await store.get("stuck")).not.toBeNull();
  });
});
