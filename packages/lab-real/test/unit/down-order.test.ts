import { describe, expect, it } from "vitest";
import { STOP_TIERS, tierOf } from "../../src/down.js";
import { renderTable } from "../../src/status.js";

describe("down's stopping order", () => {
  it("cuts the way in first, stops servers before what they need, and holders last", () => {
    expect(tierOf("root.fwd-kvm1")).toBe(0);
    expect(tierOf("kvm1.ssh-relay")).toBe(0);
    expect(tierOf("kvm1.libvirtd")).toBeLessThan(tierOf("kvm1.ovs-vswitchd"));
    expect(tierOf("kvm1.ovs-vswitchd")).toBeLessThan(tierOf("kvm1.ovsdb-server"));
    expect(tierOf("nfs1.ganesha")).toBeLessThan(tierOf("nfs1.rpcbind"));
    expect(tierOf("swarm1.holder")).toBe(STOP_TIERS.length - 1);
  });
  it("stops a daemon it does not know before the holders, never after", () => {
    expect(tierOf("kvm1.something-new")).toBeLessThan(tierOf("kvm1.holder"));
  });
});

describe("status table", () => {
  it("aligns columns under their headers", () => {
    const t = renderTable(["node", "pid"], [["kvm1", "12"], ["swarm1", "3"]]);
    expect(t.split("\n")).toEqual(["node    pid", "------  ---", "kvm1    12", "swarm1  3"]);
  });
});
