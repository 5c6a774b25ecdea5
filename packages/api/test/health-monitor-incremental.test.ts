import { beforeEach, describe, expect, it, vi } from "vitest";
import * as domain from "@nimbus/domain";
import { HealthMonitor, type HealthChanges } from "../src/services/health-monitor.js";
import { healthFleet, nfsSection } from "./health-fleet.js";

// Counts how often each rule runs; the rules themselves are the real ones.
vi.mock("@nimbus/domain", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@nimbus/domain")>();
  return { ...actual, hostChecks: vi.fn(actual.hostChecks), storageChecks: vi.fn(actual.storageChecks), swarmChecks: vi.fn(actual.swarmChecks) };
});
const hostChecks = vi.mocked(domain.hostChecks);
const storageChecks = vi.mocked(domain.storageChecks);
const swarmChecks = vi.mocked(domain.swarmChecks);
const evaluatedHosts = () => hostChecks.mock.calls.map(([h]) => h.name);

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

function setup(hysteresis?: domain.Hysteresis) {
  const f = healthFleet();
  const monitor = new HealthMonitor(f.fleet, { hysteresis });
  const heard: HealthChanges[] = [];
  monitor.subscribe((c) => heard.push(c));
  monitor.sample(at(0));
  vi.clearAllMocks();
  heard.length = 0;
  const check = (id: string) => monitor.checks().find((c) => c.id === id)!;
  return { ...f, monitor, heard, check };
}

beforeEach(() => vi.clearAllMocks());

