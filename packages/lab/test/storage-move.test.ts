import { afterEach, describe, expect, it } from "vitest";
import { StorageMoveProgress } from "@nimbus/domain";
import { LabFaults } from "../src/faults.js";
import { migrateDomain } from "../src/world/migration.js";
import { powerDomain } from "../src/world/power.js";
import { virtSection } from "../src/world/sections/virt.js";
import { moveDisk } from "../src/world/storage-move.js";
import { TIMINGS } from "../src/world/timings.js";
import type { World } from "../src/world/world.js";
import { jobContext, migrateParams, testWorld } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());

const GiB = 1024 ** 3;
const params = (domain: string, to = "/instance2", bandwidthMiBps: number | null = null) => ({
  jobId: `move-${domain}`,
  domain,
  disk: "vda",
  destinationPath: `${to}/${domain}.qcow2`,
  bandwidthMiBps,
});
const move = (vm: string, host: string, p = params(vm)) => {
  const ctx = jobContext<StorageMoveProgress>();
  return { ctx, done: moveDisk(world, host, p, ctx) };
};
const used = (path: string) => world.nfs.datastores.find((d) => d.path === path)!.usedBytes;
const diskOf = (host: string, vm: string) => virtSection(world, host).domains.find((d) => d.name === vm)!.disks[0]!;
const copying = (ctx: { reached(pred: (p: StorageMoveProgress) => boolean): Promise<unknown> }) => ctx.reached((r) => r.phase === "copying");

describe("storage move (live block copy)", () => {
  it("copies, verifies, switches the running VM to the new file and only then frees the old copy", async () => {
    world = testWorld();
    const [srcBefore, dstBefore] = [used("/instance"), used("/instance2")];
    const { ctx, done } = move("acme-web1", "kvm1");
    await ctx.reached((r) => r.phase === "copying" && r.percent > 30);
    expect(diskOf("kvm1", "acme-web1").path).toBe("/instance/acme-web1.qcow2");
    expect(used("/instance")).toBe(srcBefore);
    await done;
    const allocated = Math.round(20 * GiB * TIMINGS.diskAllocatedShare);
    expect(diskOf("kvm1", "acme-web1")).toMatchObject({ path: "/instance2/acme-web1.qcow2", pool: "instance2" });
    expect(used("/instance2") - dstBefore).toBeCloseTo(allocated, -3);
    expect(srcBefore - used("/instance")).toBe(allocated);
    expect(world.vms.get("acme-web1")!.state).toBe("running");
    const phases = [...new Set(ctx.reports.map((r) => r.phase))];
    expect(phases).toEqual(["preparing", "copying", "verifying", "switchover", "cleanup", "done"]);
    for (let i = 1; i < ctx.reports.length; i++) expect(ctx.reports[i]!.percent).toBeGreaterThanOrEqual(ctx.reports[i - 1]!.percent);
    expect(ctx.reports.every((r) => r.mode === "live" && StorageMoveProgress.safeParse(r).success)).toBe(true);
    expect(ctx.reports.at(-1)).toMatchObject({ percent: 100, bytesCopied: allocated });
  });

  it("copies at the requested bandwidth", async () => {
    world = testWorld();
    const { ctx, done } = move("acme-web1", "kvm1", params("acme-web1", "/instance2", 2000));
    await done;
    const steps = ctx.reports.filter((r) => r.phase === "copying");
    expect(steps[0]!.bandwidthBytesPerSec).toBe(2000 * 1024 * 1024);
    expect(steps[0]!.bytesCopied).toBe((2000 * 1024 * 1024 * TIMINGS.storageTickMs) / 1000);
  });

  it("cancelled while copying: the partial copy is removed and the VM keeps its old disk", async () => {
    world = testWorld();
    const before = used("/instance2");
    const { ctx, done } = move("acme-web1", "kvm1");
    await copying(ctx);
    ctx.cancel();
    await expect(done).rejects.toThrow("block copy of acme-web1 vda to /instance2 was cancelled; acme-web1 still uses /instance/acme-web1.qcow2");
    expect(used("/instance2")).toBe(before);
    expect(diskOf("kvm1", "acme-web1").path).toBe("/instance/acme-web1.qcow2");
    expect(world.vms.get("acme-web1")!.diskJob).toBe(false);
  });

  it("fails with ENOSPC when the destination fills up mid-way", async () => {
    world = testWorld();
    const faults = new LabFaults(world);
    const { ctx, done } = move("initech-files", "kvm2");
    await copying(ctx);
    faults.fillDatastore("/instance2", 100);
    await expect(done).rejects.toThrow(/No space left on device; initech-files still uses \/instance\/initech-files.qcow2/);
    expect(diskOf("kvm2", "initech-files").path).toBe("/instance/initech-files.qcow2");
  });

  it("fails with an I/O error when the destination datastore breaks mid-way", async () => {
    world = testWorld();
    const faults = new LabFaults(world);
    const { ctx, done } = move("acme-web1", "kvm1");
    await copying(ctx);
    faults.breakDatastore("/instance2");
    await expect(done).rejects.toThrow("block copy of acme-web1 vda to /instance2 failed: Input/output error on /instance2; acme-web1 still uses /instance/acme-web1.qcow2");
  });

  it("fails when its hypervisor loses power mid-way", async () => {
    world = testWorld();
    const faults = new LabFaults(world);
    const { ctx, done } = move("acme-web1", "kvm1");
    await copying(ctx);
    faults.stopHost("kvm1");
    await expect(done).rejects.toThrow(/failed: kvm1 lost power/);
  });
});

