import { describe, expect, it } from "vitest";
import type { HostRecord } from "@nimbus/domain";
import { HealthMonitor, type HealthChanges } from "../src/services/health-monitor.js";
import { healthFleet } from "./health-fleet.js";

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

/** Each host's VM section read through a proxy that notes which host was read. */
function watched(hosts: HostRecord[], reads: string[]) {
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i]!;
    const inventory = new Proxy(h.inventory, {
      get(target, key, receiver) {
        if (key === "virt") reads.push(h.name);
        return Reflect.get(target, key, receiver);
      },
    });
    hosts[i] = { ...h, inventory };
  }
}

/** Runs `work` while marking every turn of the event loop in `reads` ("|"), until it settles. */
async function withTurns(reads: string[], work: () => Promise<void>) {
  let done = false;
  const mark = () => {
    if (done) return;
    reads.push("|");
    setImmediate(mark);
  };
  // Marked first, so each of the work's turns is followed by a mark before its next one.
  setImmediate(mark);
  await new Promise<void>((resolve) => setImmediate(resolve));
  await work().finally(() => (done = true));
}

const perTurn = (reads: string[]) =>
  reads
    .join(",")
    .split("|")
    .map((turn) => new Set(turn.split(",").filter(Boolean)).size);

describe("HealthMonitor samples the fleet in slices on its timer", () => {
  it("reads at most `sliceHosts` hosts a turn and reports what a sample in one turn reports", async () => {
    const sliced = healthFleet(230, 3);
    const whole = healthFleet(230, 3);
    // A crashed VM and a host down in both fleets, so there is something to report.
    for (const f of [sliced, whole]) {
      f.replace("kvm7", (h) => ({ ...h, inventory: { ...h.inventory, virt: { ...h.inventory.virt!, domains: h.inventory.virt!.domains.map((d, i) => (i ? d : { ...d, state: "crashed" as const })) } } }));
      f.replace("kvm150", (h) => ({ ...h, connection: { ...h.connection, state: "unreachable", message: "gone" } }));
    }
    const reads: string[] = [];
    watched(sliced.hosts, reads);
    const a = new HealthMonitor(sliced.fleet, { sliceHosts: 50 });
    const b = new HealthMonitor(whole.fleet);
    const heardA: HealthChanges[] = [];
    const heardB: HealthChanges[] = [];
    a.subscribe((c) => heardA.push(c));
    b.subscribe((c) => heardB.push(c));

    for (const s of [0, 1, 2]) {
      reads.length = 0;
      await withTurns(reads, () => a.sampleInSlices(at(s)));
      b.sample(at(s));
      const turns = perTurn(reads);
      expect(Math.max(...turns)).toBeLessThanOrEqual(50);
      expect(turns.filter((n) => n > 0).length).toBeGreaterThanOrEqual(Math.ceil(sliced.hosts.length / 50));
    }
    expect(a.checks()).toEqual(b.checks());
    expect(heardA).toEqual(heardB);
    expect(a.checks().find((c) => c.id === "host:kvm150")!.state).toBe("crit");
    expect(a.checks().find((c) => c.id === "instance:vm-7-0")!.state).not.toBe("ok");
  });

  it("a host that changes or leaves while a sample is in slices is right by the next sample", async () => {
    const f = healthFleet(120, 2);
    const monitor = new HealthMonitor(f.fleet, { sliceHosts: 10 });
    monitor.sample(at(0));
    const heard: HealthChanges[] = [];
    monitor.subscribe((c) => heard.push(c));
    const run = monitor.sampleInSlices(at(1));
    // While the first slice is read: a late host goes away, an early one loses its VMs.
    f.hosts.splice(f.index("kvm110"), 1);
    f.replace("kvm0", (h) => ({ ...h, inventory: { ...h.inventory, virt: { ...h.inventory.virt!, domains: [] } } }));
    await run;
    monitor.sample(at(2));
    const ids = new Set(monitor.checks().map((c) => c.id));
    expect(ids.has("host:kvm110")).toBe(false);
    expect(ids.has("instance:vm-110-0")).toBe(false);
    expect(ids.has("instance:vm-0-0")).toBe(false);
    expect(ids.has("host:kvm0")).toBe(true);
    // Nothing removed twice, nothing that stays was removed.
    const removed = heard.flatMap((c) => c.remove);
    expect(new Set(removed).size).toBe(removed.length);
    expect(removed.filter((id) => ids.has(id))).toEqual([]);
  });

  it("a sample in one turn meanwhile, or stop, voids the sample in slices: it applies and publishes nothing", async () => {
    const f = healthFleet(100, 2);
    const monitor = new HealthMonitor(f.fleet, { sliceHosts: 10 });
    monitor.sample(at(0));
    f.replace("kvm90", (h) => ({ ...h, connection: { ...h.connection, state: "unreachable", message: "gone" } }));
    const heard: HealthChanges[] = [];
    monitor.subscribe((c) => heard.push(c));
    const run = monitor.sampleInSlices(at(1));
    monitor.sample(at(1)); // takes over
    await run;
    expect(heard.flatMap((c) => c.upsert.map((x) => x.id))).toEqual(["host:kvm90"]); // once, from the sample in one turn
    heard.length = 0;
    f.replace("kvm91", (h) => ({ ...h, connection: { ...h.connection, state: "unreachable", message: "gone" } }));
    const stopped = monitor.sampleInSlices(at(2));
    monitor.stop();
    await stopped;
    expect(heard).toEqual([]);
    // The next sample still sees kvm91's change (the voided round left its host sources consistent).
    monitor.sample(at(3));
    expect(heard.flatMap((c) => c.upsert.map((x) => x.id))).toContain("host:kvm91");
  });
});
