import { describe, expect, it } from "vitest";
import { OperationListQuery, compareOperations, queryOperations, type Operation, type OperationListQuery as Query, type OperationScope } from "../../src/index.js";
import { operationQueries, operationsFixture } from "./operations-fixture.js";

const operations = operationsFixture(3_000);

function brute(ops: readonly Operation[], input: Query, scope: OperationScope) {
  const f = OperationListQuery.parse(input);
  const staff = scope.tenant === null;
  const q = f.q.trim().toLowerCase();
  const all = ops
    .filter((o) => staff || o.tenant === scope.tenant)
    .filter((o) => !f.kind || o.kind === f.kind)
    .filter((o) => !f.kinds || f.kinds.includes(o.kind))
    .filter((o) => !f.state || (f.state === "active" ? ["pending", "running"].includes(o.state) : o.state === f.state))
    .filter((o) => !f.targetType || o.target.type === f.targetType)
    .filter((o) => !f.target || o.target.name === f.target)
    .filter((o) => !staff || !f.host || o.host === f.host || o.params.destination === f.host)
    .filter((o) => !f.requestedBy || o.requestedBy === f.requestedBy)
    .filter((o) => !q || (staff ? [o.id, o.kind, o.target.name, o.requestedBy, o.summary, o.host] : [o.id, o.kind, o.target.name, o.requestedBy]).some((t) => t.toLowerCase().includes(q)))
    .sort(compareOperations(f.sort, f.desc));
  return { ids: all.slice(f.offset, f.offset + f.limit).map((o) => o.id), total: all.length };
}

describe("operation list pages", () => {
  const scopes: OperationScope[] = [{ tenant: null }, { tenant: "acme" }];
  for (const scope of scopes)
    it.each(operationQueries(3_000).map((q) => [JSON.stringify(q), q] as const))(`${scope.tenant ?? "staff"}: %s: page and count as a brute-force filter`, (_, q) => {
      const page = queryOperations(operations, q, scope);
      const expected = brute(operations, q, scope);
      expect(page.items.map((o) => o.id)).toEqual(expected.ids);
      expect(page.total).toBe(expected.total);
      expect(page.all).toBe(scope.tenant === null ? 3_000 : 1_000);
    });

  it("a tenant's page holds only its own rows and finds nothing by host text or host filter", () => {
    const acme = { tenant: "acme" } as const;
    expect(queryOperations(operations, { limit: 500 }, acme).items.every((o) => o.tenant === "acme")).toBe(true);
    // Host names are in staff's haystack only: "kvm" matches summaries and hosts, never a tenant's own fields.
    expect(queryOperations(operations, { q: "kvm" }, acme).total).toBe(0);
    expect(queryOperations(operations, { q: "kvm" }, { tenant: null }).total).toBe(3_000);
    // A host filter is staff's: ignored for a tenant, not a way to probe where its VMs run.
    expect(queryOperations(operations, { host: "kvm3" }, acme).total).toBe(1_000);
    expect(queryOperations(operations, { q: "globex" }, acme).total).toBe(0);
  });

  it("consecutive pages neither overlap nor skip, ties included", () => {
    const seen: string[] = [];
    for (let offset = 0; offset < 3_000; offset += 500) seen.push(...queryOperations(operations, { sort: "createdAt", offset, limit: 500 }, { tenant: null }).items.map((o) => o.id));
    expect(new Set(seen).size).toBe(3_000);
  });

  it("refuses oversized input: a page past the cap, a search past its bound, an unknown sort", () => {
    expect(() => OperationListQuery.parse({ limit: 501 })).toThrow();
    expect(() => OperationListQuery.parse({ q: "x".repeat(201) })).toThrow();
    expect(() => OperationListQuery.parse({ sort: "params" })).toThrow();
    expect(() => OperationListQuery.parse({ kinds: Array(100).fill("migrate") })).toThrow();
  });
});