describe("storage move (offline copy)", () => {
  it("copies the disk of a VM that is off, and refuses to start it meanwhile", async () => {
    world = testWorld();
    const { ctx, done } = move("initech-legacy", "kvm1");
    await copying(ctx);
    await expect(powerDomain(world, "kvm1", "initech-legacy", "start")).rejects.toThrow("cannot start initech-legacy on kvm1: its disk is being copied to another datastore");
    await done;
    expect(ctx.reports.every((r) => r.mode === "offline")).toBe(true);
    expect(diskOf("kvm1", "initech-legacy").path).toBe("/instance2/initech-legacy.qcow2");
  });
});

describe("storage move refusals", () => {
  it("refuses the datastore the disk is already on, one not mounted here, a taken file, a missing disk", async () => {
    world = testWorld();
    const faults = new LabFaults(world);
    await expect(move("acme-web1", "kvm1", params("acme-web1", "/instance")).done).rejects.toThrow("/instance/acme-web1.qcow2 is already on /instance");
    await expect(move("acme-web1", "kvm1", { ...params("acme-web1"), destinationPath: "/instance2/acme-web2.qcow2" }).done).resolves.toBeUndefined();
    await expect(move("acme-web2", "kvm2").done).rejects.toThrow("/instance2/acme-web2.qcow2 already exists on /instance2");
    faults.unmountDatastore("kvm2", "/instance2");
    await expect(move("acme-db", "kvm2").done).rejects.toThrow("Cannot access storage file '/instance2/acme-db.qcow2': No such file or directory (no datastore mounted there on kvm2)");
    await expect(move("acme-db", "kvm2", { ...params("acme-db"), disk: "vdb" }).done).rejects.toThrow("disk vdb of acme-db not found");
  });

  it("a VM cannot migrate while its disk is copied, nor be copied while it migrates", async () => {
    world = testWorld();
    const { ctx, done } = move("acme-web1", "kvm1");
    await copying(ctx);
    await expect(migrateDomain(world, "kvm1", migrateParams("acme-web1", "kvm2"), jobContext())).rejects.toThrow("acme-web1 has a block job running (disk copy); migrate it once the copy ends");
    await done;
    const migration = migrateDomain(world, "kvm1", migrateParams("acme-web1", "kvm2"), jobContext());
    await expect(move("acme-web1", "kvm1", params("acme-web1", "/instance")).done).rejects.toThrow("acme-web1 already has a migration or block job running");
    await migration;
  });
});
