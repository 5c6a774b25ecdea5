import type { StorageMoveProgress } from "@nimbus/domain";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { labHarness } from "./helpers/lab-harness.js";
import { eventually } from "./helpers/wait.js";

/** Disk moves between the lab's two datastores, end to end over SSH. */
let h: Awaited<ReturnType<typeof labHarness>>;
beforeAll(async () => {
  h = await labHarness(20);
});
afterEach(() => h.afterEach());
afterAll(() => h?.close());

type Fleet = Awaited<ReturnType<typeof h.fleet>>;
const diskPath = (fleet: Fleet, vm: string) =>
  fleet.hosts().flatMap((x) => x.inventory.virt?.domains ?? []).find((d) => d.name === vm && (d.state === "running" || d.state === "shutoff"))?.disks[0]?.path;
const used = (fleet: Fleet, path: string) =>
  fleet.hosts().find((x) => x.inventory.storage?.nfs?.vip?.heldHere)?.inventory.storage?.nfs?.datastores.find((d) => d.path === path)?.usedBytes ?? NaN;
const fast = { bandwidthMiBps: null };
const slow = { bandwidthMiBps: 200 };

describe("storage migration over the lab", () => {
  it("moves a running VM's disk live, with progress, verify and switch-over; the old copy is freed after", async () => {
    const { fleet, ops } = await h.server();
    const seen = h.track(ops);
    const [before1, before2] = [used(fleet, "/instance"), used(fleet, "/instance2")];
    const op = await ops.startStorageMove({ instance: "acme-web1", disk: "vda", datastore: "/instance2", ...fast }, "alice");
    expect(op).toMatchObject({ kind: "storage-move", state: "running", params: { mode: "live", destinationPath: "/instance2/acme-web1.qcow2" } });
    const final = await h.settled(ops, op.id);
    expect(final).toMatchObject({ state: "succeeded", progress: { phase: "done", percent: 100 } });
    const phases = [...new Set(seen.filter((s) => s.op.id === op.id).map((s) => (s.op.progress as StorageMoveProgress | null)?.phase).filter(Boolean))];
    expect(phases).toEqual(expect.arrayContaining(["copying", "verifying", "switchover", "done"]));
    await eventually(() => diskPath(fleet, "acme-web1") === "/instance2/acme-web1.qcow2", "the inventory to show the new path");
    await eventually(() => used(fleet, "/instance2") > before2 && used(fleet, "/instance") < before1, "usage to move between the datastores");
  });

  it("copies the disk of a VM that is off", async () => {
    const { fleet, ops } = await h.server();
    const op = await ops.startStorageMove({ instance: "initech-legacy", disk: "vda", datastore: "/instance2", ...fast }, "alice");
    expect(op.params.mode).toBe("offline");
    expect(await h.settled(ops, op.id)).toMatchObject({ state: "succeeded" });
    await eventually(() => diskPath(fleet, "initech-legacy") === "/instance2/initech-legacy.qcow2", "the new path");
  });

  it("the destination breaks mid-way: fails with the reason, the VM keeps its disk, the partial copy is gone", async () => {
    const { fleet, ops } = await h.server();
    const before = used(fleet, "/instance2");
    const op = await ops.startStorageMove({ instance: "globex-app1", disk: "vda", datastore: "/instance2", ...slow }, "alice");
    try {
      await eventually(() => (ops.running().find((o) => o.id === op.id)?.progress as StorageMoveProgress | null)?.phase === "copying", "copying");
      h.lab.faults.breakDatastore("/instance2");
      const final = await h.settled(ops, op.id);
      expect(final).toMatchObject({ state: "failed", error: "block copy of globex-app1 vda to /instance2 failed: Input/output error on /instance2; globex-app1 still uses /instance/globex-app1.qcow2" });
      expect(diskPath(fleet, "globex-app1")).toBe("/instance/globex-app1.qcow2");
      await eventually(() => used(fleet, "/instance2") === before, "the partial copy removed");
    } finally {
      h.lab.faults.repairDatastore("/instance2");
    }
  });

  it("cancelled mid-way: the VM keeps its disk", async () => {
    const { fleet, ops } = await h.server();
    const op = await ops.startStorageMove({ instance: "globex-app1", disk: "vda", datastore: "/instance2", ...slow }, "alice");
    await eventually(() => (ops.running().find((o) => o.id === op.id)?.progress as StorageMoveProgress | null)?.phase === "copying", "copying");
    await ops.cancel(op.id);
    expect(await h.settled(ops, op.id)).toMatchObject({ state: "cancelled", error: "block copy of globex-app1 vda to /instance2 was cancelled; globex-app1 still uses /instance/globex-app1.qcow2" });
    expect(diskPath(fleet, "globex-app1")).toBe("/instance/globex-app1.qcow2");
  });

  it("the server restarts mid-move: the move is settled from the agent when the server is back", async () => {
    const first = await h.server();
    const op = await first.ops.startStorageMove({ instance: "acme-web2", disk: "vda", datastore: "/instance2", ...slow }, "alice");
    await eventually(() => first.ops.running().find((o) => o.id === op.id)?.progress, "first progress");
    await first.ops.stop();
    first.fleet.stop();
    const fleet = await h.fleet();
    const ops = await h.operations(fleet, first.store);
    expect(await h.settled(ops, op.id, 30_000)).toMatchObject({ state: "succeeded" });
    await eventually(() => diskPath(fleet, "acme-web2") === "/instance2/acme-web2.qcow2", "the new path");
  });

  it("the host loses power mid-move: once it is back, the lost job is settled from the inventory", async () => {
    const { fleet, ops } = await h.server();
    const host = h.hostOf("initech-ci");
    const op = await ops.startStorageMove({ instance: "initech-ci", disk: "vda", datastore: "/instance2", ...slow }, "alice");
    try {
      await eventually(() => (ops.running().find((o) => o.id === op.id)?.progress as StorageMoveProgress | null)?.phase === "copying", "copying");
      h.lab.faults.stopHost(host);
      await eventually(() => fleet.host(host)?.connection.state === "unreachable", `${host} down`);
      h.lab.faults.startHost(host);
      const final = await h.settled(ops, op.id, 30_000);
      expect(final).toMatchObject({ state: "failed", error: "outcome reconciled: vda of initech-ci still uses /instance/initech-ci.qcow2" });
    } finally {
      if (h.lab.faults.active().some((f) => f.fault === "stop-host")) h.lab.faults.startHost(host);
    }
  });

  it("refuses a move the destination has no room for, before anything starts", async () => {
    const { fleet, ops } = await h.server();
    try {
      h.lab.faults.fillDatastore("/instance2", 99.9);
      await eventually(() => used(fleet, "/instance2") > 0.99 * 1024 ** 4, "the inventory to see /instance2 full");
      await expect(ops.startStorageMove({ instance: "acme-db", disk: "vda", datastore: "/instance2" }, "alice")).rejects.toMatchObject({
        code: "PRECONDITION_FAILED",
        message: expect.stringMatching(/^cannot move vda of acme-db to \/instance2: needs 100\.0 GiB, \/instance2 has 1\.0 GiB free$/),
      });
    } finally {
      h.lab.faults.restoreDatastore("/instance2");
    }
  });
});
