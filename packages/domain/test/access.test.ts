import { describe, expect, it } from "vitest";
import { can, canCancelOperation, canPower, canSeeTenantObject, visibleTo, type Permission, type Role } from "../src/index.js";

describe("roles", () => {
  const matrix: [Role, Permission, boolean][] = [
    ["admin", "admin:users", true],
    ["operator", "admin:users", false],
    ["operator", "workload:migrate", true],
    ["oncall", "workload:migrate", false],
    ["oncall", "alerts:ack", true],
    ["oncall", "read:fleet", true],
    ["tenant", "read:fleet", false],
    ["tenant", "workload:scale", false],
    ["admin", "swarm:tokens", true],
    ["operator", "swarm:tokens", false],
  ];
  it.each(matrix)("%s may %s: %s", (role, perm, expected) => {
    expect(can({ role }, perm)).toBe(expected);
  });

  it("tenant members see only their tenant's objects; staff see all", () => {
    const items = [{ t: "acme" }, { t: "globex" }, { t: null }];
    expect(visibleTo({ role: "tenant", tenant: "acme" }, items, (i) => i.t)).toEqual([{ t: "acme" }]);
    expect(visibleTo({ role: "oncall", tenant: null }, items, (i) => i.t)).toHaveLength(3);
    expect(canSeeTenantObject({ role: "tenant", tenant: null }, null)).toBe(false);
  });

  it("tenant power actions follow the tenant's setting", () => {
    expect(canPower({ role: "tenant", tenant: "acme" }, false)).toBe(false);
    expect(canPower({ role: "tenant", tenant: "acme" }, true)).toBe(true);
    expect(canPower({ role: "oncall", tenant: null }, true)).toBe(false);
    expect(canPower({ role: "operator", tenant: null }, false)).toBe(true);
  });
});

describe("canCancelOperation", () => {
  const acme = { role: "tenant" as const, tenant: "acme" };
  it("staff with workload:migrate cancel anything; oncall nothing", () => {
    expect(canCancelOperation({ role: "operator", tenant: null }, { kind: "migrate", tenant: "globex" })).toBe(true);
    expect(canCancelOperation({ role: "oncall", tenant: null }, { kind: "create", tenant: "acme" })).toBe(false);
  });
  it("a tenant member cancels only its own tenant's creates", () => {
    expect(canCancelOperation(acme, { kind: "create", tenant: "acme" })).toBe(true);
    expect(canCancelOperation(acme, { kind: "create", tenant: "globex" })).toBe(false);
    expect(canCancelOperation(acme, { kind: "create", tenant: null })).toBe(false);
    expect(canCancelOperation(acme, { kind: "migrate", tenant: "acme" })).toBe(false);
    expect(canCancelOperation(acme, { kind: "delete", tenant: "acme" })).toBe(false);
  });
  it("a tenant member cancels its own stack deploys and removals and service updates and rollbacks, no one else's", () => {
    for (const kind of ["stack-deploy", "stack-remove", "service-update", "service-rollback"]) {
      expect(canCancelOperation(acme, { kind, tenant: "acme" })).toBe(true);
      expect(canCancelOperation(acme, { kind, tenant: "globex" })).toBe(false);
      expect(canCancelOperation(acme, { kind, tenant: null })).toBe(false);
    }
    expect(canCancelOperation(acme, { kind: "scale", tenant: "acme" })).toBe(false);
    expect(canCancelOperation(acme, { kind: "swarm-add-worker", tenant: "acme" })).toBe(false);
  });
});