describe("HealthMonitor samples only what changed", () => {
  it("re-evaluates no host and reports nothing when the fleet did not change", () => {
    const { monitor, heard } = setup();
    const before = monitor.checks();
    monitor.sample(at(1));
    monitor.sample(at(2));
    expect(heard).toEqual([]);
    expect(hostChecks).not.toHaveBeenCalled();
    expect(storageChecks).not.toHaveBeenCalled();
    expect(swarmChecks).not.toHaveBeenCalled();
    expect(monitor.checks()).toBe(before);
  });

  it("re-evaluates only the host whose VM changed, replaced the way the fleet replaces records", () => {
    const { replace, monitor, heard } = setup();
    replace("kvm1", (h) => ({ ...h, inventory: { ...h.inventory, virt: { ...h.inventory.virt!, domains: h.inventory.virt!.domains.map((d, i) => (i ? d : { ...d, state: "crashed" as const })) } } }));
    monitor.sample(at(1));
    expect(evaluatedHosts()).toEqual(["kvm1"]);
    expect(storageChecks).not.toHaveBeenCalled();
    expect(heard.flatMap((c) => c.upsert.map((x) => x.id)).sort()).toEqual(["host:kvm1", "instance:vm-1-0"]);
  });

  it("sees a VM's state edited in place, not only a replaced record", () => {
    const { hosts, index, monitor, check } = setup();
    hosts[index("kvm2")]!.inventory.virt!.domains[1]!.state = "crashed";
    monitor.sample(at(1));
    expect(evaluatedHosts()).toEqual(["kvm2"]);
    expect(check("instance:vm-2-1").state).toBe("crit");
  });

  it("does not re-evaluate a host whose only change is one its checks do not read (CPU, lastSeen while online)", () => {
    const { replace, monitor } = setup();
    replace("kvm0", (h) => ({ ...h, connection: { ...h.connection, lastSeen: at(1) }, inventory: { ...h.inventory, node: { ...h.inventory.node!, cpuUsagePct: 99 } } }));
    monitor.sample(at(1));
    expect(hostChecks).not.toHaveBeenCalled();
  });

  it("keeps advancing a pending fall while the raw result stays the same, and dates the flip exactly", () => {
    const { replace, monitor, heard, check } = setup({ rise: 2, fall: 3 });
    replace("nfs1", (h) => ({ ...h, inventory: { ...h.inventory, storage: nfsSection(true, 95) } }));
    monitor.sample(at(1));
    expect(check("storage:capacity:/instance")).toMatchObject({ state: "ok", message: "95 % used (failing, 1 sample)", since: at(0) });
    monitor.sample(at(2));
    expect(check("storage:capacity:/instance")).toMatchObject({ state: "ok", message: "95 % used (failing, 2 samples)" });
    monitor.sample(at(3));
    expect(check("storage:capacity:/instance")).toMatchObject({ state: "crit", message: "95 % used", since: at(3) });
    // Raw input changed once: the rule ran once, the probe three times.
    expect(storageChecks).toHaveBeenCalledTimes(1);
    expect(heard).toHaveLength(3);
    monitor.sample(at(4));
    expect(heard).toHaveLength(3);
  });

  it("keeps advancing a pending rise, showing the failing state until it completes", () => {
    const { replace, monitor, check } = setup({ rise: 2, fall: 1 });
    replace("nfs1", (h) => ({ ...h, inventory: { ...h.inventory, storage: nfsSection(true, 95) } }));
    monitor.sample(at(1));
    replace("nfs1", (h) => ({ ...h, inventory: { ...h.inventory, storage: nfsSection(true, 40) } }));
    monitor.sample(at(2));
    expect(check("storage:capacity:/instance")).toMatchObject({ state: "crit", message: "40 % used (recovering, 1 sample)", since: at(1) });
    monitor.sample(at(3));
    expect(check("storage:capacity:/instance")).toMatchObject({ state: "ok", message: "40 % used", since: at(3) });
  });

  it("falls a host connection after two unchanged unreachable samples without re-evaluating it", () => {
    const { replace, monitor, check } = setup();
    replace("kvm0", (h) => ({ ...h, connection: { ...h.connection, state: "unreachable", message: "no route to host" } }));
    monitor.sample(at(1));
    expect(check("host:kvm0").state).toBe("ok");
    monitor.sample(at(2));
    expect(check("host:kvm0")).toMatchObject({ state: "crit", since: at(2) });
    expect(evaluatedHosts()).toEqual(["kvm0"]);
  });

  it("moves the VIP check when the VIP moves, and only then evaluates storage", () => {
    const { replace, monitor, check } = setup({ rise: 1, fall: 1 });
    replace("nfs1", (h) => ({ ...h, inventory: { ...h.inventory, storage: nfsSection(false) } }));
    replace("nfs2", (h) => ({ ...h, inventory: { ...h.inventory, storage: nfsSection(true) } }));
    monitor.sample(at(1));
    expect(check("storage:vip").message).toBe("held by nfs2");
    expect(storageChecks).toHaveBeenCalledTimes(1);
    expect(swarmChecks).not.toHaveBeenCalled();
  });

  it("re-evaluates storage when a hypervisor stops mounting the datastore, since the VIP check lists who mounts it", () => {
    const { hosts, index, monitor, check } = setup();
    expect(check("storage:vip").affects).toContain("kvm1");
    hosts[index("kvm1")]!.inventory.storage!.mounts.length = 0;
    monitor.sample(at(1));
    expect(check("storage:vip").affects).not.toContain("kvm1");
  });

  it("takes the swarm from the next manager when the first one goes offline", () => {
    const { replace, monitor, check } = setup({ rise: 1, fall: 1 });
    replace("dock2", (h) => ({ ...h, inventory: { ...h.inventory, swarm: { ...h.inventory.swarm!, services: h.inventory.swarm!.services.map((s) => ({ ...s, replicasRunning: 0 })) } } }));
    monitor.sample(at(1));
    expect(check("swarm:service:svc0").state).toBe("ok");
    replace("dock1", (h) => ({ ...h, connection: { ...h.connection, state: "unreachable" } }));
    monitor.sample(at(2));
    expect(check("swarm:service:svc0")).toMatchObject({ state: "crit", message: "0/2 replicas running" });
  });

  it("drops the checks of a host that left the fleet", () => {
    const { hosts, index, monitor, heard } = setup();
    hosts.splice(index("kvm2"), 1);
    monitor.sample(at(1));
    expect(heard[0]!.remove).toEqual(["host:kvm2"]);
    expect(monitor.checks().some((c) => c.id === "host:kvm2")).toBe(false);
  });
});

describe("HealthMonitor during a mass connect", () => {
  it("samples every third period while a tenth of the hosts (20 at least) are connecting, every period otherwise", () => {
    const f = healthFleet(40, 1); // 44 hosts
    const monitor = new HealthMonitor(f.fleet);
    monitor.sample(at(0));
    vi.clearAllMocks();
    const set = (names: string[], state: "connecting" | "online") => names.forEach((name) => f.replace(name, (h) => ({ ...h, connection: { ...h.connection, state } })));
    const many = Array.from({ length: 20 }, (_, i) => `kvm${i}`);
    set(many, "connecting");
    monitor.tick(at(1));
    monitor.tick(at(2));
    expect(hostChecks).not.toHaveBeenCalled();
    monitor.tick(at(3));
    expect(evaluatedHosts()).toEqual(many);
    vi.clearAllMocks();
    // 19 connecting: a few hosts reconnecting, sampled every period.
    set(["kvm0"], "online");
    monitor.tick(at(4));
    expect(evaluatedHosts()).toEqual(["kvm0"]);
    vi.clearAllMocks();
    // In a small fleet, one host of seven connecting is no mass connect either.
    const { monitor: small, replace } = setup();
    replace("kvm1", (h) => ({ ...h, connection: { ...h.connection, state: "connecting" } }));
    small.tick(at(5));
    expect(evaluatedHosts()).toEqual(["kvm1"]);
  });
});
