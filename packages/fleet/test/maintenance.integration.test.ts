import type { MaintenanceProgress, Operation } from "@nimbus/domain";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { labHarness } from "./helpers/lab-harness.js";
import { eventually } from "./helpers/wait.js";

/** Host maintenance against the embedded lab: dry run, evacuation, abort, blocked VMs, exit. */
let h: Awaited<ReturnType<typeof labHarness>>;
beforeAll(async () => {
  h = await labHarness(20);
});
afterEach(() => h.afterEach());
afterAll(() => h?.close());

const progressOf = (op: Operation) => op.progress as MaintenanceProgress;
const workerAvailability = (fleet: Awaited<ReturnType<typeof h.fleet>>, node: string) =>
  fleet.hosts().find((x) => x.inventory.swarm?.role === "manager")?.inventory.swarm?.nodes.find((n) => n.hostname === node)?.availability;

describe("host maintenance over the lab", () => {
  it("dry run, then evacuation of kvm1 two at a time: worker1 drained and given back, kvm1 empty and out of placement until exit", async () => {
    const { fleet, ops } = await h.server();
    const plan = ops.planMaintenance("kvm1");
    expect(plan.moves.map((m) => [m.instance, m.destination])).toEqual([
      ["globex-app1", "kvm2"], ["initech-ci", "kvm2"], ["manager", "kvm2"], ["worker1", "kvm2"], ["acme-web1", "kvm2"],
    ]);
    expect(plan).toMatchObject({ blocked: [], managers: ["manager"], staying: [{ instance: "initech-legacy", state: "shutoff" }], complete: true });
    expect(plan.drains).toEqual([expect.objectContaining({ node: "worker1", restoreTo: "active" })]);

    // How many of the evacuation's migrations run at once.
    const inFlight = new Set<string>();
    let most = 0;
    ops.subscribe((o) => {
      if (o.kind !== "migrate" || !o.params.maintenanceId) return;
      if (o.state === "running") inFlight.add(o.id);
      else inFlight.delete(o.id);
      most = Math.max(most, inFlight.size);
    });
    const op = await ops.startMaintenance({ host: "kvm1" }, "alice");
    expect(fleet.host("kvm1")!.maintenance).toBe(true);
    await eventually(() => workerAvailability(fleet, "worker1") === "drain", "worker1 drained");
    const final = await h.settled(ops, op.id, 60_000);
    expect(final).toMatchObject({ state: "succeeded", error: null });
    expect(progressOf(final)).toMatchObject({ total: 5, moved: 5, percent: 100, drains: [{ node: "worker1", state: "restored" }] });
    expect(most).toBe(2);
    await eventually(() => h.runningOn(fleet, "kvm1").length === 0, "kvm1 empty");
    await eventually(() => workerAvailability(fleet, "worker1") === "active", "worker1 active again");
    expect(ops.maintenanceViews().find((v) => v.host === "kvm1")).toMatchObject({ state: "in-maintenance", flag: true });

    await expect(ops.startMigration({ instance: "acme-web2", destination: "kvm1" }, "alice")).rejects.toMatchObject({ message: expect.stringContaining("kvm1 is in maintenance") });
    expect(ops.exitMaintenance("kvm1")).toMatchObject({ state: "active", flag: false });
    const back = await ops.startMigration({ instance: "acme-web1", destination: "kvm1" }, "alice");
    expect(await h.settled(ops, back.id)).toMatchObject({ state: "succeeded" });
  });

  it("abort mid-way: the migration in flight is cancelled, nothing else starts, the VMs stay on the host", async () => {
    const { fleet, ops } = await h.server();
    const before = h.runningOn(fleet, "kvm2").sort();
    const op = await ops.startMaintenance({ host: "kvm2", parallelism: 1, options: { bandwidthMiBps: 40 } }, "alice");
    await eventually(async () => progressOf((await ops.get(op.id))!).items.find((i) => i.state === "migrating" && (i.percent ?? 0) > 0), "a migration under way");
    await ops.cancel(op.id);
    const final = await h.settled(ops, op.id);
    expect(final.state).toBe("cancelled");
    expect(final.error).toMatch(/^aborted: 0 of \d+ VM\(s\) moved; kvm2 stays in maintenance/);
    expect(progressOf(final).items.every((i) => i.state === "cancelled")).toBe(true);
    await eventually(() => JSON.stringify(h.runningOn(fleet, "kvm2").sort()) === JSON.stringify(before), "every VM still on kvm2");
    expect(ops.maintenanceViews().find((v) => v.host === "kvm2")).toMatchObject({ state: "not-empty", flag: true });
    ops.exitMaintenance("kvm2");
  });

  it("a VM the only destination cannot take stays, with the failing check; the others move", async () => {
    const { fleet, ops } = await h.server();
    const initechOnKvm2 = h.runningOn(fleet, "kvm2").filter((n) => n.startsWith("initech-"));
    expect(initechOnKvm2.length).toBeGreaterThan(0);
    try {
      h.lab.faults.removeVlan("kvm1", 30);
      await eventually(() => ops.planMaintenance("kvm2").blocked.length === initechOnKvm2.length, "the plan to see VLAN 30 gone from kvm1");
      const op = await ops.startMaintenance({ host: "kvm2", parallelism: 3 }, "alice");
      const final = await h.settled(ops, op.id, 60_000);
      expect(final.state).toBe("failed");
      for (const vm of initechOnKvm2) {
        expect(progressOf(final).items.find((i) => i.instance === vm)).toMatchObject({ state: "blocked", reason: "kvm1: VLAN 30 is not carried by any trunk of br-ovs on kvm1" });
        expect(final.error).toContain(`${vm} (kvm1: VLAN 30 is not carried by any trunk of br-ovs on kvm1)`);
      }
      await eventually(() => h.runningOn(fleet, "kvm2").sort().join() === [...initechOnKvm2].sort().join(), "only the blocked VMs left on kvm2");
    } finally {
      h.lab.faults.restoreVlan("kvm1", 30);
      ops.exitMaintenance("kvm2");
    }
  });
});
