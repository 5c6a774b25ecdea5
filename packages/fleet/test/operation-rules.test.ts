import type { MigrationProgress, Operation } from "@nimbus/domain";
import { describe, expect, it } from "vitest";
import { applyJob, forwardOnly, settleLostJob } from "../src/operation-rules.js";
import { lostCreateCleanup } from "../src/operations-provision.js";
import { hypervisor, job, manager, service, vm } from "./helpers/fake-fleet.js";

const NOW = "2025-01-01T00:02:00.000Z";

function migration(extra: Partial<Operation> = {}): Operation {
  return {
    id: "op-1", kind: "migrate", state: "running", target: { type: "instance", name: "web-1" }, host: "kvm1", tenant: null,
    requestedBy: "alice", summary: "Migrate web-1 from kvm1 to kvm2", params: { source: "kvm1", destination: "kvm2" },
    progress: null, steps: [], error: null, createdAt: "2025-01-01T00:00:00.000Z", updatedAt: "2025-01-01T00:00:00.000Z", finishedAt: null, ...extra,
  };
}
const progress = (percent: number): MigrationProgress => ({
  kind: "migrate", phase: "copying", memoryTotalBytes: 100, memoryProcessedBytes: percent, memoryRemainingBytes: 100 - percent,
  bandwidthBytesPerSec: 1, dirtyRateBytesPerSec: 0, iteration: 1, expectedDowntimeMs: null, percent, downtimeMs: null,
});
const hostsOf = (...hs: ReturnType<typeof hypervisor>[]) => new Map(hs.map((h) => [h.name, h]));

describe("applyJob", () => {
  it("takes progress from a running job", () => {
    const next = applyJob(migration(), job("op-1", "running", { progress: progress(40) }), NOW);
    expect(next).toMatchObject({ state: "running", progress: { percent: 40 }, updatedAt: NOW, finishedAt: null, error: null });
  });

  it("keeps the last progress when an update carries none", () => {
    const op = migration({ progress: progress(40) });
    expect(applyJob(op, job("op-1", "running"), NOW).progress).toEqual(progress(40));
  });

  it("settles a succeeded job with its finish time", () => {
    expect(applyJob(migration(), job("op-1", "succeeded"), NOW)).toMatchObject({ state: "succeeded", error: null, finishedAt: "2025-01-01T00:01:00.000Z" });
  });

  it("carries the agent's error on failure", () => {
    const next = applyJob(migration(), job("op-1", "failed", { error: "lost connection to kvm2" }), NOW);
    expect(next).toMatchObject({ state: "failed", error: "lost connection to kvm2" });
  });

  it("settles a cancelled job as cancelled", () => {
    expect(applyJob(migration(), job("op-1", "cancelled", { error: null }), NOW)).toMatchObject({ state: "cancelled", error: "cancelled" });
  });

  it("ignores updates after a final state", () => {
    const done = applyJob(migration(), job("op-1", "succeeded"), NOW);
    expect(applyJob(done, job("op-1", "running", { progress: progress(10) }), NOW)).toBe(done);
  });
});

