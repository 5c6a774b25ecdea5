import { describe, expect, it } from "vitest";
import { buildTopology, findings, mapGraph, type MapNode } from "../../src/index.js";
import { domain, findHost, findPort, labDefault, labFleet, LAB_TENANTS, removePort, vxlanPort } from "./fixtures.js";

const ids = (nodes: MapNode[], kind: MapNode["kind"]) => nodes.filter((n) => n.kind === kind).map((n) => n.id);
const node = (nodes: MapNode[], id: string) => {
  const n = nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id}`);
  return n;
};

describe("mapGraph grouping", () => {
  const big = () => buildTopology(labFleet(2, 12), LAB_TENANTS);

  it("nests host ⊃ bridge ⊃ VM group and lists parents before children", () => {
    const { nodes } = mapGraph(big());
    expect(ids(nodes, "host")).toEqual(["host:kvm1", "host:kvm2"]);
    expect(node(nodes, "bridge:kvm1/br-ovs").parentId).toBe("host:kvm1");
    expect(node(nodes, "group:kvm1/br-ovs/10").parentId).toBe("bridge:kvm1/br-ovs");
    const seen = new Set<string>();
    for (const n of nodes) {
      if (n.parentId) expect(seen.has(n.parentId)).toBe(true);
      seen.add(n.id);
    }
  });

  it("collapses groups larger than expandUpTo into one node with a count", () => {
    const { nodes } = mapGraph(big());
    // Only the lone infrastructure VM of each host's br0 group is small enough to show.
    expect(ids(nodes, "vm")).toEqual(["vm:kvm1/manager", "vm:kvm2/worker1"]);
    expect(node(nodes, "group:kvm1/br-ovs/20")).toMatchObject({ kind: "vm-group", vmCount: 4, expanded: false, tenants: ["globex"], vnis: [5002], label: "VLAN 20 · 4 VMs" });
  });

  it("shows the VMs of an opened group as its children", () => {
    const { nodes } = mapGraph(big(), { expanded: new Set(["group:kvm1/br-ovs/20"]) });
    const vms = nodes.filter((n) => n.kind === "vm" && n.tenant !== null);
    expect(vms.map((n) => n.label)).toEqual(["globex-vm1-1", "globex-vm1-4", "globex-vm1-7", "globex-vm1-10"]);
    expect(vms.every((n) => n.parentId === "group:kvm1/br-ovs/20")).toBe(true);
  });

  it("shows small groups open without being asked", () => {
    const { nodes } = mapGraph(buildTopology(labDefault(), LAB_TENANTS));
    expect(node(nodes, "group:kvm1/br-ovs/10")).toMatchObject({ expanded: true, vmCount: 1 });
    expect(node(nodes, "vm:kvm1/acme-vm1-0")).toMatchObject({ parentId: "group:kvm1/br-ovs/10", tenant: "acme", vlan: 10, vnis: [5001] });
    expect(node(nodes, "group:kvm1/br0/untagged")).toMatchObject({ label: "untagged · 1 VM" });
  });

  it("places a VM without NICs in a group directly under its host", () => {
    const hosts = labDefault();
    findHost(hosts, "kvm1").inventory.virt!.domains.push(domain("lonely", "acme", []));
    expect(node(mapGraph(buildTopology(hosts, LAB_TENANTS)).nodes, "group:kvm1/-/none").parentId).toBe("host:kvm1");
  });

  it("draws a VM's further NIC as an edge to that bridge, from the group while it is closed", () => {
    const hosts = labDefault();
    const vm = findHost(hosts, "kvm1").inventory.virt!.domains.find((d) => d.name === "acme-vm1-0")!;
    vm.nics.push({ ...vm.nics[0]!, mac: "52:54:00:99:00:01", bridge: "br0", bridgeType: "linux", device: "vnet-x", vlan: null });
    const t = buildTopology(hosts, LAB_TENANTS);
    expect(mapGraph(t).edges.filter((e) => e.kind === "nic")).toEqual([
      { id: "nic:vm:kvm1/acme-vm1-0->bridge:kvm1/br0", kind: "nic", source: "vm:kvm1/acme-vm1-0", target: "bridge:kvm1/br0", count: 1 },
    ]);
    expect(mapGraph(t, { expandUpTo: 0 }).edges.filter((e) => e.kind === "nic").map((e) => e.source)).toEqual(["group:kvm1/br-ovs/10"]);
  });
});

describe("mapGraph tunnels", () => {
  it("merges the two directions of a tunnel into one edge between the bridges, per VNI", () => {
    const { edges } = mapGraph(buildTopology(labDefault(), LAB_TENANTS));
    const tunnels = edges.filter((e) => e.kind === "tunnel");
    expect(tunnels.map((e) => e.id)).toEqual([
      "tunnel:5001:bridge:kvm1/br-ovs~bridge:kvm2/br-ovs",
      "tunnel:5002:bridge:kvm1/br-ovs~bridge:kvm2/br-ovs",
      "tunnel:5003:bridge:kvm1/br-ovs~bridge:kvm2/br-ovs",
    ]);
    expect(tunnels[0]).toMatchObject({ vni: 5001, tenants: ["acme"], bidirectional: true, up: true, ports: ["kvm1/br-ovs/vx5001-kvm2", "kvm2/br-ovs/vx5001-kvm1"] });
  });

  it("marks a one-way tunnel and a down one", () => {
    const hosts = labDefault();
    removePort(findHost(hosts, "kvm2"), "br-ovs", "vx5001-kvm1");
    findPort(hosts, "kvm2", "vx5002-kvm1").up = false;
    const tunnels = mapGraph(buildTopology(hosts, LAB_TENANTS)).edges.filter((e) => e.kind === "tunnel");
    expect(tunnels.find((e) => e.kind === "tunnel" && e.vni === 5001)).toMatchObject({ bidirectional: false, source: "bridge:kvm1/br-ovs" });
    expect(tunnels.find((e) => e.kind === "tunnel" && e.vni === 5002)).toMatchObject({ bidirectional: true, up: false });
  });

  it("draws a tunnel to an unknown address to a remote node", () => {
    const hosts = labDefault();
    findPort(hosts, "kvm1", "vx5001-kvm2").vxlan!.remote = "10.99.9.9";
    const t = buildTopology(hosts, LAB_TENANTS);
    const graph = mapGraph(t, { findings: findings(t) });
    expect(node(graph.nodes, "remote:10.99.9.9")).toMatchObject({ kind: "remote", parentId: null, findingIds: ["tunnel-unknown-remote:kvm1/br-ovs/vx5001-kvm2"] });
    expect(graph.edges.some((e) => e.kind === "tunnel" && e.target === "remote:10.99.9.9")).toBe(true);
  });

  it("draws no edge for an endpoint without a single remote", () => {
    const hosts = [labDefault()[0]!];
    hosts[0]!.inventory.net!.bridges[1]!.ports = [vxlanPort("vx", 5001, null)];
    expect(mapGraph(buildTopology(hosts, LAB_TENANTS)).edges).toEqual([]);
  });
});

describe("mapGraph filters", () => {
  const lab = () => buildTopology(labFleet(3, 6), LAB_TENANTS);

  it("by tenant: only that tenant's VMs, the bridges carrying them and its VNI's tunnels", () => {
    const { nodes, edges } = mapGraph(lab(), { filter: { tenant: "acme" } });
    expect(ids(nodes, "bridge")).toEqual(["bridge:kvm1/br-ovs", "bridge:kvm2/br-ovs", "bridge:kvm3/br-ovs"]);
    expect(nodes.filter((n) => n.kind === "vm-group").every((n) => n.kind === "vm-group" && n.tenants.join() === "acme")).toBe(true);
    expect(new Set(edges.map((e) => (e.kind === "tunnel" ? e.vni : 0)))).toEqual(new Set([5001]));
  });

  it("by VNI: the VMs in its segments and its tunnels", () => {
    const { nodes, edges } = mapGraph(lab(), { filter: { vni: 5002 } });
    expect(ids(nodes, "vm-group")).toEqual(["group:kvm1/br-ovs/20", "group:kvm2/br-ovs/20", "group:kvm3/br-ovs/20"]);
    expect(edges.every((e) => e.kind === "tunnel" && e.vni === 5002)).toBe(true);
    expect(edges).toHaveLength(3);
  });

  it("by VLAN: the VMs on it and the tunnels bridged into it", () => {
    const { nodes, edges } = mapGraph(lab(), { filter: { vlan: 30 } });
    expect(ids(nodes, "vm-group")).toEqual(["group:kvm1/br-ovs/30", "group:kvm2/br-ovs/30", "group:kvm3/br-ovs/30"]);
    expect(edges.every((e) => e.kind === "tunnel" && e.vni === 5003)).toBe(true);
  });

  it("combines filters (AND): no VM is both acme's and on VLAN 20", () => {
    const { nodes } = mapGraph(lab(), { filter: { tenant: "acme", vlan: 20 } });
    expect(nodes.filter((n) => n.kind === "vm" || n.kind === "vm-group")).toEqual([]);
  });

  it("without filter shows every host and bridge, empty ones included", () => {
    const { nodes } = mapGraph(lab());
    expect(ids(nodes, "bridge")).toHaveLength(6);
  });
});

describe("mapGraph finding badges", () => {
  it("badges hosts named by a finding, and the VM and its group named by another", () => {
    const hosts = labDefault();
    findPort(hosts, "kvm1", "vx5001-kvm2").up = false;
    findPort(hosts, "kvm1", "eth0").trunks = [10, 30];
    const t = buildTopology(hosts, LAB_TENANTS);
    const { nodes } = mapGraph(t, { findings: findings(t), expandUpTo: 0 });
    expect(node(nodes, "host:kvm2").findingIds).toEqual(["mesh-incomplete:5001"]);
    expect(node(nodes, "group:kvm1/br-ovs/20").findingIds).toEqual(["vlan-not-trunked:kvm1:br-ovs:20:globex"]);
    expect(node(nodes, "bridge:kvm1/br-ovs").findingIds).toEqual(["vlan-not-trunked:kvm1:br-ovs:20:globex"]);
  });
});
