import { describe, expect, it } from "vitest";
import { dhcpRange, dnsmasqArgs, tenantSubnet } from "../../src/dhcp.js";
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

  it("keeps the range clear of the hypervisors' own addresses (.11, .12) on the VLAN", () => {
    expect(dhcpRange(10)).toEqual({ first: "172.16.10.100", last: "172.16.10.199" });
    expect(tenantSubnet(20)).toBe("172.16.20.0/24");
  });
});
