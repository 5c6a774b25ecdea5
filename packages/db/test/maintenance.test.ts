import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DbMaintenanceFlags, type Database } from "../src/index.js";
import { backend, openTestDatabase } from "../src/testing.js";

let database: Database;
let flags: DbMaintenanceFlags;
beforeAll(async () => {
  database = await openTestDatabase();
  flags = new DbMaintenanceFlags(database.db);
});
afterAll(() => database?.close());

describe(`DbMaintenanceFlags (${backend})`, () => {
  it("starts with no host in maintenance", async () => {
    expect(await flags.list()).toEqual([]);
  });

  it("records hosts entering maintenance, keeping when each did across repeats", async () => {
    await flags.set("kvm2", true);
    await flags.set("kvm1", true);
    const since = (await flags.since()).get("kvm2");
    await flags.set("kvm2", true);
    expect(await flags.list()).toEqual(["kvm1", "kvm2"]);
    expect((await flags.since()).get("kvm2")).toBe(since);
  });

  it("forgets a host that exits maintenance; exiting twice is harmless", async () => {
    await flags.set("kvm1", false);
    await flags.set("kvm1", false);
    expect(await flags.list()).toEqual(["kvm2"]);
  });
});
