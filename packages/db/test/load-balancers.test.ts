import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoadBalancerSpec } from "@nimbus/domain";
import { LoadBalancerStore, type Database } from "../src/index.js";
import { backend, openTestDatabase } from "../src/testing.js";

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database?.close());

const spec = (name: string, port = 80) =>
  LoadBalancerSpec.parse({ name, edgeHost: "manager", bind: { address: "0.0.0.0", port }, target: { kind: "service", service: "web" } });

describe(`LoadBalancerStore (${backend})`, () => {
  it("inserts, lists by name, updates and deletes a spec; a taken name is a conflict, a missing one not found", async () => {
    const store = new LoadBalancerStore(database.db);
    await store.insert(spec("shop"), "admin");
    await store.insert(spec("api"), "op");
    expect((await store.list()).map((l) => l.spec.name)).toEqual(["api", "shop"]);
    await expect(store.insert(spec("shop"), "admin")).rejects.toMatchObject({ code: "CONFLICT" });
    const updated = await store.update(spec("shop", 8443));
    expect(updated.spec.bind.port).toBe(8443);
    const applied = { name: "shop", bind: { address: "0.0.0.0", port: 8443 }, mode: "http" as const, check: updated.spec.check, servers: [{ name: "n1", address: "10.0.0.1", port: 8080, disabled: false }] };
    await store.setApplied("shop", "abc", applied);
    expect(await store.get("shop")).toMatchObject({ appliedHash: "abc", applied, createdBy: "admin" });
    await expect(store.update(spec("nope"))).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await store.delete("api")).toBe(true);
    expect(await store.delete("api")).toBe(false);
    expect(await store.get("api")).toBeNull();
  });

  it("the table refuses a name the domain would refuse, and a hand-edited row is parsed again on read", async () => {
    await expect(database.db.execute(sql`insert into load_balancers (name, edge_host, spec, created_by) values ('Bad Name', 'h', '{}'::jsonb, 'x')`)).rejects.toThrow();
    await database.db.execute(sql`insert into load_balancers (name, edge_host, spec, created_by) values ('hacked', 'h', '{"name":"hacked"}'::jsonb, 'x')`);
    await expect(new LoadBalancerStore(database.db).get("hacked")).rejects.toThrow();
  });
});
