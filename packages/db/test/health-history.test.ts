import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthHistory, HealthHistoryWriter, type Database } from "../src/index.js";
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

  it("records a batch in order, skipping repeats of the recorded state and within the batch", async () => {
    await history.append({ checkId: "batch-a", state: "ok", at: "2030-01-01T00:00:00.000Z", message: "a up" });
    const recorded = await history.appendMany([
      { checkId: "batch-a", state: "ok", at: "2030-01-01T00:01:00.000Z", message: "a still up" },
      { checkId: "batch-a", state: "crit", at: "2030-01-01T00:02:00.000Z", message: "a down" },
      { checkId: "batch-b", state: "warn", at: "2030-01-01T00:02:00.000Z", message: "b slow" },
      { checkId: "batch-b", state: "warn", at: "2030-01-01T00:03:00.000Z", message: "b still slow" },
      { checkId: "batch-a", state: "ok", at: "2030-01-01T00:04:00.000Z", message: "a back" },
    ]);
    expect(recorded).toBe(3);
    expect((await history.list("batch-a", { limit: 10 })).map((t) => t.message)).toEqual(["a back", "a down", "a up"]);
    expect((await history.list("batch-b", { limit: 10 })).map((t) => t.message)).toEqual(["b slow"]);
  });

  it("keeps messages as written (commas, quotes, braces, NULL) and a batch's order at one instant", async () => {
    const at = "2030-01-01T00:00:00.000Z";
    const messages = ['disk 91%, "root" full', "{braces} and \\backslash", "NULL", ""];
    const states = ["warn", "crit", "ok", "unknown"] as const;
    await history.appendMany(messages.map((message, i) => ({ checkId: "odd-text", state: states[i]!, at, message })));
    expect((await history.list("odd-text", { limit: 10 })).map((t) => t.message)).toEqual([...messages].reverse());
  });

  it("records thousands of transitions in one batch (more rows than one statement takes)", async () => {
    const many = Array.from({ length: 2_500 }, (_, i) => ({ checkId: `bulk-${i}`, state: "ok" as const, at: "2030-01-01T00:00:00.000Z", message: "up" }));
    expect(await history.appendMany(many)).toBe(2_500);
    expect(await history.appendMany(many)).toBe(0);
    expect(await history.list("bulk-2499", { limit: 5 })).toHaveLength(1);
  });

  it("a writer batches pushes and records them on flush; a failing batch reaches onError", async () => {
    const errors: unknown[] = [];
    const writer = new HealthHistoryWriter(history, (e) => errors.push(e), 60_000);
    writer.push({ checkId: "w-1", state: "crit", at: "2030-01-01T00:00:00.000Z", message: "down" });
    writer.push({ checkId: "w-1", state: "ok", at: "2030-01-01T00:00:05.000Z", message: "up" });
    expect(await history.list("w-1", { limit: 5 })).toEqual([]);
    await writer.flush();
    expect((await history.list("w-1", { limit: 5 })).map((t) => t.state)).toEqual(["ok", "crit"]);
    // A state the database refuses (its CHECK constraint) fails the batch: reported, not thrown.
    writer.push({ checkId: "w-2", state: "broken" as never, at: "2030-01-01T00:00:00.000Z", message: "?" });
    await writer.flush();
    expect(errors).toHaveLength(1);
  });
});
