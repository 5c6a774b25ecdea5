import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeExec } from "../../src/exec.js";
import type { RealLab } from "../../src/lab.js";
import { waitFor } from "../../src/wait.js";
import { openLab } from "./helpers.js";
import { driversInsideNode } from "./inside-node.js";

/**
 * The net driver follows Open vSwitch with `ovsdb-client monitor` (pushed, not polled). A
 * change that touches only the OVS database (a trunk's VLAN list: no kernel link changes, so
 * `ip monitor` stays quiet) must reach the agent, and the monitors must keep running.
 */
describe("real lab: the net driver follows Open vSwitch on kvm1", () => {
  let lab: RealLab;
  let kvm1: NodeExec;
  const logs: string[] = [];
  const trunks = async () => (await kvm1("ovs-vsctl", ["get", "Port", "trunk0", "trunks"])).stdout.trim();
  let before: string;

  beforeAll(async () => {
    lab = await openLab();
    kvm1 = await lab.exec("kvm1");
    before = await trunks();
  });
  afterAll(async () => {
    if (before) await kvm1("ovs-vsctl", ["set", "Port", "trunk0", `trunks=${before.replace(/[[\] ]/g, "")}`]);
  });

  it("an OVS-only change (trunk0's VLANs) is pushed by ovsdb-client monitor, which stays up", async () => {
    const drivers = await driversInsideNode(lab, "kvm1", (level, message) => logs.push(`${level} ${message}`));
    expect(drivers.probe.ovsdbClient).toBe(true);
    const net = drivers.net!;
    let changes = 0;
    const stop = net.watch(() => changes++);
    try {
      // The monitors print nothing until a change: change again until one is seen, each time to
      // another VLAN list, so whenever they subscribed, a later change is theirs.
      let vlan = 40;
      await waitFor("an OVS change to be pushed", async () => {
        if (changes > 0) return true;
        await kvm1("ovs-vsctl", ["set", "Port", "trunk0", `trunks=10,20,30,${vlan++}`]);
        return false;
      }, { timeoutMs: 10_000 });
      const trunk0 = (await net.snapshot()).bridges.find((b) => b.name === "br-ovs")?.ports.find((p) => p.name === "trunk0");
      expect(trunk0?.trunks).toEqual([10, 20, 30, vlan - 1]);
      expect(logs.filter((l) => l.includes("ovsdb-client monitor"))).toEqual([]);
    } finally {
      stop();
    }
  });
});
