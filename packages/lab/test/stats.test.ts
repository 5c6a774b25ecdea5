import { afterEach, describe, expect, it } from "vitest";
import { CounterRates, StatsCounters, type MigrationProgress } from "@nimbus/domain";
import { migrateDomain } from "../src/world/migration.js";
import { powerDomain } from "../src/world/power.js";
import { labCounters } from "../src/world/stats.js";
import type { World } from "../src/world/world.js";
import { jobContext, migrateParams, testWorld, waitFor } from "./helpers.js";

/**
 * The lab's simulated counters: plausible, monotonic while nothing restarts, and reset the way a
 * real host's are (a VM started again or moved has a new qemu process). Times are passed in, so
 * nothing waits for a clock.
 */
let world: World;
afterEach(() => world?.stop());

const T = Date.now();
const dom = (c: StatsCounters, name: string) => c.domains.find((d) => d.name === name);

describe("lab counters", () => {
  it("every host's reading matches the protocol; counters only grow while nothing restarts", () => {
    world = testWorld();
    for (const host of world.hosts.keys()) {
      const a = labCounters(world, host, T);
      const b = labCounters(world, host, T + 10_000);
      expect(StatsCounters.safeParse(b).success).toBe(true);
      expect(b.cpu!.total).toBeGreaterThan(a.cpu!.total);
      expect(b.cpu!.busy).toBeGreaterThanOrEqual(a.cpu!.busy);
      for (const i of b.interfaces) expect(i.rxBytes).toBeGreaterThan(a.interfaces.find((x) => x.name === i.name)!.rxBytes);
    }
  });

  it("a hypervisor's VMs have plausible rates; its uplink carries their traffic and disk I/O", () => {
    world = testWorld();
    const rates = new CounterRates();
    for (const t of [T, T + 10_000]) rates.push("kvm1", labCounters(world, "kvm1", t), t);
    const running = [...world.hypervisor("kvm1").domains.values()].filter((v) => v.state === "running");
    expect(running.length).toBeGreaterThan(0);
    let vmBytes = 0;
    for (const vm of running) {
      const r = rates.domain("kvm1", vm.spec.name, T + 10_000)!;
      const pct = (r.cpuCores! / vm.spec.vcpus) * 100;
      expect(pct).toBeGreaterThan(1);
      expect(pct).toBeLessThan(100);
      expect(r.netRxBps).toBeGreaterThan(1024);
      expect(r.diskWriteBps).toBeGreaterThan(0);
      expect(r.memoryMiB).toBeLessThan(vm.spec.memoryMiB);
      vmBytes += r.netRxBps! + r.diskReadBps!;
    }
    const host = rates.host("kvm1", T + 10_000)!;
    expect(host.netRxBps).toBeGreaterThan(vmBytes * 0.9);
    expect(host.cpuPct).toBeGreaterThan(0);
  });

  it("a VM stopped and started again between two readings starts its counters over", async () => {
    world = testWorld();
    const vm = [...world.hypervisor("kvm1").domains.values()].find((v) => v.state === "running")!;
    labCounters(world, "kvm1", T);
    const before = dom(labCounters(world, "kvm1", T + 60_000), vm.spec.name)!;
    expect(before.cpuTimeNs).toBeGreaterThan(0);
    await powerDomain(world, "kvm1", vm.spec.name, "destroy");
    await powerDomain(world, "kvm1", vm.spec.name, "start");
    await waitFor(() => vm.state === "running", "the VM running again");
    const after = dom(labCounters(world, "kvm1", T + 70_000), vm.spec.name)!;
    expect(after.cpuTimeNs).toBeLessThan(before.cpuTimeNs);
    // And the server's rule turns that into a gap, never a negative rate.
    const rates = new CounterRates();
    rates.push("kvm1", { cpu: null, interfaces: [], domains: [before], datastores: [] }, T + 60_000);
    rates.push("kvm1", { cpu: null, interfaces: [], domains: [after], datastores: [] }, T + 70_000);
    expect(rates.domain("kvm1", vm.spec.name, T + 70_000)!.cpuCores).toBeNull();
  });

  it("a migrated VM's counters start over on its new host", async () => {
    world = testWorld();
    labCounters(world, "kvm1", T);
    const before = dom(labCounters(world, "kvm1", T + 60_000), "acme-web1")!;
    await migrateDomain(world, "kvm1", migrateParams("acme-web1", "kvm2"), jobContext<MigrationProgress>());
    expect(dom(labCounters(world, "kvm1", T + 70_000), "acme-web1")).toBeUndefined();
    const there = dom(labCounters(world, "kvm2", T + 70_000), "acme-web1")!;
    expect(there.cpuTimeNs).toBe(0);
    expect(there.netRxBytes).toBeLessThan(before.netRxBytes);
  });

  it("the storage server holding the VIP carries the VMs' disk I/O on its uplink and its datastore's device; the backup does not", () => {
    world = testWorld();
    const holder = world.nfs.master!;
    const backup = world.nfs.servers.find((s) => s.name !== holder)!.name;
    const rates = new CounterRates();
    for (const t of [T, T + 10_000]) for (const h of [holder, backup]) rates.push(h, labCounters(world, h, t), t);
    expect(rates.host(holder, T + 10_000)!.netTxBps!).toBeGreaterThan(rates.host(backup, T + 10_000)!.netTxBps! * 10);
    const io = rates.datastore(holder, "/instance", T + 10_000)!;
    expect(io.readBps).toBeGreaterThan(rates.datastore(backup, "/instance", T + 10_000)!.readBps! * 10);
    expect(io.writeBps).toBeGreaterThan(0);
  });
});
