import type { Operation } from "@nimbus/domain";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MemoryOperationStore } from "../src/memory-stores.js";
import { OperationManager } from "../src/operations.js";
import { FakeFleet, hypervisor, job, vm } from "./helpers/fake-fleet.js";

/**
 * Replica mode (packages/cluster adoption.ts): a manager made with adoptOnly loads nothing at start;
 * operations arrive with their hosts' leases (adopt: reconciled from the agent like after a restart,
 * never started again) and leave with them (disown: forgotten, nothing written).
 */
let fleet: FakeFleet;
let store: MemoryOperationStore;
let ops: OperationManager;

const stored = (id: string, extra: Partial<Operation> = {}): Operation => ({
  id, kind: "migrate", state: "running", target: { type: "instance", name: "web-1" }, host: "kvm1", tenant: null,
  requestedBy: "alice", summary: "Migrate web-1 from kvm1 to kvm2", params: { source: "kvm1", destination: "kvm2" },
  progress: null, steps: [], error: null, createdAt: "2025-01-01T00:00:00.000Z", updatedAt: "2025-01-01T00:00:00.000Z", finishedAt: null, ...extra,
});

beforeEach(async () => {
  fleet = new FakeFleet();
  store = new MemoryOperationStore();
  fleet.put(hypervisor("kvm1", [vm("web-1")]));
  fleet.put(hypervisor("kvm2"));
  fleet.handlers.set("job.list", () => []);
  ops = new OperationManager(fleet, store, { adoptOnly: true, tenantVni: () => null });
});
afterEach(() => ops?.stop());

describe("OperationManager adopt / disown (replica mode)", () => {
  it("with adoptOnly, start loads no unfinished operation and asks no agent", async () => {
    await store.insert(stored("op-other-replica"));
    await ops.start();
    expect(ops.running()).toEqual([]);
    expect(fleet.sent).toEqual([]);
  });

  it("adopting follows a job still running on the agent (job.list) and settles it from its updates; no second virt.migrate", async () => {
    await store.insert(stored("op-a"));
    fleet.handlers.set("job.list", () => [job("op-a", "running")]);
    await ops.start();
    const taken = await ops.adopt([stored("op-a")]);
    expect(taken.map((o) => o.id)).toEqual(["op-a"]);
    expect(ops.running().map((o) => o.id)).toEqual(["op-a"]);
    fleet.job("kvm1", job("op-a", "succeeded"));
    await expect.poll(async () => (await store.get("op-a"))?.state).toBe("succeeded");
    expect(fleet.sent.map((s) => s.method)).toEqual(["job.list"]);
  });

  it("adopting settles a job that ended while nobody watched, and skips what is finished or already followed", async () => {
    await store.insert(stored("op-b"));
    fleet.handlers.set("job.list", () => [job("op-b", "failed", { error: "link down" })]);
    await ops.start();
    const taken = await ops.adopt([stored("op-b"), stored("op-done", { state: "succeeded", finishedAt: "2025-01-01T00:01:00.000Z" })]);
    expect(taken.map((o) => o.id)).toEqual(["op-b"]);
    await expect.poll(async () => (await store.get("op-b"))?.state).toBe("failed");
    expect(await ops.adopt([stored("op-b")])).toEqual([]);
  });

  it("adopting an operation of a host not yet online reconciles it once the host comes online", async () => {
    fleet.put(hypervisor("kvm1", [vm("web-1")], { online: false }));
    await store.insert(stored("op-c"));
    fleet.handlers.set("job.list", () => [job("op-c", "succeeded")]);
    await ops.start();
    await ops.adopt([stored("op-c")]);
    expect(fleet.sent).toEqual([]);
    fleet.put(hypervisor("kvm1", [vm("web-1")]));
    await expect.poll(async () => (await store.get("op-c"))?.state).toBe("succeeded");
  });

  it("disown forgets the host's operations without writing anything; their job updates are then ignored", async () => {
    await store.insert(stored("op-d"));
    fleet.handlers.set("job.list", () => [job("op-d", "running")]);
    await ops.start();
    await ops.adopt([stored("op-d")]);
    expect(ops.disown("kvm2")).toEqual([]);
    expect(ops.disown("kvm1").map((o) => o.id)).toEqual(["op-d"]);
    expect(ops.running()).toEqual([]);
    fleet.job("kvm1", job("op-d", "succeeded"));
    await new Promise((r) => setImmediate(r));
    expect((await store.get("op-d"))?.state).toBe("running");
  });
});
