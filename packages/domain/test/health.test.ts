import { describe, expect, it } from "vitest";
import { byUrgency, evaluateHealth, observe, worstState, type ProbeState } from "../src/index.js";
import { hypervisor, vm } from "./fixtures.js";

describe("health hysteresis", () => {
  const h = { rise: 2, fall: 3 };
  it("starts in the first sample's state", () => {
    expect(observe(undefined, false, "t0", h)).toEqual({ up: false, streak: 0, since: "t0" });
  });

  it("falls only after `fall` consecutive failures, and records when", () => {
    let s: ProbeState = observe(undefined, true, "t0", h);
    s = observe(s, false, "t1", h);
    s = observe(s, false, "t2", h);
    expect(s.up).toBe(true);
    s = observe(s, false, "t3", h);
    expect(s).toEqual({ up: false, streak: 0, since: "t3" });
  });

  it("a single good sample resets the failure streak", () => {
    let s: ProbeState = observe(undefined, true, "t0", h);
    s = observe(s, false, "t1", h);
    s = observe(s, false, "t2", h);
    s = observe(s, true, "t3", h);
    s = observe(s, false, "t4", h);
    expect(s.up).toBe(true);
    expect(s.streak).toBe(1);
  });

  it("rises after `rise` consecutive passes", () => {
    let s: ProbeState = observe(undefined, false, "t0", h);
    s = observe(s, true, "t1", h);
    expect(s.up).toBe(false);
    s = observe(s, true, "t2", h);
    expect(s).toEqual({ up: true, streak: 0, since: "t2" });
  });
});

describe("fleet health rules", () => {
  it("reports an unreachable host as critical, affecting its running VMs and tenants", () => {
    const host = hypervisor("kvm2", [vm({ name: "a1" }), vm({ name: "b1", tenant: "globex", state: "shutoff" })]);
    host.connection = { ...host.connection, state: "unreachable", message: "timed out", lastSeen: "2026-01-01T10:00:00.000Z" };
    const check = evaluateHealth([host]).find((c) => c.id === "host:kvm2")!;
    expect(check.state).toBe("crit");
    expect(check.message).toContain("last seen 2026-01-01T10:00:00.000Z");
    expect(check.affects).toEqual(["a1"]);
    expect(check.tenants.sort()).toEqual(["acme", "globex"]);
  });

  it("flags no VIP holder and split brain", () => {
    const nfs = (name: string, held: boolean) => {
      const h = hypervisor(name);
      h.inventory.storage = {
        mounts: [],
        nfs: { serverRunning: true, exports: [{ path: "/instance", clients: ["*"] }], datastores: [{ path: "/instance", totalBytes: 100, usedBytes: 95 }], vip: { address: "10.10.0.100", heldHere: held }, keepalivedState: held ? "master" : "backup" },
      };
      return h;
    };
    expect(evaluateHealth([nfs("nfs1", true), nfs("nfs2", false)]).find((c) => c.id === "storage:vip")?.state).toBe("ok");
    expect(evaluateHealth([nfs("nfs1", false), nfs("nfs2", false)]).find((c) => c.id === "storage:vip")?.message).toMatch(/no storage server holds the VIP/);
    expect(evaluateHealth([nfs("nfs1", true), nfs("nfs2", true)]).find((c) => c.id === "storage:vip")?.message).toMatch(/split brain/);
    expect(evaluateHealth([nfs("nfs1", true)]).find((c) => c.id === "storage:capacity:/instance")?.state).toBe("crit");
  });

  it("orders checks worst first and finds the worst state", () => {
    const checks = [
      { id: "a", state: "ok", since: "1" },
      { id: "b", state: "crit", since: "2" },
      { id: "c", state: "warn", since: "0" },
    ] as never[];
    expect([...checks].sort(byUrgency).map((c: { id: string }) => c.id)).toEqual(["b", "c", "a"]);
    expect(worstState(checks)).toBe("crit");
  });
});
