import { describe, expect, it } from "vitest";
import { buildTopology } from "../../src/index.js";
import { domain, host, iface, labDefault, linuxBridge, ovs, trunkPort, vmPort, vxlanPort, LAB_TENANTS } from "./fixtures.js";

const portById = (t: ReturnType<typeof buildTopology>, id: string) => {
  const p = t.hosts.flatMap((h) => h.bridges.flatMap((b) => b.ports)).find((x) => x.id === id);
  if (!p) throw new Error(`no port ${id}`);
  return p;
};

describe("buildTopology", () => {
  it("lists hosts with underlay addresses, bridges and ports with VLANs, trunks, VXLAN and MTU", () => {
    const t = buildTopology(labDefault(), LAB_TENANTS);
    const kvm1 = t.hosts.find((h) => h.name === "kvm1")!;
    expect(kvm1.underlay).toEqual(["10.99.0.11"]);
    expect(kvm1.bridges.map((b) => `${b.name}:${b.type}`)).toEqual(["br0:linux", "br-ovs:ovs"]);
    const eth0 = portById(t, "kvm1/br-ovs/eth0");
    expect(eth0).toMatchObject({ mode: "uplink", trunks: [10, 20, 30], uplink: true, mtu: 1600 });
    const vx = portById(t, "kvm1/br-ovs/vx5001-kvm2");
    expect(vx.vxlan).toEqual({ vni: 5001, local: null, remote: "10.99.0.12", dstPort: 4789, remoteHost: "kvm2" });
    expect(vx.vlan).toBe(10);
    expect(vx.tenants).toEqual(["acme"]);
  });

  it("takes a port's MTU from its interface when the bridge does not report one", () => {
    const h = host("kvm1", { interfaces: [iface("eth0", { mtu: 9000 })], bridges: [ovs("br-ovs", [trunkPort("eth0", [10])])] });
    const t = buildTopology([h], []);
    expect(portById(t, "kvm1/br-ovs/eth0").mtu).toBe(9000);
  });

  it("treats a physical NIC enslaved to a bridge as an uplink whatever its mode", () => {
    const h = host("kvm1", { interfaces: [iface("eth3")], bridges: [ovs("br-ovs", [vmPort("eth3", 10, null)])] });
    expect(portById(buildTopology([h], []), "kvm1/br-ovs/eth3").uplink).toBe(true);
  });

  it("attaches a VM NIC to its port by vnet device name", () => {
    const h = host("kvm1", {
      bridges: [ovs("br-ovs", [vmPort("vnet7", 10, null)])],
      domains: [domain("web1", "acme", [{ mac: "52:54:00:aa:00:01", device: "vnet7", vlan: null }])],
    });
    const t = buildTopology([h], LAB_TENANTS);
    const port = portById(t, "kvm1/br-ovs/vnet7");
    expect(port.nic).toEqual({ vm: "web1", mac: "52:54:00:aa:00:01" });
    expect(port.tenants).toEqual(["acme"]);
    // The NIC has no tag of its own: its VLAN is the access port's.
    expect(t.hosts[0]!.vms[0]!.nics[0]).toMatchObject({ portId: "kvm1/br-ovs/vnet7", vlan: 10 });
  });

  it("attaches a VM NIC by the MAC the port reports when the device name is unknown", () => {
    const h = host("kvm1", {
      bridges: [ovs("br-ovs", [vmPort("tap-x", 20, { domain: "db1", mac: "52:54:00:AA:00:02" })])],
      domains: [domain("db1", "globex", [{ mac: "52:54:00:aa:00:02", device: null, vlan: 20 }])],
    });
    const t = buildTopology([h], LAB_TENANTS);
    expect(t.hosts[0]!.vms[0]!.nics[0]!.portId).toBe("kvm1/br-ovs/tap-x");
  });

  it("leaves a NIC without port when its bridge lists none", () => {
    const h = host("kvm1", { bridges: [ovs("br-ovs", [])], domains: [domain("web1", "acme", [{ mac: "52:54:00:aa:00:01", device: "vnet0", vlan: 10 }])] });
    expect(buildTopology([h], LAB_TENANTS).hosts[0]!.vms[0]!.nics[0]!.portId).toBeNull();
  });

  it("gives each NIC the VNIs bridged into its VLAN on the same bridge", () => {
    const h = host("kvm1", {
      bridges: [
        ovs("br-ovs", [
          vxlanPort("vx10", 5001, "10.0.0.2", { vlan: 10 }),
          vxlanPort("vx20", 5002, "10.0.0.2", { vlan: 20 }),
          vmPort("vnet0", 10, null),
        ]),
      ],
      domains: [domain("web1", "acme", [{ mac: "m1", device: "vnet0", vlan: 10 }])],
    });
    expect(buildTopology([h], LAB_TENANTS).hosts[0]!.vms[0]!.nics[0]!.vnis).toEqual([5001]);
  });

  it("bridges every NIC of a Linux bridge into its untagged kernel VXLAN device, and only listed VLANs into a trunked one", () => {
    const h = host("kvm1", {
      bridges: [
        linuxBridge("br-acme", [vxlanPort("vxlan5001", 5001, "10.0.0.2"), vmPort("vnet0", null, null)]),
        ovs("br-ovs", [vxlanPort("vx-trunk", 6000, "10.0.0.2", { trunks: [10, 20] }), vmPort("vnet1", 20, null), vmPort("vnet2", 30, null)]),
      ],
      domains: [
        domain("a1", "acme", [{ mac: "m0", device: "vnet0", vlan: null, bridge: "br-acme", bridgeType: "linux" }]),
        domain("g1", "globex", [{ mac: "m1", device: "vnet1", vlan: null }]),
        domain("i1", "initech", [{ mac: "m2", device: "vnet2", vlan: null }]),
      ],
    });
    expect(buildTopology([h], []).hosts[0]!.vms.map((v) => v.nics[0]!.vnis)).toEqual([[5001], [6000], []]);
  });

  it("marks only running, paused and suspended VMs active", () => {
    const h = host("kvm1", {
      domains: [domain("a", "acme", [], { state: "running" }), domain("b", "acme", [], { state: "shutoff" }), domain("c", "acme", [], { state: "paused" })],
    });
    expect(buildTopology([h], []).hosts[0]!.vms.map((v) => v.active)).toEqual([true, false, true]);
  });

  it("marks hosts whose network is unknown", () => {
    expect(buildTopology([host("kvm1", { net: false })], []).hosts[0]!.netKnown).toBe(false);
  });
});