describe("settleLostJob (the agent restarted and forgot the job)", () => {
  it("migration succeeded when the VM runs on the destination only", () => {
    const hosts = hostsOf(hypervisor("kvm1", [vm("web-1", { state: "shutoff" })]), hypervisor("kvm2", [vm("web-1")]));
    const next = settleLostJob(migration(), hosts, NOW)!;
    expect(next).toMatchObject({ state: "succeeded", error: null, finishedAt: NOW });
    expect(next.summary).toBe("Migrate web-1 from kvm1 to kvm2 (outcome reconciled: web-1 runs on kvm2)");
  });

  it("migration failed when the VM still runs on the source", () => {
    const hosts = hostsOf(hypervisor("kvm1", [vm("web-1")]), hypervisor("kvm2"));
    expect(settleLostJob(migration(), hosts, NOW)).toMatchObject({ state: "failed", error: "outcome reconciled: VM still on source kvm1" });
  });

  it("migration failed and flagged when the VM runs on both hosts", () => {
    const hosts = hostsOf(hypervisor("kvm1", [vm("web-1")]), hypervisor("kvm2", [vm("web-1")]));
    expect(settleLostJob(migration(), hosts, NOW)).toMatchObject({ state: "failed", error: "outcome reconciled: web-1 runs on both kvm1 and kvm2" });
  });

  it("migration failed when the VM runs nowhere", () => {
    const hosts = hostsOf(hypervisor("kvm1"), hypervisor("kvm2"));
    expect(settleLostJob(migration(), hosts, NOW)?.error).toBe("outcome reconciled: web-1 runs on neither kvm1 nor kvm2");
  });

  it("migration waits while the destination is not online", () => {
    const hosts = hostsOf(hypervisor("kvm1"), hypervisor("kvm2", [vm("web-1")], { online: false }));
    expect(settleLostJob(migration(), hosts, NOW)).toBeNull();
  });

  const scaleOp = (replicas: number) =>
    migration({ kind: "scale", target: { type: "service", name: "web" }, host: "mgr", summary: "Scale web from 2 to 4 replicas", params: { service: "web", replicas } });

  it("scale succeeded when the service wants the requested replicas", () => {
    const next = settleLostJob(scaleOp(4), hostsOf(manager("mgr", [service("web", 4, 3)])), NOW)!;
    expect(next).toMatchObject({ state: "succeeded", summary: "Scale web from 2 to 4 replicas (outcome reconciled: 4 replicas desired, 3 running)" });
  });

  it("scale failed when the service still wants another count", () => {
    expect(settleLostJob(scaleOp(4), hostsOf(manager("mgr", [service("web", 2)])), NOW)).toMatchObject({
      state: "failed",
      error: "outcome reconciled: service has 2 replicas desired, not 4",
    });
  });

  it("scale failed when the service is gone", () => {
    expect(settleLostJob(scaleOp(4), hostsOf(manager("mgr", [])), NOW)?.error).toBe("outcome reconciled: service web no longer exists");
  });
});

describe("progress never runs backwards", () => {
  it("keeps the highest percent and iteration while the other figures stay current", () => {
    const late = { ...progress(30), iteration: 2, memoryRemainingBytes: 90 };
    expect(forwardOnly({ ...progress(45), iteration: 3 }, late)).toEqual({ ...late, percent: 45, iteration: 3 });
  });

  it("applies to job updates: a lower percent from the agent does not lower the operation's", () => {
    const op = migration({ progress: progress(60) });
    expect(applyJob(op, job("op-1", "running", { progress: progress(55) }), NOW).progress).toMatchObject({ percent: 60, memoryProcessedBytes: 55 });
  });

  it("takes a progress of another kind as it is", () => {
    const scale = { kind: "scale" as const, service: "web", desired: 3, running: 1 };
    expect(forwardOnly(progress(50), scale)).toEqual(scale);
  });
});

describe("settleLostJob for a storage move", () => {
  const move = (extra: Partial<Operation> = {}) =>
    migration({
      kind: "storage-move",
      summary: "Move disk vda of web-1 from /instance to /instance2",
      params: { disk: "vda", sourcePath: "/instance/web-1.qcow2", destinationPath: "/instance2/web-1.qcow2", toDatastore: "/instance2" },
      ...extra,
    });
  const onDisk = (path: string) => vm("web-1", { disks: [{ target: "vda", path, pool: null, capacityBytes: 1 }] });

  it("succeeded when the disk is on the new path", () => {
    expect(settleLostJob(move(), hostsOf(hypervisor("kvm1", [onDisk("/instance2/web-1.qcow2")])), NOW)).toMatchObject({
      state: "succeeded",
      summary: "Move disk vda of web-1 from /instance to /instance2 (outcome reconciled: vda of web-1 is on /instance2)",
    });
  });

  it("failed when the disk is still on the old path", () => {
    expect(settleLostJob(move(), hostsOf(hypervisor("kvm1", [onDisk("/instance/web-1.qcow2")])), NOW)?.error).toBe("outcome reconciled: vda of web-1 still uses /instance/web-1.qcow2");
  });

  it("waits while the host is not online, fails when the VM is gone", () => {
    expect(settleLostJob(move(), hostsOf(hypervisor("kvm1", [], { online: false })), NOW)).toBeNull();
    expect(settleLostJob(move(), hostsOf(hypervisor("kvm1")), NOW)?.error).toBe("outcome reconciled: web-1 or its disk vda is no longer on kvm1");
  });
});

