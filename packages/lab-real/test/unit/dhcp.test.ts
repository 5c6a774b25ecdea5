import { describe, expect, it } from "vitest";
import { dhcpRange, dnsmasqArgs, routedSubnets, swarmVmRange, tenantSubnet } from "../../src/dhcp.js";
import { tenants } from "../../src/topology.js";

describe("the tenants' router (dnsmasq on kvm1's access ports)", () => {
  const args = dnsmasqArgs("/lab/nodes/kvm1/dnsmasq.leases");

  it("serves DHCP on every tenant VLAN's access port, a range per tenant, and no DNS", () => {
    for (const t of tenants) {
      expect(args).toContain(`--interface=acc${t.vlan}`);
      expect(args).toContain(`--dhcp-range=172.16.${t.vlan}.100,172.16.${t.vlan}.199,255.255.255.0,12h`);
    }
    expect(args).toContain("--port=0");
    expect(args).toContain("--bind-interfaces");
    expect(args).toContain("--keep-in-foreground");
    expect(args).toContain("--dhcp-leasefile=/lab/nodes/kvm1/dnsmasq.leases");
  });

  it("serves the swarm's VMs on br0 (192.168.100.100-199), clear of the hypervisors' own .11 and .12", () => {
    expect(args).toContain("--interface=br0");
    expect(args).toContain("--dhcp-range=192.168.100.100,192.168.100.199,255.255.255.0,12h");
    expect(swarmVmRange()).toEqual({ first: "192.168.100.100", last: "192.168.100.199" });
  });

  it("routes the swarm VMs' subnet back from the swarm nodes (their 2377, 7946, 4789) and every guest subnet from the storage servers", () => {
    expect(routedSubnets("swarm-manager")).toEqual(["192.168.100.0/24"]);
    expect(routedSubnets("swarm-worker")).toEqual(["192.168.100.0/24"]);
    expect(routedSubnets("nfs")).toEqual(["172.16.10.0/24", "172.16.20.0/24", "172.16.30.0/24", "192.168.100.0/24"]);
    expect(routedSubnets("hypervisor")).toEqual([]);
  });

  it("keeps the range clear of the hypervisors' own addresses (.11, .12) on the VLAN", () => {
    expect(dhcpRange(10)).toEqual({ first: "172.16.10.100", last: "172.16.10.199" });
    expect(tenantSubnet(20)).toBe("172.16.20.0/24");
  });
});
