import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantQuotas, Tenants, type Database } from "../src/index.js";
import { backend, openTestDatabase } from "../src/testing.js";

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database?.close());

describe(`TenantQuotas (${backend})`, () => {
  it("is null until set, then replaced as a whole; unlimited is null", async () => {
    await new Tenants(database.db).create({ slug: "acme", name: "Acme" });
    const quotas = new TenantQuotas(database.db);
    expect(await quotas.get("acme")).toBeNull();
    await quotas.set("acme", { instances: 2, vcpus: 4, memoryMiB: 4096, diskGiB: 50 });
    await quotas.set("acme", { instances: 3, vcpus: null, memoryMiB: 8192, diskGiB: 50 });
    expect(await quotas.get("acme")).toEqual({ instances: 3, vcpus: null, memoryMiB: 8192, diskGiB: 50 });
  });

  it("refuses a tenant that does not exist and a negative limit", async () => {
    const quotas = new TenantQuotas(database.db);
    await expect(quotas.set("nobody", { instances: 1, vcpus: 1, memoryMiB: 1, diskGiB: 1 })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(quotas.set("acme", { instances: -1, vcpus: 1, memoryMiB: 1, diskGiB: 1 })).rejects.toThrow();
  });
});