describe("create and delete operations", () => {
  const create = (extra: Partial<Operation> = {}) =>
    migration({
      kind: "create",
      target: { type: "instance", name: "web-9" },
      summary: "Create web-9 on kvm1 from debian-12",
      params: { volumePath: "/instance/web-9.qcow2", bridge: "br-ovs", vlan: 40, vnis: [6100] },
      ...extra,
    });
  const step = (id: string, state: "running" | "succeeded") => ({ id, label: id, detail: "", state, startedAt: NOW, finishedAt: null, log: [] });

  it("the steps the agent reports become the operation's steps", () => {
    const steps = [step("check", "succeeded"), step("build-volume", "running")];
    const next = applyJob(create(), job("op-1", "running", { kind: "create", progress: { kind: "create", steps, address: null, undone: [] } }), NOW);
    expect(next.steps).toEqual(steps);
  });

  it("a lost create: succeeded when the VM runs, failed (and to be cleaned up) when it is defined but off or missing; waits while the host is away", () => {
    expect(settleLostJob(create(), hostsOf(hypervisor("kvm1", [vm("web-9")])), NOW)?.state).toBe("succeeded");
    expect(settleLostJob(create(), hostsOf(hypervisor("kvm1", [vm("web-9", { state: "shutoff" })])), NOW)?.error).toBe(
      "outcome reconciled: kvm1's agent lost the job; web-9 was defined but is shutoff; removing what the create made",
    );
    expect(settleLostJob(create(), hostsOf(hypervisor("kvm1")), NOW)?.error).toMatch(/before web-9 was defined/);
    expect(settleLostJob(create(), hostsOf(hypervisor("kvm1", [], { online: false })), NOW)).toBeNull();
  });

  it("the cleanup of a lost create undoes everything the create could have made", () => {
    expect(lostCreateCleanup(create())?.actions.map((a) => a.kind)).toEqual(["destroy-domain", "undefine-domain", "release-network", "remove-volume"]);
    expect(lostCreateCleanup(create({ params: {} }))).toBeNull();
  });

  it("a lost delete: succeeded once the VM is no longer defined there", () => {
    const del = create({ kind: "delete", summary: "Delete web-9 on kvm1" });
    expect(settleLostJob(del, hostsOf(hypervisor("kvm1")), NOW)?.state).toBe("succeeded");
    expect(settleLostJob(del, hostsOf(hypervisor("kvm1", [vm("web-9")])), NOW)?.state).toBe("failed");
  });
});

describe("settleLostJob for stacks", () => {
  const stackOp = (kind: "stack-deploy" | "stack-remove"): Operation => ({
    ...migration(),
    kind,
    target: { type: "stack", name: "shop" },
    host: "mgr",
    params: { stack: "shop", services: ["shop_web", "shop_db"] },
  });
  const inStack = (name: string, desired: number, running: number) => ({ ...service(name, desired, running), stack: "shop" });

  it("a deploy succeeded when every service of the file runs its replicas", () => {
    const hosts = new Map([["mgr", manager("mgr", [inStack("shop_web", 2, 2), inStack("shop_db", 1, 1)])]]);
    expect(settleLostJob(stackOp("stack-deploy"), hosts, NOW)).toMatchObject({ state: "succeeded", summary: expect.stringContaining("shop runs its 2 services") });
  });

  it("a deploy failed, naming what is missing or short", () => {
    const hosts = new Map([["mgr", manager("mgr", [inStack("shop_web", 2, 1)])]]);
    expect(settleLostJob(stackOp("stack-deploy"), hosts, NOW)?.error).toBe("outcome reconciled: mgr's agent lost the job; shop_db missing, shop_web 1/2");
  });

  it("a remove succeeded once no service of the stack is left, and waits while the manager is away", () => {
    expect(settleLostJob(stackOp("stack-remove"), new Map([["mgr", manager("mgr", [service("other", 1)])]]), NOW)?.state).toBe("succeeded");
    expect(settleLostJob(stackOp("stack-remove"), new Map([["mgr", manager("mgr", [inStack("shop_web", 1, 1)])]]), NOW)?.error).toMatch(/shop_web still there/);
    expect(settleLostJob(stackOp("stack-remove"), new Map(), NOW)).toBeNull();
  });
});
