import { describe, expect, it } from "vitest";
import { domain, findHost, findingsOf, findPort, host, iface, labDefault, labFleet, ovs, removePort, vxlanPort } from "./fixtures.js";

describe("finding: incomplete VXLAN mesh", () => {
  it("reports a tunnel that is down as the missing direction", () => {
    const hosts = labDefault();
    findPort(hosts, "kvm2", "vx5002-kvm1").up = false;
    expect(findingsOf("mesh-incomplete", hosts)).toEqual([
      {
        id: "mesh-incomplete:5002",
        kind: "mesh-incomplete",
        severity: "crit",
        message: "VXLAN mesh of VNI 5002 (globex) is incomplete: no working tunnel kvm2 → kvm1",
        objects: { vni: 5002, tenants: ["globex"], hosts: ["kvm1", "kvm2"] },
      },
    ]);
  });

  it("reports a tunnel missing in one direction between two of three hosts", () => {
    const hosts = labFleet(3, 3);
    removePort(findHost(hosts, "kvm1"), "br-ovs", "vx5001-kvm3");
    const [f] = findingsOf("mesh-incomplete", hosts);
    expect(f!.message).toBe("VXLAN mesh of VNI 5001 (acme) is incomplete: no working tunnel kvm1 → kvm3");
    expect(f!.objects.hosts).toEqual(["kvm1", "kvm3"]);
  });

  it("counts a host with the tenant's VMs but no VNI as a member that must be meshed", () => {
    const hosts = labDefault();
    hosts.push(host("kvm3", { bridges: [ovs("br-ovs", [])], domains: [domain("acme-x", "acme", [{ mac: "m", device: null, vlan: 10 }])] }));
    const [f] = findingsOf("mesh-incomplete", hosts);
    expect(f!.message).toBe(
      "VXLAN mesh of VNI 5001 (acme) is incomplete: no working tunnel kvm1 → kvm3, kvm2 → kvm3, kvm3 → kvm1 and kvm3 → kvm2",
    );
  });

  it("counts every missing direction of a large partial mesh but names only a few", () => {
    // 40 hosts, each tunnelling to its two ring neighbours: 40 * 37 directions are missing per VNI.
    const hosts = labFleet(40, 1);
    for (const h of hosts) {
      const i = Number(h.name.slice(3));
      const keep = new Set([((i + 38) % 40) + 1, (i % 40) + 1].map((j) => `kvm${j}`));
      for (const b of h.inventory.net!.bridges) b.ports = b.ports.filter((p) => !p.vxlan || keep.has(p.name.split("-")[1]!));
    }
    const found = findingsOf("mesh-incomplete", hosts);
    expect(found.map((f) => f.objects.vni)).toEqual([5001, 5002, 5003]);
    expect(found[0]!.message).toBe(
      "VXLAN mesh of VNI 5001 (acme) is incomplete: no working tunnel kvm1 → kvm10, kvm1 → kvm11, kvm1 → kvm12, kvm1 → kvm13, kvm1 → kvm14 and 1,475 more",
    );
    expect(found[0]!.objects.hosts).toHaveLength(40);
  });

  it("counts a host only flood endpoints reach as reached, and one that no one reaches as broken", () => {
    const hosts = labFleet(3, 3);
    // kvm1 floods (reaches everyone); kvm2 and kvm3 tunnel to each other but not to kvm1.
    const kvm1 = findHost(hosts, "kvm1");
    for (const t of ["5001", "5002", "5003"]) for (const peer of ["kvm2", "kvm3"]) removePort(kvm1, "br-ovs", `vx${t}-${peer}`);
    kvm1.inventory.net!.bridges[1]!.ports.push(vxlanPort("vx5001", 5001, null, { vlan: 10 }), vxlanPort("vx5002", 5002, null, { vlan: 20 }), vxlanPort("vx5003", 5003, null, { vlan: 30 }));
    for (const h of ["kvm2", "kvm3"]) for (const t of ["5001", "5002"]) removePort(findHost(hosts, h), "br-ovs", `vx${t}-kvm1`);
    const found = findingsOf("mesh-incomplete", hosts);
    expect(found.map((f) => f.objects.vni)).toEqual([5001, 5002]);
    expect(found[0]!.message).toBe("VXLAN mesh of VNI 5001 (acme) is incomplete: no working tunnel kvm2 → kvm1 and kvm3 → kvm1");
    expect(found[0]!.objects.hosts).toEqual(["kvm1", "kvm2", "kvm3"]);
  });

  it("is silent for a full mesh", () => {
    expect(findingsOf("mesh-incomplete", labFleet(4, 6))).toEqual([]);
  });

  it("is silent for an endpoint without a single remote (multicast or flow-based): its reach is not visible", () => {
    const hosts = labDefault();
    const kvm2 = findHost(hosts, "kvm2");
    removePort(kvm2, "br-ovs", "vx5001-kvm1");
    kvm2.inventory.net!.bridges[1]!.ports.push(vxlanPort("vx5001", 5001, null, { vlan: 10 }));
    expect(findingsOf("mesh-incomplete", hosts)).toEqual([]);
  });

  it("ignores a shut-off tenant VM on a host without the VNI", () => {
    const hosts = labDefault();
    hosts.push(host("kvm3", { bridges: [], domains: [domain("acme-old", "acme", [{ mac: "m", device: null, vlan: 10 }], { state: "shutoff" })] }));
    expect(findingsOf("mesh-incomplete", hosts)).toEqual([]);
  });

  it("does not judge a host that has not reported its network", () => {
    const hosts = labDefault();
    hosts.push(host("kvm3", { net: false, domains: [domain("acme-x", "acme", [{ mac: "m", device: null, vlan: 10 }])] }));
    expect(findingsOf("mesh-incomplete", hosts)).toEqual([]);
  });
});

describe("finding: tunnel whose remote is no known host", () => {
  it("names the tunnel, its host, VNI and the unknown address", () => {
    const hosts = labDefault();
    findPort(hosts, "kvm1", "vx5003-kvm2").vxlan!.remote = "10.99.7.7";
    expect(findingsOf("tunnel-unknown-remote", hosts)).toEqual([
      {
        id: "tunnel-unknown-remote:kvm1/br-ovs/vx5003-kvm2",
        kind: "tunnel-unknown-remote",
        severity: "warn",
        message: "Tunnel vx5003-kvm2 on kvm1 (VNI 5003) points at 10.99.7.7, which is no known host",
        objects: { hosts: ["kvm1"], ports: ["kvm1/br-ovs/vx5003-kvm2"], vni: 5003, tenants: ["initech"] },
      },
    ]);
  });

  it("is silent for a remote that is another host's configured address", () => {
    const hosts = [
      host("kvm1", { bridges: [ovs("br-ovs", [vxlanPort("vx", 5001, "192.168.5.2")])] }),
      host("kvm2", { address: "192.168.5.2", interfaces: [iface("eth0")] }),
    ];
    expect(findingsOf("tunnel-unknown-remote", hosts)).toEqual([]);
  });

  it("is silent for an endpoint without a remote", () => {
    const hosts = [host("kvm1", { bridges: [ovs("br-ovs", [vxlanPort("vx", 5001, null)])] })];
    expect(findingsOf("tunnel-unknown-remote", hosts)).toEqual([]);
  });
});
