import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthAcks, type Database } from "../src/index.js";
import { backend, openTestDatabase } from "../src/testing.js";

let database: Database;
let acks: HealthAcks;
beforeAll(async () => {
  database = await openTestDatabase();
  acks = new HealthAcks(database.db);
});
afterAll(() => database?.close());

describe(`HealthAcks (${backend})`, () => {
  it("keeps who acknowledged a check, when, and the note", async () => {
    await acks.put("host:kvm2", { by: "Olga", at: "2026-01-01T00:00:05.000Z", note: "switch port being replaced" });
    await acks.put("storage:vip", { by: "Otto", at: "2026-01-01T00:01:00.000Z" });
    expect(await acks.all()).toEqual(
      new Map([
        ["host:kvm2", { by: "Olga", at: "2026-01-01T00:00:05.000Z", note: "switch port being replaced" }],
        ["storage:vip", { by: "Otto", at: "2026-01-01T00:01:00.000Z" }],
      ]),
    );
  });

  it("replaces an older acknowledgement of the same check", async () => {
    await acks.put("host:kvm2", { by: "Ada", at: "2026-01-01T00:02:00.000Z" });
    expect((await acks.all()).get("host:kvm2")).toEqual({ by: "Ada", at: "2026-01-01T00:02:00.000Z" });
  });

  it("forgets a check's acknowledgement when it is taken back; twice is harmless", async () => {
    await acks.remove("host:kvm2");
    await acks.remove("host:kvm2");
    expect([...(await acks.all()).keys()]).toEqual(["storage:vip"]);
  });
});
