import { NimbusError, type MigrationProgress, type Operation } from "@nimbus/domain";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MemoryOperationStore } from "../src/memory-stores.js";
import { OperationManager } from "../src/operations.js";
import { FakeFleet, hypervisor, job, manager, service, vm } from "./helpers/fake-fleet.js";

const progress = (percent: number): MigrationProgress => ({
  kind: "migrate", phase: "copying", memoryTotalBytes: 100, memoryProcessedBytes: percent, memoryRemainingBytes: 100 - percent,
  bandwidthBytesPerSec: 1, dirtyRateBytesPerSec: 0, iteration: 1, expectedDowntimeMs: null, percent, downtimeMs: null,
});

let fleet: FakeFleet;
let store: MemoryOperationStore;
let ops: OperationManager;
let seen: Operation[];
let ids: number;

async function startManager(persistIntervalMs = 1_000) {
  ops = new OperationManager(fleet, store, { persistIntervalMs, newId: () => `op-${++ids}`, tenantVni: () => null });
  ops.subscribe((op) => seen.push(op));
  await ops.start();
}

beforeEach(() => {
  fleet = new FakeFleet();
  store = new MemoryOperationStore();
  seen = [];
  ids = 0;
  fleet.put(hypervisor("kvm1", [vm("web-1", { tenant: "acme" }), vm("db-1", { tenant: "globex" })]));
  fleet.put(hypervisor("kvm2"));
  fleet.handlers.set("virt.preflight", (host) => ({ host, checks: [] }));
  fleet.handlers.set("virt.migrate", (_h, p: { jobId: string }) => ({ jobId: p.jobId }));
  fleet.handlers.set("swarm.scale", (_h, p: { jobId: string }) => ({ jobId: p.jobId }));
  fleet.handlers.set("job.cancel", () => ({ ok: true }));
  fleet.handlers.set("job.list", () => []);
});
afterEach(() => ops?.stop());

