import type { Domain, HostRecord, MaintenanceProgress, Operation } from "@nimbus/domain";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import { MemoryMaintenanceFlags, persistMaintenanceFlags } from "../src/maintenance-flags.js";
import { MemoryOperationStore } from "../src/memory-stores.js";
import { OperationManager } from "../src/operations.js";
import { FakeFleet, hypervisor, job, manager, vm } from "./helpers/fake-fleet.js";
import { eventually } from "./helpers/wait.js";

/** Host evacuation over a fake fleet whose jobs the test finishes by hand. */
let fleet: FakeFleet;
let store: MemoryOperationStore;
const managers: OperationManager[] = [];
let jobs: Job[];
type Job = { id: string; host: string; domain: string; destination: string };

beforeEach(() => {
  fleet = new FakeFleet();
  store = new MemoryOperationStore();
  jobs = [];
  fleet.put(hypervisor("kvm1", [vm("a", { memoryMiB: 4096 }), vm("b", { memoryMiB: 2048 }), vm("c", { memoryMiB: 1024 })]));
  fleet.put(hypervisor("kvm2"));
  fleet.handlers.set("virt.preflight", (host) => ({ host, checks: [] }));
  fleet.handlers.set("virt.migrate", (host, p: { jobId: string; domain: string; destination: { host: string } }) => {
    jobs.push({ id: p.jobId, host, domain: p.domain, destination: p.destination.host });
    return { jobId: p.jobId };
  });
  fleet.handlers.set("job.cancel", (host, p: { jobId: string }) => {
    setTimeout(() => fleet.job(host, job(p.jobId, "cancelled", { error: "migration cancelled; the VM stays on kvm1" })), 1);
    return { ok: true };
  });
  fleet.handlers.set("job.list", () => []);
  fleet.handlers.set("swarm.availability", () => ({ ok: true }));
});
afterEach(async () => {
  for (const m of managers.splice(0)) await m.stop();
});

async function operations() {
  const m = new OperationManager(fleet, store, { tenantVni: () => null, drainTimeoutMs: 2_000 });
  managers.push(m);
  await m.start();
  return m;
}

/** The source's agent reports the job's end; on success the VM shows up on its destination only. */
function finish(domain: string, state: "succeeded" | "failed", error: string | null = null) {
  const j = jobs.find((x) => x.domain === domain)!;
  if (state === "succeeded") {
    const src = fleet.host(j.host)!;
    const moving = src.inventory.virt!.domains.find((d) => d.name === domain)!;
    fleet.put(withDomains(src, src.inventory.virt!.domains.filter((d) => d.name !== domain)), ["virt"]);
    const dest = fleet.host(j.destination)!;
    fleet.put(withDomains(dest, [...dest.inventory.virt!.domains, moving]), ["virt"]);
  }
  fleet.job(j.host, job(j.id, state, { error }));
}
const withDomains = (h: HostRecord, domains: Domain[]): HostRecord => ({
  ...h,
  inventory: { ...h.inventory, virt: { ...h.inventory.virt!, domains } },
});
const progressOf = (op: Operation | null) => op?.progress as MaintenanceProgress;
const settled = (ops: OperationManager, id: string) =>
  eventually(async () => {
    const op = await ops.get(id);
    return op && op.state !== "running" ? op : null;
  }, `evacuation ${id} to end`);

