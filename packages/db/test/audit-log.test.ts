import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog, REDACTED, sqlState, type AuditEntry, type Database } from "../src/index.js";
import { backend, openTestDatabase } from "../src/testing.js";

let database: Database;
let audit: AuditLog;
beforeAll(async () => {
  database = await openTestDatabase();
  audit = new AuditLog(database.db);
  for (const e of seed) await audit.append(e);
});
afterAll(() => database?.close());

async function collect(chunks: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

const entry = (over: Partial<AuditEntry>): AuditEntry => ({
  userId: "u-admin", userName: "Ada Admin", role: "admin", tenant: null, action: "instances.migrate", target: "web-1",
  input: {}, result: "ok", requestId: "req-1", ip: "127.0.0.1", ...over,
});
const seed: AuditEntry[] = [
  entry({ action: "auth.sign-in", target: "ada@nimbus.local", input: { email: "ada@nimbus.local", password: "hunter22" } }),
  entry({ action: "instances.migrate", target: "web-1", input: { destination: "kvm2" } }),
  entry({ userId: "u-op", userName: "Otto Operator", role: "operator", action: "services.scale", target: "shop_web", input: { replicas: 3 } }),
  entry({ userId: null, userName: "mallory@example.com", role: null, action: "auth.sign-in", target: "mallory@example.com", result: "error", errorCode: "INVALID_EMAIL_OR_PASSWORD" }),
  entry({ action: "instances.migrate", target: "db_100%", input: { destination: "kvm1" }, result: "error", errorCode: "PRECONDITION_FAILED" }),
];

describe(`AuditLog (${backend})`, () => {
  it("stores the input with secrets redacted", async () => {
    const { records } = await audit.query({ action: "auth.sign-in", result: "ok" }, { limit: 10 });
    expect(records).toHaveLength(1);
    expect(records[0]!.inputSummary).toEqual({ email: "ada@nimbus.local", password: REDACTED });
  });

  it("stamps records with the database's clock", async () => {
    const before = Date.now() - 60_000;
    const r = await audit.append(entry({ action: "clock.check" }));
    expect(Date.parse(r.at)).toBeGreaterThan(before);
  });

  it("filters by user name (part, any case) and by user id", async () => {
    const byName = await audit.query({ user: "otto" }, { limit: 10 });
    expect(byName.records.map((r) => r.action)).toEqual(["services.scale"]);
    const byId = await audit.query({ userId: "u-op" }, { limit: 10 });
    expect(byId.records.map((r) => r.target)).toEqual(["shop_web"]);
  });

  it("filters by action and result", async () => {
    const failedSignIns = await audit.query({ action: "auth.sign-in", result: "error" }, { limit: 10 });
    expect(failedSignIns.records.map((r) => r.userName)).toEqual(["mallory@example.com"]);
    expect(failedSignIns.records[0]!.errorCode).toBe("INVALID_EMAIL_OR_PASSWORD");
  });

  it("filters by part of the target, with % and _ taken literally", async () => {
    expect((await audit.query({ target: "DB_100%" }, { limit: 10 })).records.map((r) => r.target)).toEqual(["db_100%"]);
    expect((await audit.query({ target: "b_1" }, { limit: 10 })).records.map((r) => r.target)).toEqual(["db_100%"]);
    expect((await audit.query({ target: "web%1" }, { limit: 10 })).records).toEqual([]);
  });

  it("filters by time range", async () => {
    const all = await audit.query({}, { limit: 1000 });
    const future = new Date(Date.now() + 3_600_000);
    expect((await audit.query({ from: future }, { limit: 10 })).records).toEqual([]);
    expect((await audit.query({ to: future }, { limit: 1000 })).records).toHaveLength(all.records.length);
    const oldest = all.records[all.records.length - 1]!;
    expect((await audit.query({ to: oldest.at }, { limit: 10 })).records).toEqual([]);
  });

  it("pages newest first with a cursor until the end", async () => {
    const seen: number[] = [];
    let before: number | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<AuditLog["query"]>> = await audit.query({}, { limit: 2, before });
      seen.push(...page.records.map((r) => r.id));
      before = page.nextCursor;
      pages++;
    } while (before !== null);
    const all = (await audit.query({}, { limit: 1000 })).records.map((r) => r.id);
    expect(seen).toEqual(all);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    expect(pages).toBe(Math.ceil(all.length / 2));
  });

  it("pages by offset and counts every match", async () => {
    const first = await audit.query({ action: "instances.migrate" }, { limit: 1 });
    const second = await audit.query({ action: "instances.migrate" }, { limit: 1, offset: 1 });
    expect(first.total).toBe(2);
    expect(second.total).toBe(2);
    expect(second.records[0]!.id).toBeLessThan(first.records[0]!.id);
    expect((await audit.query({ action: "instances.migrate" }, { limit: 1, offset: 2 })).records).toEqual([]);
  });

  it("exports the filtered records as CSV", async () => {
    const csv = (await collect(audit.exportCsv({ action: "instances.migrate" }))).join("");
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]).toBe("id,at,user_id,user_name,role,tenant,action,target,result,error_code,request_id,ip,input");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(',"{""destination"":""kvm1""}"');
  });

  it("streams a large export in batches, reading the next only when asked", async () => {
    await database.db.execute(sql`insert into audit_log (action, result, target) select 'bulk.export', 'ok', 'row-' || n from generate_series(1, 1200) n`);
    const chunks = audit.exportCsv({ action: "bulk.export" });
    expect((await chunks.next()).value).toMatch(/^id,at,/);
    const first = (await chunks.next()).value as string;
    expect(first.trimEnd().split("\r\n")).toHaveLength(500);
    expect(first).toContain(",row-1200,");
    const rest = (await collect(chunks)).join("");
    expect(rest.trimEnd().split("\r\n")).toHaveLength(700);
    expect(rest).toContain(",row-1,");
  });

  it("cuts a huge user name, target and input when it stores them", async () => {
    const wide = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, "v".repeat(20)]));
    const r = await audit.append(entry({ action: "hostile.append", userName: "u".repeat(1_000_000), target: "n".repeat(1_000_000), input: { name: "n".repeat(1_000_000), wide } }));
    expect(r.target!.length).toBeLessThanOrEqual(201);
    expect(r.userName!.length).toBeLessThanOrEqual(201);
    expect(JSON.stringify(r.inputSummary).length).toBeLessThan(10_000);
  });

  it("reads rows stored whole before the bounds were added as cut, in pages and exports", async () => {
    const huge = JSON.stringify({ name: "n".repeat(200_000) });
    await database.db.execute(sql`insert into audit_log (action, result, target, input_summary) values ('legacy.huge', 'error', ${"t".repeat(1_000_000)}, ${huge}::jsonb)`);
    const [record] = (await audit.query({ action: "legacy.huge" }, { limit: 10 })).records;
    expect(record!.target!.length).toBe(201);
    expect(JSON.stringify(record!.inputSummary).length).toBeLessThan(100);
    const csv = (await collect(audit.exportCsv({ action: "legacy.huge" }))).join("");
    expect(csv.length).toBeLessThan(1000);
  });

  it.each([
    ["UPDATE", sql`update audit_log set result = 'ok'`],
    ["DELETE", sql`delete from audit_log`],
    ["TRUNCATE", sql`truncate audit_log`],
  ])("refuses %s in the database itself", async (verb, statement) => {
    const error = await database.db.execute(statement).then(() => null, (e: unknown) => e);
    expect(sqlState(error)).toBe("42501");
    expect(String((error as { cause?: Error }).cause?.message ?? error)).toContain(`audit_log is append-only: ${verb}`);
    expect((await audit.query({ result: "error", action: "auth.sign-in" }, { limit: 10 })).records.length).toBe(1);
  });

  it("offers no way to change or remove a record", () => {
    const methods = Object.getOwnPropertyNames(AuditLog.prototype).filter((m) => m !== "constructor").sort();
    expect(methods).toEqual(["append", "exportCsv", "query"]);
  });
});
