import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthRows, type Database } from "../src/index.js";
import { backend, openTestDatabase } from "../src/testing.js";

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database?.close());

const rowsOf = <T>(r: unknown) => (r as { rows: T[] }).rows;
const keys = async (table: "rate_limits" | "sign_in_failures") =>
  rowsOf<{ key: string }>(await database.db.execute(sql`select key from ${sql.identifier(table)} order by key`)).map((r) => r.key);
const NOW = Date.UTC(2026, 0, 1, 12);

describe(`AuthRows (${backend})`, () => {
  it("removes request counters from many addresses once their window is over, a bounded number per round, and keeps live ones", async () => {
    // 1,000 addresses that came once and left (two minutes ago), 3 still counting.
    await database.db.execute(sql`insert into rate_limits (id, key, count, last_request)
      select 'old-' || i, '10.0.' || (i / 250) || '.' || (i % 250) || '/sign-in/email', 1, ${NOW - 120_000}::bigint from generate_series(0, 999) i`);
    await database.db.execute(sql`insert into rate_limits (id, key, count, last_request) values
      ('live-1', '192.0.2.1/sign-in/email', 5, ${NOW - 1_000}::bigint), ('live-2', '192.0.2.2/get-session', 1, ${NOW}::bigint), ('live-3', '192.0.2.3/sign-in/email', 1, ${NOW - 59_000}::bigint)`);
    const rows = new AuthRows(database.db, 300, 2);
    const cut = { rateLimitsBefore: NOW - 60_000, signInFailuresBefore: new Date(NOW - 900_000), expiredBefore: new Date(NOW) };
    // At most 2 statements of 300 per round: the rest waits for the next round.
    expect((await rows.prune(cut)).rateLimits).toBe(600);
    expect((await keys("rate_limits")).length).toBe(403);
    expect((await rows.prune(cut)).rateLimits).toBe(400);
    expect(await keys("rate_limits")).toEqual(["192.0.2.1/sign-in/email", "192.0.2.2/get-session", "192.0.2.3/sign-in/email"]);
    expect((await rows.prune(cut)).rateLimits).toBe(0);
  });

  it("removes failed sign-ins older than the longest window whatever their key, expired sessions and verifications; keeps the rest", async () => {
    await database.db.execute(sql`insert into sign_in_failures (key, at)
      select 'email:guess' || i || '@x|203.0.113.' || (i % 200), ${new Date(NOW - 3_600_000).toISOString()}::timestamptz from generate_series(1, 500) i`);
    await database.db.execute(sql`insert into sign_in_failures (key, at) values ('ip:203.0.113.9', ${new Date(NOW - 60_000).toISOString()}::timestamptz)`);
    await database.db.execute(sql`insert into users (id, name, email, email_verified, role, created_at, updated_at) values ('u1', 'U', 'u@x', false, 'operator', now(), now())`);
    await database.db.execute(sql`insert into sessions (id, token, user_id, expires_at, created_at, updated_at) values
      ('s-old', 't-old', 'u1', ${new Date(NOW - 1_000).toISOString()}::timestamptz, now(), now()),
      ('s-live', 't-live', 'u1', ${new Date(NOW + 3_600_000).toISOString()}::timestamptz, now(), now())`);
    await database.db.execute(sql`insert into verifications (id, identifier, value, expires_at) values
      ('v-old', 'a', 'x', ${new Date(NOW - 1_000).toISOString()}::timestamptz), ('v-live', 'b', 'y', ${new Date(NOW + 1_000).toISOString()}::timestamptz)`);
    const pruned = await new AuthRows(database.db, 200, 10).prune({ rateLimitsBefore: NOW - 60_000, signInFailuresBefore: new Date(NOW - 900_000), expiredBefore: new Date(NOW) });
    expect(pruned).toEqual({ rateLimits: 0, signInFailures: 500, sessions: 1, verifications: 1 });
    expect(await keys("sign_in_failures")).toEqual(["ip:203.0.113.9"]);
    expect(rowsOf<{ id: string }>(await database.db.execute(sql`select id from sessions`)).map((r) => r.id)).toEqual(["s-live"]);
    expect(rowsOf<{ id: string }>(await database.db.execute(sql`select id from verifications`)).map((r) => r.id)).toEqual(["v-live"]);
  });
});

describe(`DbRateWindow (${backend}): one limit for every replica`, () => {
  it("calls from one address spread over two replicas meet one limit; another address counts alone; a window that ended starts again; no database: refused", async () => {
    const { DbRateWindow } = await import("../src/index.js");
    const r1 = new DbRateWindow(database.db, 3, 60_000, "anon-audit");
    const r2 = new DbRateWindow(database.db, 3, 60_000, "anon-audit");
    const taken = [await r1.take("198.51.100.7"), await r2.take("198.51.100.7"), await r1.take("198.51.100.7"), await r2.take("198.51.100.7"), await r1.take("198.51.100.7")];
    expect(taken).toEqual([true, true, true, false, false]);
    expect(await r2.take("198.51.100.8")).toBe(true);
    // The window ended (its row's start a minute and more ago): counting starts over.
    await database.db.execute(sql`update rate_limits set last_request = last_request - 61000 where key = 'anon-audit:198.51.100.7'`);
    expect(await r2.take("198.51.100.7")).toBe(true);
    expect(rowsOf<{ count: number }>(await database.db.execute(sql`select count from rate_limits where key = 'anon-audit:198.51.100.7'`))[0]!.count).toBe(1);
    // A hostile key is cut, not stored whole.
    expect(await r1.take("x".repeat(5_000))).toBe(true);
    expect(Math.max(...(await keys("rate_limits")).map((k) => k.length))).toBeLessThanOrEqual(300);
    const errors: unknown[] = [];
    const broken = new DbRateWindow({ execute: async () => Promise.reject(new Error("connection refused")) } as never, 3, 60_000, "anon-audit", (e) => errors.push(e));
    expect(await broken.take("198.51.100.9")).toBe(false);
    expect(errors).toHaveLength(1);
  });
});
