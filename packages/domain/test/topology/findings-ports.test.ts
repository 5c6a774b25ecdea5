import { describe, expect, it } from "vitest";
import {
  accessPort,
  addVm,
  domain,
  findHost,
  findingsOf,
  findPort,
  host,
  iface,
  labDefault,
  ovs,
  trunkPort,
  vmPort,
  vxlanPort,
} from "./fixtures.js";

describe("finding: a VM's VLAN not carried by its bridge's trunk", () => {
  it("names the VM, VLAN, host, trunk and bridge, with the VM's port", () => {
    const hosts = labDefault();
    findPort(hosts, "kvm1", "eth0").trunks = [10, 30];
    expect(findingsOf("vlan-not-trunked", hosts)).toEqual([
      {
        id: "vlan-not-trunked:kvm1:br-ovs:20:globex",
        kind: "vlan-not-trunked",
        severity: "crit",
        message: "VLAN 20 of globex-vm1-1 on kvm1 is not carried by trunk eth0 of br-ovs",
        objects: { hosts: ["kvm1"], vms: ["globex-vm1-1"], vlan: 20, tenants: ["globex"], ports: ["kvm1/br-ovs/vnet1"] },
      },
    ]);
  });

  it("keeps one finding per tenant so each tenant can be shown its own", () => {
    const hosts = labDefault();
    findPort(hosts, "kvm1", "eth0").trunks = [10, 30];
    addVm(findHost(hosts, "kvm1"), "acme-odd", "acme", 20, "vnet9");
    expect(findingsOf("vlan-not-trunked", hosts).map((f) => f.id)).toEqual([
      "vlan-not-trunked:kvm1:br-ovs:20:acme",
      "vlan-not-trunked:kvm1:br-ovs:20:globex",
    ]);
  });

  it("is silent when the trunk carries all VLANs (empty list)", () => {
    const hosts = labDefault();
    findPort(hosts, "kvm1", "eth0").trunks = [];
    expect(findingsOf("vlan-not-trunked", hosts)).toEqual([]);
  });

  it("is silent for a bridge with no trunk or uplink at all (host-internal)", () => {
    const hosts = [host("kvm1", { bridges: [ovs("br-int", [vmPort("vnet0", 20, null)])], domains: [domain("g1", "globex", [{ mac: "m", device: "vnet0", vlan: 20, bridge: "br-int" }])] })];
    expect(findingsOf("vlan-not-trunked", hosts)).toEqual([]);
  });

  it("is silent for a shut-off VM", () => {
    const hosts = labDefault();
    findPort(hosts, "kvm1", "eth0").trunks = [10, 30];
    findHost(hosts, "kvm1").inventory.virt!.domains.find((d) => d.name === "globex-vm1-1")!.state = "shutoff";
    expect(findingsOf("vlan-not-trunked", hosts)).toEqual([]);
  });
});

