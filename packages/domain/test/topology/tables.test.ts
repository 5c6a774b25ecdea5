import { describe, expect, it } from "vitest";
import { buildTopology, tenantTable, vlanTable, vniTable } from "../../src/index.js";
import { findHost, findPort, host, labDefault, LAB_TENANTS, ovs, removePort, trunkPort, vmPort, domain } from "./fixtures.js";

const lab = () => buildTopology(labDefault(), LAB_TENANTS);

describe("vlanTable", () => {
  it("lists per VLAN the hosts where it exists and is trunked, its VNI, VMs and tenant", () => {
    const row = vlanTable(lab()).find((r) => r.vlan === 20)!;
    expect(row.tenants).toEqual(["globex"]);
    expect(row.vms).toEqual([
      { name: "globex-vm1-1", host: "kvm1", tenant: "globex" },
      { name: "globex-vm2-1", host: "kvm2", tenant: "globex" },
    ]);
    expect(row.hosts[0]).toEqual({
      host: "kvm1",
      bridges: ["br-ovs"],
      present: true,
      carried: true,
      trunkPorts: ["kvm1/br-ovs/eth0"],
      vnis: [5002],
      vms: ["globex-vm1-1"],
      tenants: ["globex"],
    });
    expect(vlanTable(lab()).map((r) => r.vlan)).toEqual([10, 20, 30]);
  });

  it("shows a VLAN that is only trunked as carried but not present", () => {
    const t = buildTopology([host("kvm1", { bridges: [ovs("br-ovs", [trunkPort("eth0", [40])])] })], []);
    expect(vlanTable(t)).toEqual([
      { vlan: 40, hosts: [{ host: "kvm1", bridges: ["br-ovs"], present: false, carried: true, trunkPorts: ["kvm1/br-ovs/eth0"], vnis: [], vms: [], tenants: [] }], vms: [], tenants: [] },
    ]);
  });

  it("shows a VLAN in use but missing from the trunk as not carried", () => {
    const hosts = labDefault();
    findPort(hosts, "kvm2", "eth0").trunks = [10, 30];
    const kvm2 = vlanTable(buildTopology(hosts, LAB_TENANTS)).find((r) => r.vlan === 20)!.hosts.find((h) => h.host === "kvm2")!;
    expect(kvm2).toMatchObject({ present: true, carried: false, trunkPorts: [] });
  });
});

describe("vniTable", () => {
  it("lists per VNI its tenant, endpoints per host with remotes, and a complete mesh", () => {
    const row = vniTable(lab()).find((r) => r.vni === 5001)!;
    expect(row).toEqual({
      vni: 5001,
      tenants: ["acme"],
      hosts: [
        { host: "kvm1", ports: ["kvm1/br-ovs/vx5001-kvm2"], vlans: [10], remotes: [{ remote: "10.99.0.12", host: "kvm2", up: true, dstPort: 4789 }] },
        { host: "kvm2", ports: ["kvm2/br-ovs/vx5001-kvm1"], vlans: [10], remotes: [{ remote: "10.99.0.11", host: "kvm1", up: true, dstPort: 4789 }] },
      ],
      participants: ["kvm1", "kvm2"],
      meshComplete: true,
      missing: [],
      missingCount: 0,
    });
  });

  it("names the missing directions of an incomplete mesh", () => {
    const hosts = labDefault();
    removePort(findHost(hosts, "kvm2"), "br-ovs", "vx5002-kvm1");
    const row = vniTable(buildTopology(hosts, LAB_TENANTS)).find((r) => r.vni === 5002)!;
    expect(row.meshComplete).toBe(false);
    expect(row.missing).toEqual([{ from: "kvm2", to: "kvm1" }]);
    expect(row.hosts.map((h) => h.host)).toEqual(["kvm1"]);
  });

  it("lists a configured VNI that no host carries yet, with no endpoints", () => {
    const rows = vniTable(buildTopology([], [{ slug: "hooli", name: "Hooli", vni: 7000 }]));
    expect(rows).toEqual([{ vni: 7000, tenants: ["hooli"], hosts: [], participants: [], meshComplete: true, missing: [], missingCount: 0 }]);
  });
});

describe("tenantTable", () => {
  it("lists tenant -> VNI/VLANs -> hosts -> VMs", () => {
    const row = tenantTable(lab()).find((r) => r.tenant === "initech")!;
    expect(row).toEqual({
      tenant: "initech",
      name: "Initech",
      vni: 5003,
      vlans: [30],
      hosts: [
        { host: "kvm1", vniPresent: true, vlans: [30], vms: [{ name: "initech-vm1-2", state: "running", vlans: [30], bridges: ["br-ovs"] }] },
        { host: "kvm2", vniPresent: true, vlans: [30], vms: [{ name: "initech-vm2-2", state: "running", vlans: [30], bridges: ["br-ovs"] }] },
      ],
    });
  });

  it("lists a tenant only known from a VM label under its slug, and leaves infrastructure VMs out", () => {
    const t = buildTopology(
      [host("kvm1", { bridges: [ovs("br-ovs", [vmPort("vnet0", 50, null)])], domains: [domain("h1", "hooli", [{ mac: "m", device: "vnet0", vlan: null }]), domain("mgr", null, [])] })],
      [],
    );
    expect(tenantTable(t)).toEqual([
      { tenant: "hooli", name: "hooli", vni: null, vlans: [50], hosts: [{ host: "kvm1", vniPresent: false, vlans: [50], vms: [{ name: "h1", state: "running", vlans: [50], bridges: ["br-ovs"] }] }] },
    ]);
  });
});
