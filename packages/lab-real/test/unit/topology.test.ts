import { describe, expect, it } from "vitest";
import { FleetConfig, VXLAN_OVERHEAD } from "@nimbus/domain";
import { buildFleetConfig } from "../../src/fleet-config.js";
import { fabricPort } from "../../src/netns.js";
import { ovsTopology } from "../../src/ovs.js";
import { NS_PREFIX, OVERLAY_MTU, UNDERLAY_MTU, hypervisors, mgmtAddress, nodes, nsName, services, sshPort, tenants, tunnelAddress, vmMac, vms } from "../../src/topology.js";

describe("topology", () => {
  it("gives every node a distinct address, tunnel address and loopback port", () => {
    expect(new Set(nodes.map(mgmtAddress)).size).toBe(nodes.length);
    expect(new Set(nodes.map(sshPort)).size).toBe(nodes.length);
    expect(new Set(hypervisors().map(tunnelAddress)).size).toBe(hypervisors().length);
  });

  it("names every namespace with the prefix down looks for, and fits Linux's 15-character link names", () => {
    for (const n of nodes) {
      expect(nsName(n.name).startsWith(NS_PREFIX)).toBe(true);
      expect(fabricPort(n.name, "eth0").length).toBeLessThanOrEqual(15);
      expect(fabricPort(n.name, "eth1").length).toBeLessThanOrEqual(15);
    }
  });

  it("gives each tenant its own VNI and VLAN, and every VM and service a known tenant", () => {
    expect(new Set(tenants.map((t) => t.vni)).size).toBe(tenants.length);
    expect(new Set(tenants.map((t) => t.vlan)).size).toBe(tenants.length);
    const slugs = new Set(tenants.map((t) => t.slug));
    for (const x of [...vms, ...services]) expect(slugs.has(x.tenant)).toBe(true);
  });

  it("places VMs on hypervisors only, with distinct MACs", () => {
    const hv = new Set(hypervisors().map((h) => h.name));
    for (const vm of vms) expect(hv.has(vm.host)).toBe(true);
    expect(new Set(vms.map(vmMac)).size).toBe(vms.length);
    for (const vm of vms) expect(vmMac(vm)).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
  });
});

describe("underlay MTU", () => {
  it("leaves room for the VXLAN header around a full overlay frame", () => {
    expect(UNDERLAY_MTU).toBeGreaterThanOrEqual(OVERLAY_MTU + VXLAN_OVERHEAD);
  });

  it("is requested from OVS for br-phy and its uplink eth1, the tunnels' way out", () => {
    const cmds = ovsTopology(hypervisors()[0]!);
    for (const iface of ["br-phy", "eth1"]) {
      expect(cmds.some((c) => c.join(" ").includes(`set interface ${iface} mtu_request=${UNDERLAY_MTU}`)), iface).toBe(true);
    }
  });
});

describe("fleet config", () => {
  const config = buildFleetConfig("/lab/keys/id_ed25519");

  it("validates against the server's FleetConfig schema", () => {
    expect(FleetConfig.safeParse(config).success).toBe(true);
  });

  it("reaches every node on loopback and gives hypervisors a migration URI on the lab network", () => {
    expect(config.hosts.map((h) => h.name)).toEqual(nodes.map((n) => n.name));
    for (const h of config.hosts) expect(h.address).toBe("127.0.0.1");
    const kvm2 = config.hosts.find((h) => h.name === "kvm2");
    expect(kvm2?.migrationUri).toBe("qemu+tcp://10.77.0.12/system");
    expect(config.hosts.find((h) => h.name === "swarm1")?.migrationUri).toBeUndefined();
    expect(config.tenants.map((t) => t.vni)).toEqual([5001, 5002, 5003]);
  });

  it("has the server upload its agent to every node (the nodes have none installed)", () => {
    expect(config.agent).toEqual({ install: "upload" });
    for (const h of config.hosts) expect(h.agent).toBeUndefined();
  });
});
