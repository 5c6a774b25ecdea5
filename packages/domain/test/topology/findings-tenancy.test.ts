import { describe, expect, it } from "vitest";
import { addVm, domain, findHost, findingsOf, host, labDefault, LAB_TENANTS, ovs, removePort, vmPort } from "./fixtures.js";

describe("finding: tenant VMs on a host without the tenant's VNI", () => {
  it("reports the host, the VMs and the missing VNI", () => {
    const hosts = labDefault();
    removePort(findHost(hosts, "kvm2"), "br-ovs", "vx5001-kvm1");
    expect(findingsOf("vni-missing", hosts)).toEqual([
      {
        id: "vni-missing:acme:5001:kvm2",
        kind: "vni-missing",
        severity: "crit",
        message: "acme has VMs on kvm2 (acme-vm2-0) but its VNI 5001 is not present there",
        objects: { hosts: ["kvm2"], vms: ["acme-vm2-0"], vni: 5001, tenants: ["acme"] },
      },
    ]);
  });

  it("is silent when the tenant's only VM there is shut off", () => {
    const hosts = labDefault();
    const kvm2 = findHost(hosts, "kvm2");
    removePort(kvm2, "br-ovs", "vx5001-kvm1");
    kvm2.inventory.virt!.domains.find((d) => d.name === "acme-vm2-0")!.state = "shutoff";
    expect(findingsOf("vni-missing", hosts)).toEqual([]);
  });

  it("is silent for a tenant that has no VNI", () => {
    const hosts = [host("kvm1", { bridges: [ovs("br-ovs", [vmPort("vnet0", 10, null)])], domains: [domain("a1", "acme", [{ mac: "m", device: "vnet0", vlan: 10 }])] })];
    expect(findingsOf("vni-missing", hosts, [{ slug: "acme", name: "Acme", vni: null }])).toEqual([]);
  });

  it("does not judge a host that has not reported its network", () => {
    const hosts = [host("kvm3", { net: false, domains: [domain("a1", "acme", [{ mac: "m", device: "vnet0", vlan: 10 }])] })];
    expect(findingsOf("vni-missing", hosts)).toEqual([]);
  });
});

describe("finding: one VNI used by two tenants", () => {
  it("reports two tenants configured with the same VNI", () => {
    const tenants = [...LAB_TENANTS, { slug: "umbrella", name: "Umbrella", vni: 5001 }];
    const [f] = findingsOf("vni-shared", labDefault(), tenants);
    expect(f).toMatchObject({ id: "vni-shared:5001", severity: "crit", objects: { vni: 5001, tenants: ["acme", "umbrella"] } });
    expect(f!.message).toBe("VNI 5001 is used by 2 tenants (acme and umbrella): configured for acme and umbrella");
  });

  it("reports another tenant's VM sitting in a segment bridged into the VNI", () => {
    const hosts = labDefault();
    addVm(findHost(hosts, "kvm1"), "globex-intruder", "globex", 10, "vnet9");
    expect(findingsOf("vni-shared", hosts)).toEqual([
      {
        id: "vni-shared:5001",
        kind: "vni-shared",
        severity: "crit",
        message: "VNI 5001 is used by 2 tenants (acme and globex): configured for acme; bridged to VMs globex-intruder",
        objects: { vni: 5001, tenants: ["acme", "globex"], vms: ["globex-intruder"], hosts: ["kvm1"] },
      },
    ]);
  });

  it("is silent when the other tenant's VM there is shut off", () => {
    const hosts = labDefault();
    addVm(findHost(hosts, "kvm1"), "globex-intruder", "globex", 10, "vnet9", { state: "shutoff" });
    expect(findingsOf("vni-shared", hosts)).toEqual([]);
  });

  it("is silent for the lab's one-VNI-per-tenant layout", () => {
    expect(findingsOf("vni-shared", labDefault())).toEqual([]);
  });
});

describe("finding: a tenant's VLAN reused by another tenant on the same host", () => {
  it("names the host, the VLAN and each tenant's VMs", () => {
    const hosts = labDefault();
    addVm(findHost(hosts, "kvm1"), "globex-intruder", "globex", 10, "vnet9");
    const [f] = findingsOf("vlan-reused", hosts);
    expect(f).toEqual({
      id: "vlan-reused:kvm1:10",
      kind: "vlan-reused",
      severity: "crit",
      message: "VLAN 10 on kvm1 is used by 2 tenants: acme (acme-vm1-0) and globex (globex-intruder)",
      objects: { hosts: ["kvm1"], vlan: 10, tenants: ["acme", "globex"], vms: ["acme-vm1-0", "globex-intruder"] },
    });
  });

  it("is silent when two tenants use one VLAN id on different hosts (a VLAN is per host)", () => {
    const one = (name: string, tenant: string) =>
      host(name, { bridges: [ovs("br-ovs", [vmPort("vnet0", 10, null)])], domains: [domain(`${tenant}-1`, tenant, [{ mac: `m-${name}`, device: "vnet0", vlan: 10 }])] });
    expect(findingsOf("vlan-reused", [one("kvm1", "acme"), one("kvm2", "globex")], [])).toEqual([]);
  });

  it("is silent for infrastructure VMs (no tenant) on a tenant's VLAN", () => {
    const hosts = labDefault();
    addVm(findHost(hosts, "kvm1"), "monitor", null, 10, "vnet9");
    expect(findingsOf("vlan-reused", hosts)).toEqual([]);
  });
});
