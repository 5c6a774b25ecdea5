import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tenants, users, type Database } from "../src/index.js";
import { backend, openTestDatabase } from "../src/testing.js";

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database?.close());

// Each test uses its own small pool, so tests do not share VNIs.
const pool = (first: number, last = first + 9) => new Tenants(database.db, { vniPool: { first, last } });

describe(`Tenants (${backend})`, () => {
  it("hands out the lowest free VNI of the pool 5000-5999 by default", async () => {
    const tenants = new Tenants(database.db);
    expect((await tenants.create({ slug: "acme", name: "Acme" })).vni).toBe(5000);
    expect((await tenants.create({ slug: "globex", name: "Globex", allowPower: true })).vni).toBe(5001);
    expect(await tenants.get("globex")).toMatchObject({ name: "Globex", allowPower: true });
  });

  it("accepts an explicit VNI, inside the pool or out of it, and fills gaps around it", async () => {
    const tenants = pool(6000);
    expect((await tenants.create({ slug: "t-explicit", name: "E", vni: 6001 })).vni).toBe(6001);
    expect((await tenants.create({ slug: "t-gap", name: "G" })).vni).toBe(6000);
    expect((await tenants.create({ slug: "t-next", name: "N" })).vni).toBe(6002);
    expect((await tenants.create({ slug: "t-outside", name: "O", vni: 70_000 })).vni).toBe(70_000);
  });

  it("refuses a VNI another tenant holds, naming that tenant", async () => {
    const tenants = pool(6100);
    await tenants.create({ slug: "holder", name: "H", vni: 6105 });
    await expect(tenants.create({ slug: "intruder", name: "I", vni: 6105 })).rejects.toMatchObject({
      code: "CONFLICT",
      message: "VNI 6105 already belongs to tenant holder.",
    });
  });

  it("refuses a duplicate tenant id", async () => {
    const tenants = pool(6200);
    await tenants.create({ slug: "twice", name: "One" });
    await expect(tenants.create({ slug: "twice", name: "Two" })).rejects.toMatchObject({ code: "CONFLICT", message: "Tenant twice already exists." });
  });

  it("reports an exhausted pool", async () => {
    const tenants = pool(6300, 6301);
    await tenants.create({ slug: "full-a", name: "A" });
    await tenants.create({ slug: "full-b", name: "B" });
    await expect(tenants.create({ slug: "full-c", name: "C" })).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringContaining("VNI pool 6300-6301 is exhausted"),
    });
    expect(await tenants.get("full-c")).toBeNull();
  });

  it("gives tenants created at the same time distinct VNIs", async () => {
    const tenants = pool(6400);
    const created = await Promise.all(Array.from({ length: 6 }, (_, i) => tenants.create({ slug: `race-${i}`, name: `R${i}` })));
    expect(new Set(created.map((t) => t.vni)).size).toBe(6);
    expect(created.every((t) => t.vni >= 6400 && t.vni <= 6409)).toBe(true);
  });

  it.each([
    [{ slug: "Bad Slug", name: "x" }, "Invalid tenant id"],
    [{ slug: "ok", name: "   " }, "needs a name"],
    [{ slug: "ok2", name: "x", vni: 0 }, "Invalid VNI"],
    [{ slug: "ok3", name: "x", vni: 16_777_216 }, "Invalid VNI"],
  ])("rejects bad input %j", async (input, message) => {
    await expect(pool(6500).create(input)).rejects.toMatchObject({ code: "BAD_INPUT", message: expect.stringContaining(message) });
  });

  it("updates the name and the power setting", async () => {
    const tenants = pool(6600);
    await tenants.create({ slug: "renamed", name: "Before" });
    expect(await tenants.update("renamed", { name: "After", allowPower: true })).toMatchObject({ name: "After", allowPower: true, vni: 6600 });
    await expect(tenants.update("nobody", { name: "x" })).rejects.toMatchObject({ code: "NOT_FOUND", message: "Tenant nobody does not exist." });
  });

  it("lists tenants and their members", async () => {
    const tenants = pool(6700);
    await tenants.create({ slug: "with-members", name: "W" });
    await database.db.insert(users).values([
      { id: "m1", name: "Mia", email: "mia@w.example", role: "tenant", tenant: "with-members" },
      { id: "m2", name: "Al", email: "al@w.example", role: "tenant", tenant: "with-members" },
      { id: "s1", name: "Staff", email: "staff@w.example", role: "operator", tenant: null },
    ]);
    expect((await tenants.members("with-members")).map((m) => m.name)).toEqual(["Al", "Mia"]);
    expect((await tenants.list()).map((t) => t.slug)).toContain("with-members");
    await expect(tenants.members("nobody")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
