import { describe, expect, it } from "vitest";
import { buildTopology, findings } from "../../src/index.js";
import { findPort, labDefault, LAB_TENANTS } from "./fixtures.js";

/**
 * The embedded lab's default network: kvm1/kvm2, br0 (Linux) and br-ovs (OVS) on each, uplink
 * eth0 trunking 10,20,30, acme/globex/initech on VLAN 10/20/30 stretched by VNI 5001/5002/5003
 * over a full VXLAN mesh.
 */
describe("lab default scenario", () => {
  it("has no findings with the full mesh", () => {
    expect(findings(buildTopology(labDefault(), LAB_TENANTS))).toEqual([]);
  });

  it("has exactly the mesh finding when one tunnel breaks, and none once it is repaired", () => {
    const hosts = labDefault();
    const tunnel = findPort(hosts, "kvm1", "vx5001-kvm2");
    tunnel.up = false;
    expect(findings(buildTopology(hosts, LAB_TENANTS))).toEqual([
      {
        id: "mesh-incomplete:5001",
        kind: "mesh-incomplete",
        severity: "crit",
        message: "VXLAN mesh of VNI 5001 (acme) is incomplete: no working tunnel kvm1 → kvm2",
        objects: { vni: 5001, tenants: ["acme"], hosts: ["kvm1", "kvm2"] },
      },
    ]);
    tunnel.up = true;
    expect(findings(buildTopology(hosts, LAB_TENANTS))).toEqual([]);
  });

  it("keeps a finding's id when the topology is rebuilt", () => {
    const hosts = labDefault();
    findPort(hosts, "kvm2", "vx5003-kvm1").vxlan!.remote = "10.99.9.9";
    const ids = () => findings(buildTopology(hosts, LAB_TENANTS)).map((f) => f.id);
    expect(ids()).toEqual(ids());
    // Most severe first.
    expect(ids()).toEqual(["mesh-incomplete:5003", "tunnel-unknown-remote:kvm2/br-ovs/vx5003-kvm1"]);
  });
});
