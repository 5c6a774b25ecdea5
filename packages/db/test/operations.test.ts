import type { Operation } from "@nimbus/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DbOperationStore, type Database } from "../src/index.js";
import { backend, openTestDatabase } from "../src/testing.js";

let database: Database;
let store: DbOperationStore;
beforeAll(async () => {
  database = await openTestDatabase();
  store = new DbOperationStore(database.db);
});
afterAll(() => database?.close());

let seq = 0;
const op = (over: Partial<Operation> = {}): Operation => {
  seq++;
  const at = new Date(Date.UTC(2030, 0, 1, 0, 0, seq)).toISOString();
  return {
    id: `op-${seq}`,
    kind: "migrate",
    state: "pending",
    target: { type: "instance", name: "web-1" },
    host: "kvm1",
    tenant: "acme",
    requestedBy: "user-1",
    summary: "Migrate web-1 to kvm2",
    params: { destination: "kvm2", options: { bandwidthMiBps: 100, postCopy: false, tags: ["a", "ü", null] } },
    progress: null,
    steps: [],
    error: null,
    createdAt: at,
    updatedAt: at,
    finishedAt: null,
    ...over,
  };
};

describe(`DbOperationStore (${backend})`, () => {
  it("round-trips an operation, params and progress jsonb included", async () => {
    const o = op({
      state: "running",
      progress: {
        kind: "migrate", phase: "copying", memoryTotalBytes: 2 ** 33, memoryProcessedBytes: 12345, memoryRemainingBytes: 99,
        bandwidthBytesPerSec: 5.5, dirtyRateBytesPerSec: 0, iteration: 3, expectedDowntimeMs: null, percent: 41.5, downtimeMs: null,
      },
    });
    await store.insert(o);
    expect(await store.get(o.id)).toEqual(o);
  });

  it("answers null for an unknown id", async () => {
    expect(await store.get("no-such-op")).toBeNull();
  });

  it("updates state, progress and the finish time", async () => {
    const o = op();
    await store.insert(o);
    const done: Operation = { ...o, state: "failed", error: "destination kvm2 lacks VLAN 20", updatedAt: "2031-01-01T00:00:00.000Z", finishedAt: "2031-01-01T00:00:00.000Z" };
    await store.update(done);
    expect(await store.get(o.id)).toEqual(done);
  });

  it("refuses to update an operation that was never inserted", async () => {
    await expect(store.update(op({ id: "ghost" }))).rejects.toMatchObject({ code: "NOT_FOUND", message: expect.stringContaining("ghost") });
  });

  it("lists only pending and running operations as unfinished, oldest first", async () => {
    const fresh = await openTestDatabase();
    try {
      const s = new DbOperationStore(fresh.db);
      const pending = op({ state: "pending" });
      const running = op({ state: "running" });
      await s.insert(running);
      await s.insert(pending);
      await s.insert(op({ state: "succeeded", finishedAt: "2030-02-01T00:00:00.000Z" }));
      await s.insert(op({ state: "cancelled", finishedAt: "2030-02-01T00:00:00.000Z" }));
      expect((await s.listUnfinished()).map((o) => o.id)).toEqual([pending.id, running.id]);
    } finally {
      await fresh.close();
    }
  });

  it("lists a target's operations newest first, up to the limit", async () => {
    const target = { type: "service" as const, name: "shop" };
    const a = op({ target, kind: "scale" });
    const b = op({ target, kind: "scale" });
    const c = op({ target, kind: "scale" });
    for (const o of [a, b, c]) await store.insert(o);
    await store.insert(op({ target: { type: "service", name: "other" } }));
    expect((await store.list({ limit: 2, target })).map((o) => o.id)).toEqual([c.id, b.id]);
    expect((await store.list({ limit: 100 })).length).toBeGreaterThanOrEqual(4);
  });

  it("lists only the kinds asked for (the moves history: migrations and storage moves)", async () => {
    const target = { type: "instance" as const, name: "moved-1" };
    const move = op({ target, kind: "storage-move", progress: { kind: "storage-move", phase: "copying", mode: "live", bytesTotal: 10, bytesCopied: 4, bandwidthBytesPerSec: 1, percent: 40 } });
    const migration = op({ target, kind: "migrate" });
    for (const o of [move, migration, op({ target, kind: "power" })]) await store.insert(o);
    expect((await store.list({ limit: 10, target, kinds: ["migrate", "storage-move"] })).map((o) => o.id)).toEqual([migration.id, move.id]);
    expect(await store.list({ limit: 10, target, kinds: [] })).toEqual([]);
  });
});
