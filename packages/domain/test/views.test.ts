import { describe, expect, it } from "vitest";
import { buildTopology, hostSummary, instanceCounts, instancesOf, preflight, preflightVerdict, type HostRecord } from "../src/index.js";
import { hypervisor, vm } from "./fixtures.js";

/** kvm2 powered off: the server still holds its last report, in which every VM was running. */
function poweredOff(name: string, domains = [vm({ name: "web2" }), vm({ name: "db", state: "shutoff" })]): HostRecord {
  const h = hypervisor(name, domains);
  h.connection = { ...h.connection, state: "unreachable", message: "connect ECONNREFUSED" };
  return h;
}

describe("a VM whose host does not answer", () => {
  it("has an unknown state, with the last report kept apart", () => {
    const [web2, db] = instancesOf(poweredOff("kvm2"), new Map());
    expect(web2).toMatchObject({ name: "web2", state: "unknown", reportedState: "running", hostState: "unreachable" });
    expect(db).toMatchObject({ state: "unknown", reportedState: "shutoff" });
  });

  it("is unknown while its host reconnects or waits for a key to be accepted", () => {
    for (const state of ["connecting", "key-changed", "auth-failed", "agent-missing", "protocol-mismatch"] as const) {
      const h = poweredOff("kvm2");
      h.connection = { ...h.connection, state };
      expect(instancesOf(h, new Map())[0]!.state).toBe("unknown");
    }
  });

  it("keeps its reported state while the host is online", () => {
    expect(instancesOf(hypervisor("kvm1", [vm()]), new Map())[0]).toMatchObject({ state: "running", reportedState: "running" });
  });

  it("is not counted as running on its host's summary", () => {
    expect(hostSummary(poweredOff("kvm2"))).toMatchObject({ vmsRunning: 0, vmsTotal: 2 });
    expect(hostSummary(hypervisor("kvm1", [vm(), vm({ name: "off", state: "shutoff" })]))).toMatchObject({ vmsRunning: 1, vmsTotal: 2 });
  });

  it("is counted as unknown, not running, on the Overview", () => {
    const fleet = [hypervisor("kvm1", [vm({ name: "web1" }), vm({ name: "old", state: "shutoff" })]), poweredOff("kvm2")];
    expect(instanceCounts(fleet)).toEqual({ total: 4, running: 1, unknown: 2 });
  });

  it("is unknown on the network map", () => {
    const topology = buildTopology([hypervisor("kvm1", [vm({ name: "web1" })]), poweredOff("kvm2")], []);
    const states = Object.fromEntries(topology.hosts.flatMap((h) => h.vms.map((v) => [v.name, v.state])));
    expect(states).toEqual({ web1: "running", web2: "unknown", db: "unknown" });
  });

  it("fails the migration preflight with the reason, for every destination", () => {
    const domain = vm({ name: "web2" });
    const source = poweredOff("kvm2", [domain]);
    const checks = preflight({ domain, source, destination: hypervisor("kvm1"), tenantVni: 5001, busyInstances: new Set() });
    expect(preflightVerdict(checks)).toBe("fail");
    expect(checks.find((c) => c.id === "state")).toEqual({
      id: "state",
      label: "VM state",
      result: "fail",
      reason: "web2's state is unknown: its host kvm2 is unreachable (connect ECONNREFUSED); it cannot move until kvm2 answers again",
    });
  });
});
