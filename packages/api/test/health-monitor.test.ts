import { describe, expect, it } from "vitest";
import { byUrgency, type HostRecord } from "@nimbus/domain";
import type { FleetView } from "@nimbus/fleet";
import { HealthMonitor, type HealthChanges } from "../src/services/health-monitor.js";
import { hypervisor, vm } from "../../domain/test/fixtures.js";

/** A monitor over two hypervisors (one VM each) that records what its listener hears. */
function setup() {
  const hosts: HostRecord[] = [hypervisor("kvm1", [vm({ name: "acme-1", tenant: "acme" })]), hypervisor("kvm2", [vm({ name: "globex-1", tenant: "globex" })])];
  const fleet = { hosts: () => hosts } as unknown as FleetView;
  const monitor = new HealthMonitor(fleet, { hysteresis: { rise: 1, fall: 1 } });
  const heard: HealthChanges[] = [];
  monitor.subscribe((c) => heard.push(c));
  const setVmState = (host: string, state: "running" | "crashed") => (hosts.find((h) => h.name === host)!.inventory.virt!.domains[0]!.state = state);
  return { monitor, heard, setVmState };
}

const ids = (c: HealthChanges | undefined) => c?.upsert.map((x) => x.id).sort();

describe("HealthMonitor", () => {
  it("tells listeners every check at the first sample, then only the checks that changed", () => {
    const { monitor, heard, setVmState } = setup();
    monitor.sample("2026-01-01T00:00:00.000Z");
    expect(ids(heard[0])).toEqual(["host:kvm1", "host:kvm2"]);
    setVmState("kvm2", "crashed");
    monitor.sample("2026-01-01T00:00:01.000Z");
    // kvm2's agent check changes too: the crashed VM no longer counts among what it affects.
    expect(ids(heard[1])).toEqual(["host:kvm2", "instance:globex-1"]);
    expect(heard[1]!.remove).toEqual([]);
  });

  it("tells nobody when a sample changes nothing", () => {
    const { monitor, heard } = setup();
    monitor.sample("2026-01-01T00:00:00.000Z");
    monitor.sample("2026-01-01T00:00:01.000Z");
    expect(heard).toHaveLength(1);
  });

  it("reports a check that went away by its id", () => {
    const { monitor, heard, setVmState } = setup();
    setVmState("kvm2", "crashed");
    monitor.sample("2026-01-01T00:00:00.000Z");
    setVmState("kvm2", "running");
    monitor.sample("2026-01-01T00:00:01.000Z");
    expect(heard[1]!.remove).toEqual(["instance:globex-1"]);
    expect(ids(heard[1])).toEqual(["host:kvm2"]);
    expect(monitor.checks().map((c) => c.id)).not.toContain("instance:globex-1");
  });

  it("pushes an acknowledged check alone, and the next sample does not report it again", () => {
    const { monitor, heard, setVmState } = setup();
    setVmState("kvm2", "crashed");
    monitor.sample("2026-01-01T00:00:00.000Z");
    expect(monitor.acknowledge("instance:globex-1", "Olga", "2026-01-01T00:00:05.000Z")).toBe(true);
    expect(heard[1]).toEqual({ upsert: [expect.objectContaining({ id: "instance:globex-1", ack: { by: "Olga", at: "2026-01-01T00:00:05.000Z" } })], remove: [] });
    monitor.sample("2026-01-01T00:00:06.000Z");
    expect(heard).toHaveLength(2);
  });

  it("keeps the note given with an acknowledgement", () => {
    const { monitor, setVmState } = setup();
    setVmState("kvm2", "crashed");
    monitor.sample("2026-01-01T00:00:00.000Z");
    monitor.acknowledge("instance:globex-1", "Olga", "2026-01-01T00:00:05.000Z", "restarting it after the backup");
    expect(monitor.checks().find((c) => c.id === "instance:globex-1")!.ack).toEqual({ by: "Olga", at: "2026-01-01T00:00:05.000Z", note: "restarting it after the backup" });
  });

  it("takes an acknowledgement back, pushes the open check, and the next sample keeps it open", () => {
    const { monitor, heard, setVmState } = setup();
    setVmState("kvm2", "crashed");
    monitor.sample("2026-01-01T00:00:00.000Z");
    monitor.acknowledge("instance:globex-1", "Olga", "2026-01-01T00:00:05.000Z");
    expect(monitor.unacknowledge("instance:globex-1")).toBe(true);
    expect(heard[2]).toEqual({ upsert: [expect.objectContaining({ id: "instance:globex-1", state: "crit", ack: null })], remove: [] });
    monitor.sample("2026-01-01T00:00:06.000Z");
    expect(heard).toHaveLength(3);
    expect(monitor.checks().find((c) => c.id === "instance:globex-1")!.ack).toBeNull();
    // Nothing to take back twice, nor on a check nobody acknowledged.
    expect(monitor.unacknowledge("instance:globex-1")).toBe(false);
    expect(monitor.unacknowledge("host:kvm1")).toBe(false);
  });

  it("keeps acknowledgements across a restart: shows the stored ones, writes each change, forgets one when its check recovers", () => {
    const hosts: HostRecord[] = [hypervisor("kvm2", [vm({ name: "globex-1", tenant: "globex", state: "crashed" })])];
    const fleet = { hosts: () => hosts } as unknown as FleetView;
    const stored = { by: "Olga", at: "2026-01-01T00:00:05.000Z", note: "on it" };
    const written: [string, unknown][] = [];
    const monitor = new HealthMonitor(fleet, {
      hysteresis: { rise: 1, fall: 1 },
      acks: { initial: new Map([["instance:globex-1", stored]]), onChange: (id, ack) => written.push([id, ack]) },
    });
    monitor.sample("2026-01-01T00:10:00.000Z");
    expect(monitor.checks().find((c) => c.id === "instance:globex-1")!.ack).toEqual(stored);
    monitor.unacknowledge("instance:globex-1");
    expect(written).toEqual([["instance:globex-1", null]]);
    monitor.acknowledge("instance:globex-1", "Ada", "2026-01-01T00:10:02.000Z", "restarting it");
    // Running again: the crash check is gone, and its acknowledgement with it.
    hosts[0]!.inventory.virt!.domains[0]!.state = "running";
    monitor.sample("2026-01-01T00:10:03.000Z");
    expect(written.slice(1)).toEqual([
      ["instance:globex-1", { by: "Ada", at: "2026-01-01T00:10:02.000Z", note: "restarting it" }],
      ["instance:globex-1", null],
    ]);
  });

  it("lists every check worst first", () => {
    const { monitor, setVmState } = setup();
    setVmState("kvm1", "crashed");
    monitor.sample("2026-01-01T00:00:00.000Z");
    const checks = monitor.checks();
    expect(checks[0]!.id).toBe("instance:acme-1");
    expect([...checks].sort(byUrgency)).toEqual(checks);
  });
});
