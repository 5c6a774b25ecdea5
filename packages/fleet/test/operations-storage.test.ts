import type { HostRecord, Operation, StorageMoveProgress } from "@nimbus/domain";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MemoryOperationStore } from "../src/memory-stores.js";
import { OperationManager } from "../src/operations.js";
import { FakeFleet, hypervisor, job, vm } from "./helpers/fake-fleet.js";

const GiB = 1024 ** 3;
let fleet: FakeFleet;
let store: MemoryOperationStore;
let ops: OperationManager;

function nfs(usedPct: number): HostRecord {
  const h = hypervisor("nfs1");
  const ds = (path: string, pct: number) => ({ path, totalBytes: 1000 * GiB, usedBytes: 10 * pct * GiB });
  return {
    ...h,
    inventory: {
      ...h.inventory,
      virt: null,
      storage: { mounts: [], nfs: { serverRunning: true, exports: [], datastores: [ds("/instance", 85), ds("/instance2", usedPct)], vip: { address: "vip", heldHere: true }, keepalivedState: "master" } },
    },
  };
}
const mounts = [
  { source: "vip:/instance", target: "/instance", fstype: "nfs4" },
  { source: "vip:/instance2", target: "/instance2", fstype: "nfs4" },
];

beforeEach(async () => {
  fleet = new FakeFleet();
  store = new MemoryOperationStore();
  const kvm1 = hypervisor("kvm1", [vm("web-1", { tenant: "acme" }), vm("off-1", { state: "shutoff" })]);
  kvm1.inventory.storage = { nfs: null, mounts };
  fleet.put(kvm1);
  fleet.put(nfs(10));
  fleet.handlers.set("virt.moveDisk", (_h, p: { jobId: string }) => ({ jobId: p.jobId }));
  fleet.handlers.set("job.list", () => []);
  let n = 0;
  ops = new OperationManager(fleet, store, { newId: () => `op-${++n}` });
  await ops.start();
});
afterEach(() => ops.stop());

const progress = (percent: number): StorageMoveProgress => ({ kind: "storage-move", phase: "copying", mode: "live", bytesTotal: 100, bytesCopied: percent, bandwidthBytesPerSec: 1, percent });

describe("OperationManager.startStorageMove", () => {
  it("records the move and asks the VM's host to copy the disk to the destination's mount", async () => {
    const op = await ops.startStorageMove({ instance: "web-1", disk: "vda", datastore: "/instance2", bandwidthMiBps: 50 }, "alice");
    expect(op).toMatchObject({
      kind: "storage-move", state: "running", host: "kvm1", tenant: "acme", target: { type: "instance", name: "web-1" },
      summary: "Move disk vda of web-1 from /instance to /instance2",
      params: { disk: "vda", mode: "live", fromDatastore: "/instance", toDatastore: "/instance2", sourcePath: "/instance/web-1.qcow2", destinationPath: "/instance2/web-1.qcow2", bandwidthMiBps: 50 },
    });
    expect(fleet.sent.at(-1)).toEqual({ host: "kvm1", method: "virt.moveDisk", params: { jobId: "op-1", domain: "web-1", disk: "vda", destinationPath: "/instance2/web-1.qcow2", bandwidthMiBps: 50 } });
  });

  it("limits the bandwidth to 100 MiB/s unless asked otherwise, and copies offline for a VM that is off", async () => {
    const op = await ops.startStorageMove({ instance: "off-1", disk: "vda", datastore: "/instance2" }, "alice");
    expect(op.params).toMatchObject({ mode: "offline", bandwidthMiBps: 100 });
  });

  it("refuses with the failing checks when the destination has no room; nothing starts", async () => {
    fleet.put(nfs(99.5));
    await expect(ops.startStorageMove({ instance: "web-1", disk: "vda", datastore: "/instance2" }, "alice")).rejects.toMatchObject({
      code: "PRECONDITION_FAILED",
      message: "cannot move vda of web-1 to /instance2: needs 9.3 GiB, /instance2 has 5.0 GiB free",
    });
    expect(fleet.sent.some((s) => s.method === "virt.moveDisk")).toBe(false);
  });

  it("lets only one of two simultaneous moves of a VM through", async () => {
    const start = () => ops.startStorageMove({ instance: "web-1", disk: "vda", datastore: "/instance2" }, "alice");
    const [a, b] = await Promise.allSettled([start(), start()]);
    expect(a.status).toBe("fulfilled");
    expect(b).toMatchObject({ status: "rejected", reason: { code: "PRECONDITION_FAILED", message: expect.stringContaining("web-1 already has an operation running") } });
    expect(fleet.sent.filter((s) => s.method === "virt.moveDisk")).toHaveLength(1);
  });

  it("refuses a VM that already has an operation, and another tenant's VM as not found", async () => {
    await ops.startStorageMove({ instance: "web-1", disk: "vda", datastore: "/instance2" }, "alice");
    await expect(ops.startStorageMove({ instance: "web-1", disk: "vda", datastore: "/instance2" }, "alice")).rejects.toMatchObject({ code: "PRECONDITION_FAILED", message: /already has an operation running/ });
    await expect(ops.startStorageMove({ instance: "off-1", disk: "vda", datastore: "/instance2" }, "bob", "globex")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("follows the job's progress forward only and settles with its result", async () => {
    const seen: Operation[] = [];
    ops.subscribe((o) => seen.push(o));
    const op = await ops.startStorageMove({ instance: "web-1", disk: "vda", datastore: "/instance2" }, "alice");
    for (const p of [20, 50, 45]) fleet.job("kvm1", job(op.id, "running", { kind: "storage-move", progress: progress(p) }));
    fleet.job("kvm1", job(op.id, "failed", { kind: "storage-move", error: "block copy of web-1 vda to /instance2 failed: Input/output error on /instance2; web-1 still uses /instance/web-1.qcow2" }));
    expect(seen.map((o) => (o.progress?.kind === "storage-move" ? o.progress.percent : null))).toEqual([null, 20, 50, 50, 50]);
    expect(await ops.get(op.id)).toMatchObject({ state: "failed", error: expect.stringContaining("Input/output error") });
  });
});
