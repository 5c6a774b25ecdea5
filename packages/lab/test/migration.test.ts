import { afterEach, describe, expect, it } from "vitest";
import { MigrationProgress } from "@nimbus/domain";
import { LabFaults } from "../src/faults.js";
import { migrateDomain } from "../src/world/migration.js";
import { TIMINGS } from "../src/world/timings.js";
import { netSection } from "../src/world/sections/net.js";
import type { World } from "../src/world/world.js";
import { jobContext, migrateParams, placesOf, testWorld } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());

const migrate = (vm: string, from: string, to: string, ctx = jobContext<MigrationProgress>()) => ({ ctx, done: migrateDomain(world, from, migrateParams(vm, to), ctx) });
const ovsPortOf = (host: string, vm: string) => netSection(world, host).bridges.find((b) => b.type === "ovs")!.ports.find((p) => p.attached?.domain === vm);

describe("live migration", () => {
  it("moves a running VM: gone from the source, running on the destination, its OVS port follows", async () => {
    world = testWorld();
    expect(ovsPortOf("kvm1", "acme-web1")).toBeDefined();
    const { ctx, done } = migrate("acme-web1", "kvm1", "kvm2");
    const { downtimeMs } = await done;
    expect(placesOf(world, "acme-web1")).toEqual([{ host: "kvm2", state: "running" }]);
    expect(ovsPortOf("kvm1", "acme-web1")).toBeUndefined();
    expect(ovsPortOf("kvm2", "acme-web1")).toMatchObject({ mode: "vm", vlan: 10, up: true });
    expect(downtimeMs).toBeGreaterThan(0);
    expect(downtimeMs).toBeLessThan(300);
    expect(ctx.reports.at(-1)).toMatchObject({ phase: "finishing", percent: 100, memoryRemainingBytes: 0 });
  });

  it("reports progress with every field, a rising iteration and a percent that never decreases", async () => {
    world = testWorld();
    const { ctx, done } = migrate("acme-db", "kvm2", "kvm1");
    await done;
    for (const r of ctx.reports) expect(MigrationProgress.safeParse(r).success).toBe(true);
    const copying = ctx.reports.filter((r) => r.phase === "copying");
    expect(copying.length).toBeGreaterThan(10);
    expect(copying[0]!.memoryTotalBytes).toBe(8192 * 1024 * 1024);
    expect(Math.max(...copying.map((r) => r.iteration))).toBeGreaterThan(1);
    for (let i = 1; i < ctx.reports.length; i++) {
      expect(ctx.reports[i]!.percent).toBeGreaterThanOrEqual(ctx.reports[i - 1]!.percent);
      expect(ctx.reports[i]!.iteration).toBeGreaterThanOrEqual(ctx.reports[i - 1]!.iteration);
    }
    expect(copying.every((r) => r.bandwidthBytesPerSec > 0 && r.dirtyRateBytesPerSec > 0 && r.expectedDowntimeMs !== null)).toBe(true);
  });

  it("takes several seconds at speed 1 for a 2 GiB VM (the story, not the clock)", async () => {
    world = testWorld();
    // Counted in simulated steps, not measured: a loaded machine delays timers, not the story.
    const { ctx, done } = migrate("acme-web1", "kvm1", "kvm2");
    await done;
    const copyTicks = ctx.reports.filter((r) => r.phase === "copying").length + 1;
    const labSeconds = (TIMINGS.migrationPrepareMs + copyTicks * TIMINGS.migrationTickMs + TIMINGS.migrationFinishMs) / 1000;
    expect(labSeconds).toBeGreaterThan(4);
    expect(labSeconds).toBeLessThan(9);
  });

  it("cancelled while copying: rejects and the VM still runs on the source only", async () => {
    world = testWorld();
    const { ctx, done } = migrate("acme-web1", "kvm1", "kvm2");
    await ctx.reached((r) => r.phase === "copying");
    ctx.cancel();
    await expect(done).rejects.toThrow("migration of acme-web1 to kvm2 cancelled; acme-web1 still runs on kvm1");
    expect(placesOf(world, "acme-web1")).toEqual([{ host: "kvm1", state: "running" }]);
    expect(world.vms.get("acme-web1")!.migrating).toBe(false);
  });

  it("fails when the destination host dies mid-way; the VM stays on the source", async () => {
    world = testWorld();
    const faults = new LabFaults(world);
    const { ctx, done } = migrate("acme-web1", "kvm1", "kvm2");
    await ctx.reached((r) => r.phase === "copying");
    faults.stopHost("kvm2");
    await expect(done).rejects.toThrow("migration of acme-web1 to kvm2 failed: kvm2 is unreachable (host is down); acme-web1 still runs on kvm1");
    expect(placesOf(world, "acme-web1")).toEqual([{ host: "kvm1", state: "running" }]);
  });

  it("fails when the source dies mid-way; the VM is off, defined on the source only", async () => {
    world = testWorld();
    const { ctx, done } = migrate("acme-web1", "kvm1", "kvm2");
    await ctx.reached((r) => r.phase === "copying");
    new LabFaults(world).stopHost("kvm1");
    await expect(done).rejects.toThrow("migration of acme-web1 to kvm2 failed: acme-web1 stopped on kvm1 (shutoff) and runs nowhere");
    expect(placesOf(world, "acme-web1")).toEqual([{ host: "kvm1", state: "shutoff" }]);
  });

  it("fails at once when the destination is stopped", async () => {
    world = testWorld();
    new LabFaults(world).stopHost("kvm2");
    await expect(migrate("acme-web1", "kvm1", "kvm2").done).rejects.toThrow(/kvm2 is unreachable \(host is down\)/);
    expect(placesOf(world, "acme-web1")).toEqual([{ host: "kvm1", state: "running" }]);
  });

  it("fails when the destination's link is cut", async () => {
    world = testWorld();
    new LabFaults(world).cutLink("kvm2");
    await expect(migrate("acme-web1", "kvm1", "kvm2").done).rejects.toThrow(/kvm2 is unreachable \(no route to host/);
  });

  it("fails when libvirtd is down on the destination", async () => {
    world = testWorld();
    new LabFaults(world).stopLibvirtd("kvm2");
    await expect(migrate("acme-web1", "kvm1", "kvm2").done).rejects.toThrow(/cannot connect to libvirtd on kvm2/);
    expect(placesOf(world, "acme-web1")).toEqual([{ host: "kvm1", state: "running" }]);
  });

  it("fails when the destination's trunk does not carry the VM's VLAN", async () => {
    world = testWorld();
    new LabFaults(world).removeVlan("kvm2", 10);
    await expect(migrate("acme-web1", "kvm1", "kvm2").done).rejects.toThrow("VLAN 10 is not carried by the br-ovs trunk on kvm2 (trunk carries 20,30)");
    expect(placesOf(world, "acme-web1")).toEqual([{ host: "kvm1", state: "running" }]);
  });

  it("fails when the destination lacks the VM's bridge", async () => {
    world = testWorld((s) => ({
      ...s,
      hypervisors: s.hypervisors.map((h) => (h.name === "kvm2" ? { ...h, network: { ...h.network, ovsBridge: { ...h.network.ovsBridge, name: "br-tenants" } } } : h)),
      vms: s.vms.filter((v) => v.host === "kvm1" || v.nics.every((n) => n.bridge === "br0")),
    }));
    await expect(migrate("acme-web1", "kvm1", "kvm2").done).rejects.toThrow(/bridge br-ovs does not exist on kvm2/);
    expect(placesOf(world, "acme-web1")).toEqual([{ host: "kvm1", state: "running" }]);
  });

  it("refuses an unknown domain", async () => {
    world = testWorld();
    await expect(migrate("nope", "kvm1", "kvm2").done).rejects.toThrow("domain nope on kvm1 not found");
  });

  it("refuses a domain that is not running", async () => {
    world = testWorld();
    await expect(migrate("initech-legacy", "kvm1", "kvm2").done).rejects.toThrow(/initech-legacy: domain is not running \(shutoff\)/);
  });

  it("refuses a second migration of the same VM while the first runs", async () => {
    world = testWorld();
    const first = migrate("acme-web1", "kvm1", "kvm2");
    await expect(migrate("acme-web1", "kvm1", "kvm2").done).rejects.toThrow("acme-web1 is already being migrated");
    await first.done;
    expect(placesOf(world, "acme-web1")).toEqual([{ host: "kvm2", state: "running" }]);
  });

  it("honours a bandwidth limit (slower copy at a lower rate)", async () => {
    world = testWorld();
    const ctx = jobContext<MigrationProgress>();
    const params = { ...migrateParams("acme-web1", "kvm2"), options: { bandwidthMiBps: 800, maxDowntimeMs: null, autoConverge: false, postCopy: false } };
    await migrateDomain(world, "kvm1", params, ctx);
    expect(ctx.reports.find((r) => r.phase === "copying")!.bandwidthBytesPerSec).toBe(800 * 1024 * 1024);
    // Twice the default rate: about half the steps of the default ~22.
    expect(ctx.reports.filter((r) => r.phase === "copying").length).toBeLessThan(15);
  });
});