describe("host maintenance (evacuation)", () => {
  it("flags the host at once and runs at most `parallelism` migrations at a time, largest first", async () => {
    const ops = await operations();
    const op = await ops.startMaintenance({ host: "kvm1", parallelism: 2 }, "alice");
    expect(op).toMatchObject({ kind: "maintenance", state: "running", target: { type: "host", name: "kvm1" }, tenant: null, summary: "Evacuate kvm1 for maintenance: 3 VM(s) to move" });
    expect(fleet.host("kvm1")!.maintenance).toBe(true);
    await eventually(() => jobs.length === 2, "two migrations started");
    expect(jobs.map((j) => j.domain)).toEqual(["a", "b"]);
    expect((await ops.get(op.id))?.progress).toMatchObject({ items: [{ instance: "a", state: "migrating" }, { instance: "b", state: "migrating" }, { instance: "c", state: "pending" }] });
    finish("a", "succeeded");
    await eventually(() => jobs.length === 3, "the third migration to start once one ended");
    finish("b", "succeeded");
    finish("c", "succeeded");
    const done = await settled(ops, op.id);
    expect(done).toMatchObject({ state: "succeeded", error: null });
    expect(progressOf(done)).toMatchObject({ total: 3, moved: 3, failed: 0, percent: 100 });
    expect(ops.maintenanceViews().find((v) => v.host === "kvm1")).toMatchObject({ state: "in-maintenance", flag: true, runningVms: [] });
  });

  it("records each migration as its own operation, tied to the evacuation", async () => {
    const ops = await operations();
    const op = await ops.startMaintenance({ host: "kvm1", parallelism: 3 }, "alice");
    await eventually(() => jobs.length === 3, "migrations started");
    const children = await ops.list({ limit: 10, kinds: ["migrate"] });
    expect(children.map((c) => [c.target.name, c.params.maintenanceId, c.requestedBy])).toEqual(expect.arrayContaining([["a", op.id, "alice"], ["b", op.id, "alice"], ["c", op.id, "alice"]]));
    expect(progressOf(await ops.get(op.id)).items.every((i) => i.operationId !== null)).toBe(true);
  });

  it("reports a VM that fails to move with the migration's reason, and moves the others", async () => {
    const ops = await operations();
    const op = await ops.startMaintenance({ host: "kvm1", parallelism: 3 }, "alice");
    await eventually(() => jobs.length === 3, "migrations started");
    finish("a", "failed", "migration of a to kvm2 failed: kvm2 is unreachable (host is down); a still runs on kvm1");
    finish("b", "succeeded");
    finish("c", "succeeded");
    const done = await settled(ops, op.id);
    expect(done).toMatchObject({ state: "failed", error: "1 VM(s) still on kvm1: a (migration of a to kvm2 failed: kvm2 is unreachable (host is down); a still runs on kvm1)" });
    expect(ops.maintenanceViews().find((v) => v.host === "kvm1")).toMatchObject({ state: "not-empty", runningVms: ["a"] });
  });

  it("leaves a VM no host can take where it is, saying why, and fails the evacuation", async () => {
    fleet.put(hypervisor("kvm1", [vm("huge", { memoryMiB: 100_000 }), vm("c", { memoryMiB: 1024 })]));
    const ops = await operations();
    expect(ops.planMaintenance("kvm1")).toMatchObject({ moves: [{ instance: "c", destination: "kvm2" }], blocked: [{ instance: "huge" }], complete: false });
    const op = await ops.startMaintenance({ host: "kvm1" }, "alice");
    expect(op.summary).toBe("Evacuate kvm1 for maintenance: 1 VM(s) to move, 1 cannot move");
    await eventually(() => jobs.length === 1, "c's migration");
    finish("c", "succeeded");
    const done = await settled(ops, op.id);
    expect(done.error).toBe("1 VM(s) still on kvm1: huge (kvm2: needs 100000 MiB; 32256 MiB free after 512 MiB headroom)");
    expect(progressOf(done).items.find((i) => i.instance === "huge")).toMatchObject({ state: "blocked", destination: null });
  });

  it("aborts: the migration in flight is cancelled, nothing else starts, the host stays flagged", async () => {
    const ops = await operations();
    const op = await ops.startMaintenance({ host: "kvm1", parallelism: 1 }, "alice");
    await eventually(() => jobs.length === 1, "first migration");
    await ops.cancel(op.id);
    const done = await settled(ops, op.id);
    expect(done).toMatchObject({ state: "cancelled", error: "aborted: 0 of 3 VM(s) moved; kvm1 stays in maintenance (exit maintenance to give it back to placement)" });
    expect(fleet.sent.filter((s) => s.method === "job.cancel")).toEqual([{ host: "kvm1", method: "job.cancel", params: { jobId: jobs[0]!.id } }]);
    expect(jobs).toHaveLength(1);
    expect(progressOf(done).items.map((i) => i.state)).toEqual(["cancelled", "cancelled", "cancelled"]);
    expect(fleet.host("kvm1")!.maintenance).toBe(true);
  });

  it("drains a swarm worker before its VM moves and gives it back after", async () => {
    const mgr = manager("mgr", []);
    const swarm = mgr.inventory.swarm!;
    swarm.nodes.push({ id: "n-a", hostname: "a", role: "worker", availability: "active", status: "ready", leader: false, engineVersion: null, address: null });
    swarm.tasks = [{ id: "t1", serviceId: "s", serviceName: "web", slot: 1, node: "n-a", desiredState: "running", state: "running", error: null }];
    fleet.put(mgr);
    fleet.handlers.set("swarm.availability", (_h, p: { node: string; availability: string }) => {
      if (p.availability === "drain") setTimeout(() => fleet.put({ ...mgr, inventory: { ...mgr.inventory, swarm: { ...swarm, tasks: [] } } }, ["swarm"]), 5);
      return { ok: true };
    });
    fleet.put(hypervisor("kvm1", [vm("a")]));
    const ops = await operations();
    const op = await ops.startMaintenance({ host: "kvm1" }, "alice");
    await eventually(() => jobs.length === 1, "a's migration after the drain");
    finish("a", "succeeded");
    const done = await settled(ops, op.id);
    expect(done.state).toBe("succeeded");
    const order = fleet.sent.filter((s) => s.method === "swarm.availability" || s.method === "virt.migrate").map((s) => `${s.method} ${JSON.stringify(s.params).match(/"availability":"(\w+)"/)?.[1] ?? ""}`.trim());
    expect(order).toEqual(["swarm.availability drain", "virt.migrate", "swarm.availability active"]);
    expect(progressOf(done).drains).toEqual([{ node: "a", state: "restored", restoreTo: "active", error: null }]);
  });

  it("after a server restart, settles the migration in flight, starts nothing new and says it was interrupted", async () => {
    const ops = await operations();
    const op = await ops.startMaintenance({ host: "kvm1", parallelism: 1 }, "alice");
    await eventually(() => jobs.length === 1, "first migration");
    await ops.stop();
    // While the server is away the first migration completes; the agent still knows the job.
    const first = jobs[0]!;
    finish(first.domain, "succeeded");
    fleet.handlers.set("job.list", () => [job(first.id, "succeeded")]);
    const ops2 = await operations();
    const done = await settled(ops2, op.id);
    expect(done).toMatchObject({ state: "failed", error: "interrupted by a server restart: 1 of 3 VM(s) moved; run maintenance again to move the rest" });
    expect(progressOf(done).items.map((i) => [i.instance, i.state])).toEqual([["a", "succeeded"], ["b", "cancelled"], ["c", "cancelled"]]);
    expect(jobs).toHaveLength(1);
  });

  it("exit maintenance is refused while evacuating and gives the host back afterwards", async () => {
    const ops = await operations();
    const op = await ops.startMaintenance({ host: "kvm1", parallelism: 3 }, "alice");
    expect(() => ops.exitMaintenance("kvm1")).toThrow(expect.objectContaining({ code: "CONFLICT" }));
    await eventually(() => jobs.length === 3, "migrations started");
    for (const d of ["a", "b", "c"]) finish(d, "succeeded");
    await settled(ops, op.id);
    expect(ops.exitMaintenance("kvm1")).toMatchObject({ state: "active", flag: false });
    expect(fleet.host("kvm1")!.maintenance).toBe(false);
  });

  it("refuses a second evacuation, an unreachable host and a host that is no hypervisor", async () => {
    const ops = await operations();
    await ops.startMaintenance({ host: "kvm1" }, "alice");
    await expect(ops.startMaintenance({ host: "kvm1" }, "alice")).rejects.toMatchObject({ code: "CONFLICT" });
    fleet.put(hypervisor("kvm3", [], { online: false }));
    await expect(ops.startMaintenance({ host: "kvm3" }, "alice")).rejects.toMatchObject({ code: "HOST_UNREACHABLE", message: "cannot evacuate kvm3: it is unreachable (its agent runs the migrations)" });
    const storage = hypervisor("nfs1");
    fleet.put({ ...storage, connection: { ...storage.connection, capabilities: ["storage"] }, inventory: { ...storage.inventory, virt: null } });
    await expect(ops.startMaintenance({ host: "nfs1" }, "alice")).rejects.toMatchObject({ code: "PRECONDITION_FAILED", message: "nfs1 is not a hypervisor: it runs no VMs to evacuate" });
    expect(fleet.host("nfs1")!.maintenance).toBe(false);
  });
});

describe("maintenance flags survive a restart", () => {
  it("persists every change the fleet announces, in order", async () => {
    const flags = new MemoryMaintenanceFlags();
    const persisting = persistMaintenanceFlags(fleet, flags, pino({ level: "silent" }));
    fleet.setMaintenance("kvm1", true);
    fleet.setMaintenance("kvm2", true);
    fleet.setMaintenance("kvm2", false);
    await persisting.stop();
    expect(await flags.list()).toEqual(["kvm1"]);
  });
});