describe("tunnel remote resolution", () => {
  const pair = (remote: string, other: Parameters<typeof host>[1] = {}) => [
    host("kvm1", { bridges: [ovs("br-ovs", [vxlanPort("vx", 5001, remote, { vlan: 10 })])] }),
    host("kvm2", { address: "192.168.1.2", interfaces: [iface("eth1", { addresses: ["10.99.0.2/24", "fe80::1/64"] })], ...other }),
  ];

  it("resolves a remote to the host owning that underlay address (prefix length ignored)", () => {
    expect(buildTopology(pair("10.99.0.2"), []).tunnels[0]).toMatchObject({ from: "kvm1", to: "kvm2", remote: "10.99.0.2", vni: 5001, vlan: 10 });
  });

  it("resolves a remote to the host's configured address", () => {
    expect(buildTopology(pair("192.168.1.2"), []).tunnels[0]!.to).toBe("kvm2");
  });

  it("leaves a remote no host owns unresolved", () => {
    expect(buildTopology(pair("10.99.0.77"), []).tunnels[0]!.to).toBeNull();
  });

  it("never resolves loopback or link-local addresses, which every host has", () => {
    const hosts = pair("127.0.0.1", { interfaces: [iface("lo", { kind: "loopback", addresses: ["127.0.0.1/8"] }), iface("eth1", { addresses: ["fe80::1/64"] })] });
    expect(buildTopology(hosts, []).tunnels[0]!.to).toBeNull();
    expect(buildTopology(hosts, []).hosts[1]!.underlay).toEqual([]);
  });

  it("keeps an endpoint without a single remote as a tunnel with neither remote nor peer", () => {
    const hosts = [host("kvm1", { bridges: [ovs("br-ovs", [vxlanPort("vx", 5001, null)])] })];
    expect(buildTopology(hosts, []).tunnels[0]).toMatchObject({ remote: null, to: null });
  });
});