describe("OperationManager.startMigration", () => {
  it("returns a running operation at once and asks the source's agent to migrate", async () => {
    await startManager();
    const op = await ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    expect(op).toMatchObject({
      id: "op-1", kind: "migrate", state: "running", host: "kvm1", tenant: "acme", requestedBy: "alice",
      target: { type: "instance", name: "web-1" }, summary: "Migrate web-1 from kvm1 to kvm2",
    });
    expect(fleet.sent.at(-1)).toEqual({
      host: "kvm1",
      method: "virt.migrate",
      params: {
        jobId: "op-1", domain: "web-1", destination: { host: "kvm2", uri: "qemu+ssh://10.0.0.2/system" },
        options: { bandwidthMiBps: null, maxDowntimeMs: null, autoConverge: false, postCopy: false },
      },
    });
    expect(await store.get("op-1")).toMatchObject({ state: "running" });
    expect(seen.map((o) => o.state)).toEqual(["running"]);
  });

  it("uses the destination's configured migration URI", async () => {
    fleet.migrationUris.set("kvm2", "qemu+tcp://127.0.0.1:16510/system");
    await startManager();
    await ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    expect(fleet.sent.at(-1)?.params).toMatchObject({ destination: { host: "kvm2", uri: "qemu+tcp://127.0.0.1:16510/system" } });
  });

  it("fails the preflight with the failing checks in the details", async () => {
    const tiny = hypervisor("kvm3");
    tiny.inventory.net = { interfaces: [], bridges: [] };
    fleet.put(tiny);
    await startManager();
    const err = await ops.startMigration({ instance: "web-1", destination: "kvm3" }, "alice").catch((e: NimbusError) => e);
    expect(err).toMatchObject({ code: "PRECONDITION_FAILED", message: "cannot migrate web-1 to kvm3: bridge br0 does not exist on kvm3" });
    expect((err as NimbusError).details?.checks).toEqual([expect.objectContaining({ id: "net-52:54:00:aa:00:01", result: "fail" })]);
    expect(fleet.sent).toEqual([]);
    expect(await store.list({ limit: 10 })).toEqual([]);
  });

  it("refuses a second operation on a busy instance", async () => {
    await startManager();
    await ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    await expect(ops.startMigration({ instance: "web-1", destination: "kvm2" }, "bob")).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("does not reveal another tenant's instance", async () => {
    await startManager();
    await expect(ops.startMigration({ instance: "db-1", destination: "kvm2" }, "carol", "acme")).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "instance db-1 not found",
    });
  });

  it("refuses when the source host is unreachable, without recording an operation", async () => {
    fleet.put(hypervisor("kvm1", [vm("web-1")], { online: false }));
    await startManager();
    await expect(ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice")).rejects.toMatchObject({ code: "HOST_UNREACHABLE" });
    expect(await store.list({ limit: 10 })).toEqual([]);
  });

  it("records a failed operation when the agent refuses the job", async () => {
    fleet.handlers.set("virt.migrate", () => {
      throw new NimbusError("CONFLICT", "kvm1: virt.migrate failed: domain is busy");
    });
    await startManager();
    await expect(ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice")).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await store.get("op-1")).toMatchObject({ state: "failed", error: "kvm1: virt.migrate failed: domain is busy" });
  });

  it("keeps the operation running when the answer was lost, for reconciliation to settle", async () => {
    fleet.handlers.set("virt.migrate", () => {
      throw new NimbusError("TIMEOUT", "kvm1: virt.migrate got no answer within 30000 ms");
    });
    await startManager();
    const op = await ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    expect(op.state).toBe("running");
    expect(ops.running().map((o) => o.id)).toEqual(["op-1"]);
  });
});

describe("OperationManager job updates", () => {
  it("streams progress, persisting at most once per interval, and the final state at once", async () => {
    await startManager(60_000);
    await ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    for (const p of [20, 40, 60]) fleet.job("kvm1", job("op-1", "running", { progress: progress(p) }));
    expect(seen.map((o) => o.progress?.kind === "migrate" && o.progress.percent)).toEqual([false, 20, 40, 60]);
    expect((await ops.get("op-1"))?.progress).toMatchObject({ percent: 60 });
    await expect.poll(async () => (await store.get("op-1"))?.progress).toMatchObject({ percent: 20 });

    fleet.job("kvm1", job("op-1", "succeeded", { progress: progress(100) }));
    await expect.poll(async () => (await store.get("op-1"))?.state).toBe("succeeded");
    expect(await store.get("op-1")).toMatchObject({ progress: { percent: 100 }, finishedAt: "2025-01-01T00:01:00.000Z" });
    expect(ops.running()).toEqual([]);
  });

  it("writes the latest progress once the interval has passed", async () => {
    await startManager(30);
    await ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    for (const p of [20, 40, 60]) fleet.job("kvm1", job("op-1", "running", { progress: progress(p) }));
    await expect.poll(async () => (await store.get("op-1"))?.progress).toMatchObject({ percent: 60 });
  });

  it("settles as failed with the agent's error", async () => {
    await startManager();
    await ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    fleet.job("kvm1", job("op-1", "failed", { error: "lost connection to kvm2" }));
    await expect.poll(async () => (await store.get("op-1"))?.error).toBe("lost connection to kvm2");
  });

  it("ignores a job update for its migration sent by another host, or naming another kind of job", async () => {
    fleet.put(hypervisor("kvm3"));
    await startManager();
    await ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    fleet.job("kvm3", job("op-1", "succeeded", { progress: progress(100) }));
    fleet.job("kvm2", job("op-1", "failed", { error: "forged by the destination" }));
    fleet.job("kvm1", job("op-1", "succeeded", { kind: "scale" }));
    expect(await ops.get("op-1")).toMatchObject({ state: "running", progress: null, error: null });
    expect(seen.map((o) => o.state)).toEqual(["running"]);
    fleet.job("kvm1", job("op-1", "succeeded", { progress: progress(100) }));
    expect(await ops.get("op-1")).toMatchObject({ state: "succeeded" });
  });

  it("ignores job updates naming an evacuation, which runs on the server", async () => {
    await startManager();
    const op = await ops.recordServerSide({
      kind: "maintenance", target: { type: "host", name: "kvm1" }, host: "kvm1", tenant: null, requestedBy: "alice",
      summary: "Evacuate kvm1", params: {}, progress: null,
    });
    fleet.job("kvm1", job(op.id, "succeeded"));
    expect(await ops.get(op.id)).toMatchObject({ state: "running" });
  });

  it("ignores jobs it did not start", async () => {
    await startManager();
    fleet.job("kvm1", job("someone-else", "succeeded"));
    expect(seen).toEqual([]);
  });
});

describe("OperationManager.startScale and cancel", () => {
  beforeEach(() => fleet.put(manager("mgr", [service("web", 2, 2, "acme"), { ...service("agent", 3), mode: "global" }])));

  it("sends swarm.scale to the manager and returns at once", async () => {
    await startManager();
    const op = await ops.startScale({ service: "web", replicas: 4 }, "alice");
    expect(op).toMatchObject({ kind: "scale", host: "mgr", tenant: "acme", summary: "Scale web from 2 to 4 replicas", target: { type: "service", name: "web" } });
    expect(fleet.sent.at(-1)).toEqual({ host: "mgr", method: "swarm.scale", params: { jobId: op.id, service: "web", replicas: 4 } });
  });

  it("refuses to scale a global service", async () => {
    await startManager();
    await expect(ops.startScale({ service: "agent", replicas: 4 }, "alice")).rejects.toMatchObject({ code: "PRECONDITION_FAILED" });
  });

  it("refuses when no manager is online", async () => {
    fleet.put({ ...manager("mgr", []), connection: { ...manager("mgr", []).connection, state: "unreachable" } });
    await startManager();
    await expect(ops.startScale({ service: "web", replicas: 4 }, "alice")).rejects.toMatchObject({
      code: "PRECONDITION_FAILED",
      message: "cannot scale web: no swarm manager is online",
    });
  });

  it("cancel asks the agent, and the job update settles the operation", async () => {
    await startManager();
    const op = await ops.startScale({ service: "web", replicas: 4 }, "alice");
    await ops.cancel(op.id);
    expect(fleet.sent.at(-1)).toEqual({ host: "mgr", method: "job.cancel", params: { jobId: op.id } });
    fleet.job("mgr", job(op.id, "cancelled", { kind: "scale", error: "cancelled by request" }));
    await expect.poll(async () => (await store.get(op.id))?.state).toBe("cancelled");
  });

  it("cancel of an unknown or finished operation is refused", async () => {
    await startManager();
    await expect(ops.cancel("nope")).rejects.toMatchObject({ code: "NOT_FOUND" });
    const op = await ops.startScale({ service: "web", replicas: 4 }, "alice");
    fleet.job("mgr", job(op.id, "succeeded", { kind: "scale" }));
    await expect.poll(async () => (await store.get(op.id))?.state).toBe("succeeded");
    await expect(ops.cancel(op.id)).rejects.toMatchObject({ code: "CONFLICT", message: `operation ${op.id} is already succeeded` });
  });
});

describe("OperationManager reconciliation", () => {
  const stored = (extra: Partial<Operation> = {}): Operation => ({
    id: "op-old", kind: "migrate", state: "running", target: { type: "instance", name: "web-1" }, host: "kvm1", tenant: null,
    requestedBy: "alice", summary: "Migrate web-1 from kvm1 to kvm2", params: { source: "kvm1", destination: "kvm2" },
    progress: null, steps: [], error: null, createdAt: "2025-01-01T00:00:00.000Z", updatedAt: "2025-01-01T00:00:00.000Z", finishedAt: null, ...extra,
  });

  it("at start, settles an operation whose job ended while the server was away", async () => {
    await store.insert(stored());
    fleet.handlers.set("job.list", () => [job("op-old", "succeeded")]);
    await startManager();
    await expect.poll(async () => (await store.get("op-old"))?.state).toBe("succeeded");
    expect(fleet.sent).toContainEqual({ host: "kvm1", method: "job.list", params: {} });
  });

  it("picks up a job still running and follows its updates", async () => {
    await store.insert(stored());
    fleet.handlers.set("job.list", () => [job("op-old", "running", { progress: progress(50) })]);
    await startManager();
    await expect.poll(() => ops.running()[0]?.progress).toMatchObject({ percent: 50 });
    fleet.job("kvm1", job("op-old", "succeeded"));
    await expect.poll(async () => (await store.get("op-old"))?.state).toBe("succeeded");
  });

  it("settles from the inventory when the agent forgot the job (VM still on source)", async () => {
    await store.insert(stored());
    await startManager();
    await expect.poll(async () => (await store.get("op-old"))?.error).toBe("outcome reconciled: VM still on source kvm1");
  });

  it("reconciles when the host comes back online", async () => {
    await store.insert(stored());
    fleet.put(hypervisor("kvm1", [], { online: false }));
    fleet.put(hypervisor("kvm2", [vm("web-1")]));
    await startManager();
    expect(ops.running().map((o) => o.id)).toEqual(["op-old"]);
    fleet.put(hypervisor("kvm1", [vm("web-1", { state: "shutoff" })]));
    await expect.poll(async () => (await store.get("op-old"))?.state).toBe("succeeded");
    expect((await store.get("op-old"))?.summary).toBe("Migrate web-1 from kvm1 to kvm2 (outcome reconciled: web-1 runs on kvm2)");
  });

  it("waits for the destination when the agent forgot the job and the destination is down", async () => {
    await store.insert(stored());
    fleet.put(hypervisor("kvm1", []));
    fleet.put(hypervisor("kvm2", [], { online: false }));
    await startManager();
    expect(fleet.sent.filter((s) => s.method === "job.list")).toHaveLength(1);
    expect(ops.running().map((o) => o.id)).toEqual(["op-old"]);
    fleet.put(hypervisor("kvm2", [vm("web-1")]));
    await expect.poll(async () => (await store.get("op-old"))?.state).toBe("succeeded");
    expect(fleet.sent.filter((s) => s.method === "job.list")).toHaveLength(1);
  });

  it("list and get show the freshest copy of running operations", async () => {
    await startManager(60_000);
    await ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    fleet.job("kvm1", job("op-1", "running", { progress: progress(10) }));
    fleet.job("kvm1", job("op-1", "running", { progress: progress(70) }));
    expect((await ops.list({ limit: 5 }))[0]?.progress).toMatchObject({ percent: 70 });
  });
});