describe("finding: MTU too small for VXLAN", () => {
  it("reports each VNI whose underlay cannot take the bridge's frames plus 50 bytes", () => {
    const hosts = labDefault();
    findHost(hosts, "kvm1").inventory.net!.interfaces.find((i) => i.name === "eth1")!.mtu = 1500;
    const found = findingsOf("mtu-too-small", hosts);
    expect(found.map((f) => f.id)).toEqual(["mtu-too-small:kvm1:br-ovs:5001", "mtu-too-small:kvm1:br-ovs:5002", "mtu-too-small:kvm1:br-ovs:5003"]);
    expect(found[0]).toMatchObject({
      severity: "warn",
      message: "VNI 5001 on kvm1: br-ovs passes 1500-byte frames, VXLAN needs 1550 but underlay eth1 has MTU 1500",
      objects: { hosts: ["kvm1"], ports: ["kvm1/br-ovs/vx5001-kvm2"], vni: 5001, tenants: ["acme"] },
    });
  });

  it("is silent when the underlay MTU is exactly the bridge MTU + 50", () => {
    const hosts = labDefault();
    findHost(hosts, "kvm1").inventory.net!.interfaces.find((i) => i.name === "eth1")!.mtu = 1550;
    expect(findingsOf("mtu-too-small", hosts)).toEqual([]);
  });

  it("is silent when the bridge MTU was lowered to leave room for the overhead", () => {
    const hosts = [
      host("kvm1", {
        interfaces: [iface("eth1", { mtu: 1500, addresses: ["10.99.0.11/16"] })],
        bridges: [ovs("br-ovs", [vxlanPort("vx", 5001, "10.99.0.12", { vlan: 10 })], 1450)],
      }),
    ];
    expect(findingsOf("mtu-too-small", hosts)).toEqual([]);
  });

  it("counts a VM port's larger MTU as what the bridge passes", () => {
    const hosts = [
      host("kvm1", {
        interfaces: [iface("eth1", { mtu: 1500, addresses: ["10.99.0.11/16"] })],
        bridges: [ovs("br-ovs", [vxlanPort("vx", 5001, "10.99.0.12", { vlan: 10 }), vmPort("vnet0", 10, null, { mtu: 1500 })], 1450)],
      }),
    ];
    expect(findingsOf("mtu-too-small", hosts).map((f) => f.id)).toEqual(["mtu-too-small:kvm1:br-ovs:5001"]);
  });

  it("without a local address, judges the interface whose subnet holds the remote", () => {
    const withRemote = (remote: string) => [
      host("kvm1", {
        interfaces: [iface("mgmt0", { mtu: 1500, addresses: ["192.168.0.11/24"] }), iface("eth1", { mtu: 1600, addresses: ["10.99.0.11/16"] })],
        bridges: [ovs("br-ovs", [vxlanPort("vx", 5001, remote, { vlan: 10 })])],
      }),
    ];
    expect(findingsOf("mtu-too-small", withRemote("10.99.0.12"))).toEqual([]);
    // A remote on no connected subnet: the route is not visible, so the smallest MTU is assumed.
    expect(findingsOf("mtu-too-small", withRemote("172.16.0.1")).map((f) => f.message)).toEqual([
      "VNI 5001 on kvm1: br-ovs passes 1500-byte frames, VXLAN needs 1550 but underlay mgmt0 has MTU 1500",
    ]);
  });

  it("with a local address, judges the interface holding it", () => {
    const hosts = [
      host("kvm1", {
        interfaces: [iface("mgmt0", { mtu: 1500, addresses: ["192.168.0.11/24"] }), iface("eth1", { mtu: 1600, addresses: ["10.99.0.11/16"] })],
        bridges: [ovs("br-ovs", [vxlanPort("vx", 5001, "10.99.0.12", { vlan: 10, local: "192.168.0.11" })])],
      }),
    ];
    expect(findingsOf("mtu-too-small", hosts).map((f) => f.message)).toEqual([
      "VNI 5001 on kvm1: br-ovs passes 1500-byte frames, VXLAN needs 1550 but underlay mgmt0 has MTU 1500",
    ]);
  });

  it("is silent when no interface MTU is known", () => {
    const hosts = [host("kvm1", { bridges: [ovs("br-ovs", [vxlanPort("vx", 5001, "10.99.0.12")])] })];
    expect(findingsOf("mtu-too-small", hosts)).toEqual([]);
  });
});

describe("finding: orphan ports", () => {
  it("reports a VM port with nothing plugged in", () => {
    const hosts = labDefault();
    findHost(hosts, "kvm1").inventory.net!.bridges[1]!.ports.push(vmPort("vnet9", 10, null));
    expect(findingsOf("orphan-port", hosts)).toEqual([
      {
        id: "orphan-port:kvm1/br-ovs/vnet9",
        kind: "orphan-port",
        severity: "info",
        message: "Port vnet9 on kvm1/br-ovs has no VM attached and is no uplink, trunk, VXLAN or internal port",
        objects: { hosts: ["kvm1"], ports: ["kvm1/br-ovs/vnet9"], vlan: 10, tenants: [] },
      },
    ]);
  });

  it("reports a port still naming a VM that no longer exists on the host", () => {
    const hosts = labDefault();
    findHost(hosts, "kvm1").inventory.net!.bridges[1]!.ports.push(vmPort("vnet9", 10, { domain: "deleted-vm", mac: "52:54:00:de:ad:00" }));
    expect(findingsOf("orphan-port", hosts).map((f) => f.id)).toEqual(["orphan-port:kvm1/br-ovs/vnet9"]);
  });

  it("is silent for uplinks, trunks, VXLAN and internal ports without VMs (the lab has each)", () => {
    expect(findingsOf("orphan-port", labDefault())).toEqual([]);
  });

  it("is silent for an access port on a physical NIC (a cable to a switch)", () => {
    const hosts = [host("kvm1", { interfaces: [iface("eth3")], bridges: [ovs("br-ovs", [accessPort("eth3", 10), trunkPort("eth0", [10])])] })];
    expect(findingsOf("orphan-port", hosts)).toEqual([]);
  });
});
