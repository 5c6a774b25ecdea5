import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthHistory, type Database } from "../src/index.js";
import { backend, openTestDatabase } from "../src/testing.js";

let database: Database;
let history: HealthHistory;
beforeAll(async () => {
  database = await openTestDatabase();
  history = new HealthHistory(database.db);
});
afterAll(() => database?.close());

describe(`HealthHistory (${backend})`, () => {
  it("records transitions and lists them newest first, per check", async () => {
    expect(await history.append({ checkId: "vip", state: "ok", at: "2030-01-01T00:00:00.000Z", message: "VIP on nfs1" })).toBe(true);
    expect(await history.append({ checkId: "vip", state: "crit", at: "2030-01-01T00:05:00.000Z", message: "VIP missing" })).toBe(true);
    await history.append({ checkId: "other", state: "warn", at: "2030-01-01T00:06:00.000Z", message: "x" });
    expect(await history.list("vip", { limit: 10 })).toEqual([
      { checkId: "vip", state: "crit", at: "2030-01-01T00:05:00.000Z", message: "VIP missing" },
      { checkId: "vip", state: "ok", at: "2030-01-01T00:00:00.000Z", message: "VIP on nfs1" },
    ]);
  });

  it("skips a report that repeats the last recorded state", async () => {
    await history.append({ checkId: "agent-kvm1", state: "ok", at: "2030-01-01T00:00:00.000Z", message: "up" });
    expect(await history.append({ checkId: "agent-kvm1", state: "ok", at: "2030-01-02T00:00:00.000Z", message: "up after restart" })).toBe(false);
    expect(await history.list("agent-kvm1", { limit: 10 })).toHaveLength(1);
  });
});
