import { queryOperations, type OperationScope } from "@nimbus/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DbOperationStore, operations, type Database } from "../src/index.js";
import { backend, openTestDatabase } from "../src/testing.js";
// The fixture the domain's own brute-force test uses: the SQL is checked against that rule.
import { operationQueries, operationsFixture } from "../../domain/test/lists/operations-fixture.js";

const ops = operationsFixture(600);

let database: Database;
let store: DbOperationStore;
beforeAll(async () => {
  database = await openTestDatabase();
  store = new DbOperationStore(database.db);
  // One statement (600 single inserts take seconds); the store's own insert is tested elsewhere.
  await database.db.insert(operations).values(
    ops.map((o) => ({
      id: o.id,
      kind: o.kind,
      state: o.state,
      targetType: o.target.type,
      targetName: o.target.name,
      host: o.host,
      tenant: o.tenant,
      requestedBy: o.requestedBy,
      summary: o.summary,
      params: o.params,
      progress: o.progress,
      steps: o.steps,
      error: o.error,
      createdAt: new Date(o.createdAt),
      updatedAt: new Date(o.updatedAt),
      finishedAt: null,
    })),
  );
});
afterAll(() => database?.close());

describe(`operations pages in SQL (${backend}) answer as the domain's rule`, () => {
  const scopes: OperationScope[] = [{ tenant: null }, { tenant: "acme" }];
  for (const scope of scopes)
    it.each(operationQueries(600).map((q) => [JSON.stringify(q), q] as const))(`${scope.tenant ?? "staff"}: %s`, async (_, q) => {
      const page = await store.page(q, scope);
      const expected = queryOperations(ops, q, scope);
      expect(page.items.map((o) => o.id)).toEqual(expected.items.map((o) => o.id));
      expect({ total: page.total, all: page.all, offset: page.offset, limit: page.limit }).toEqual({ total: expected.total, all: expected.all, offset: expected.offset, limit: expected.limit });
    });

  it("a tenant's page never holds another tenant's row, and host text finds nothing", async () => {
    const acme = { tenant: "acme" } as const;
    const page = await store.page({ limit: 500 }, acme);
    expect(page.items.length).toBe(200);
    expect(page.items.every((o) => o.tenant === "acme")).toBe(true);
    expect((await store.page({ q: "kvm" }, acme)).total).toBe(0);
    expect((await store.page({ host: "kvm3" }, acme)).total).toBe(200);
  });
});
