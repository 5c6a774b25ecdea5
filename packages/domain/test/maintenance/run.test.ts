import { describe, expect, it } from "vitest";
import { initialMaintenanceProgress, maintenanceOutcome, maintenanceProgress, planEvacuation, type MaintenanceItem } from "../../src/index.js";
import { hypervisor, vm } from "../fixtures.js";
import { swarmLeader } from "./fixtures.js";

const item = (instance: string, state: MaintenanceItem["state"], percent: number | null = null): MaintenanceItem => ({
  instance, destination: "kvm2", state, operationId: null, percent, reason: null, swarmNode: null,
});

describe("evacuation progress", () => {
  it("starts from the plan: movable VMs pending, blocked ones blocked, workers to drain", () => {
    const kvm1 = hypervisor("kvm1", [vm({ name: "worker1", tenant: null }), vm({ name: "big", memoryMiB: 99_000 })]);
    const plan = planEvacuation({ host: "kvm1", hosts: [kvm1, hypervisor("kvm2"), swarmLeader([{ hostname: "worker1" }])], tenantVni: () => null });
    const p = initialMaintenanceProgress(plan, 2);
    expect(p).toMatchObject({ kind: "maintenance", parallelism: 2, total: 1, moved: 0, blocked: 1, percent: 0 });
    expect(p.items.map((i) => [i.instance, i.state, i.swarmNode])).toEqual([["worker1", "pending", "worker1"], ["big", "blocked", null]]);
    expect(p.drains).toEqual([{ node: "worker1", state: "pending", restoreTo: "active", error: null }]);
  });

  it("counts a running migration's percent in part and never goes down", () => {
    const p = maintenanceProgress([item("a", "succeeded"), item("b", "migrating", 50), item("c", "pending"), item("d", "blocked")], [], 2, 0);
    expect(p).toMatchObject({ total: 3, moved: 1, failed: 0, blocked: 1, percent: 50 });
    expect(maintenanceProgress([item("a", "succeeded"), item("b", "migrating", 10), item("c", "pending")], [], 2, 50).percent).toBe(50);
  });

  it("is complete at once when nothing can move", () => {
    expect(maintenanceProgress([item("d", "blocked")], [], 2, 0).percent).toBe(100);
  });
});

describe("evacuation outcome", () => {
  const p = (items: MaintenanceItem[]) => maintenanceProgress(items, [], 2, 0);

  it("succeeds when every VM moved", () => {
    expect(maintenanceOutcome("kvm1", p([item("a", "succeeded")]), "ran")).toEqual({ state: "succeeded", error: null });
  });

  it("fails naming each VM still on the host and why", () => {
    const items = [item("a", "succeeded"), { ...item("b", "failed"), reason: "kvm2 is unreachable" }, { ...item("c", "blocked"), reason: "kvm2: VLAN 30 is not carried" }];
    expect(maintenanceOutcome("kvm1", p(items), "ran")).toEqual({ state: "failed", error: "2 VM(s) still on kvm1: b (kvm2 is unreachable); c (kvm2: VLAN 30 is not carried)" });
  });

  it("is cancelled on abort and says the host stays in maintenance", () => {
    expect(maintenanceOutcome("kvm1", p([item("a", "succeeded"), item("b", "cancelled")]), "aborted")).toEqual({
      state: "cancelled",
      error: "aborted: 1 of 2 VM(s) moved; kvm1 stays in maintenance (exit maintenance to give it back to placement)",
    });
  });

  it("says when a server restart cut it short", () => {
    expect(maintenanceOutcome("kvm1", p([item("a", "cancelled")]), "interrupted").error).toBe("interrupted by a server restart: 0 of 1 VM(s) moved; run maintenance again to move the rest");
  });
});
