import { describe, expect, it } from "vitest";
import {
  buildTopology,
  findings,
  mapGraph,
  OUTSIDE_THE_FLEET,
  scopeFindings,
  scopeTopology,
  tenantTable,
  visibleTopology,
  vlanTable,
  vniTable,
  type Topology,
} from "../../src/index.js";
import { addVm, findHost, findPort, labDefault, LAB_TENANTS } from "./fixtures.js";

/** A lab with every kind of neighbour trouble: another tenant's VM inside acme's VLAN/VNI, broken tunnels of all tenants, a trimmed trunk. */
function busyLab() {
  const hosts = labDefault();
  addVm(findHost(hosts, "kvm1"), "globex-intruder", "globex", 10, "vnet9");
  findPort(hosts, "kvm1", "vx5001-kvm2").up = false;
  findPort(hosts, "kvm2", "vx5002-kvm1").up = false;
  findPort(hosts, "kvm2", "vx5003-kvm1").vxlan!.remote = "10.99.9.9";
  findPort(hosts, "kvm2", "eth0").trunks = [10, 30];
  return buildTopology(hosts, LAB_TENANTS);
}

const OTHERS = {
  globex: { vni: 5002, vlan: 20, vms: ["globex-vm1-1", "globex-vm2-1", "globex-intruder"], ports: ["vx5002", "vnet9"] },
  initech: { vni: 5003, vlan: 30, vms: ["initech-vm1-2", "initech-vm2-2"], ports: ["vx5003"] },
};

/** Every value under keys that name tenants, VNIs or VLANs, anywhere in a JSON value. */
function collect(value: unknown, out: Record<"tenant" | "vni" | "vlan", Set<unknown>> = { tenant: new Set(), vni: new Set(), vlan: new Set() }) {
  if (Array.isArray(value)) value.forEach((v) => collect(v, out));
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) {
      const bucket = k === "tenant" || k === "tenants" || k === "slug" ? out.tenant : k === "vni" || k === "vnis" ? out.vni : k === "vlan" || k === "vlans" || k === "trunks" ? out.vlan : null;
      if (bucket) for (const x of [v].flat()) if (x !== null) bucket.add(x);
      collect(v, out);
    }
  return out;
}

function expectNothingOf(others: Record<string, { vni: number; vlan: number; vms: string[]; ports: string[] }>, value: unknown) {
  const text = JSON.stringify(value);
  for (const [slug, o] of Object.entries(others)) {
    expect(text).not.toContain(slug);
    expect(text).not.toContain(String(o.vni));
    for (const vm of o.vms) expect(text).not.toContain(vm);
    for (const p of o.ports) expect(text).not.toContain(p);
  }
  const seen = collect(value);
  for (const o of Object.values(others)) {
    expect(seen.vni.has(o.vni)).toBe(false);
    expect(seen.vlan.has(o.vlan)).toBe(false);
  }
}

describe("scopeTopology", () => {
  it("keeps acme's VMs, VNI, VLAN and the hosts, bridges and ports carrying them", () => {
    const t = scopeTopology(busyLab(), "acme");
    expect(t.scope).toBe("acme");
    expect(t.tenants).toEqual([{ slug: "acme", name: "Acme Corp", vni: 5001 }]);
    expect(t.hosts.map((h) => h.name)).toEqual(["kvm1", "kvm2"]);
    expect(t.hosts[0]!.vms.map((v) => v.name)).toEqual(["acme-vm1-0"]);
    expect(t.hosts[0]!.bridges.map((b) => [b.name, b.ports.map((p) => p.name)])).toEqual([["br-ovs", ["vx5001-kvm2", "vnet0", "eth0"]]]);
    expect(t.hosts[0]!.bridges[0]!.ports.find((p) => p.name === "eth0")!.trunks).toEqual([10]);
    expect(t.tunnels.map((x) => x.id)).toEqual(["kvm1/br-ovs/vx5001-kvm2", "kvm2/br-ovs/vx5001-kvm1"]);
    expect(t.hosts.every((h) => h.interfaces.length === 0)).toBe(true);
  });

  it("leaks nothing of other tenants: no slug, VNI, VLAN, VM or port name, in the topology, tables or map", () => {
    const t = scopeTopology(busyLab(), "acme");
    expectNothingOf(OTHERS, t);
    expectNothingOf(OTHERS, vlanTable(t));
    expectNothingOf(OTHERS, vniTable(t));
    expectNothingOf(OTHERS, tenantTable(t));
    expectNothingOf(OTHERS, mapGraph(t, { expanded: new Set(), findings: scopeFindings(findings(busyLab()), t) }));
  });

  it("leaks nothing to a tenant whose VM sits in another tenant's segment", () => {
    const t = scopeTopology(busyLab(), "globex");
    expect(t.hosts.flatMap((h) => h.vms.map((v) => v.name))).toEqual(["globex-vm1-1", "globex-intruder", "globex-vm2-1"]);
    // The intruder's NIC is bridged into acme's VNI: that VNI must not show through it.
    expectNothingOf({ acme: { vni: 5001, vlan: 999, vms: ["acme-vm1-0", "acme-vm2-0"], ports: ["vx5001"] }, initech: OTHERS.initech }, t);
  });

  it("tells no host, underlay or tunnel endpoint address; the tenant's own VM addresses stay", () => {
    const full = busyLab();
    const infra = full.hosts.flatMap((h) => [h.address, ...h.underlay, ...h.interfaces.flatMap((i) => i.addresses.map((a) => a.split("/")[0]!))]);
    infra.push(...full.tunnels.flatMap((x) => [x.local, x.remote]).filter((a): a is string => !!a));
    expect(infra.length).toBeGreaterThan(4);
    const t = scopeTopology(full, "acme");
    const text = JSON.stringify([t, mapGraph(t, { expanded: new Set() })]);
    for (const a of new Set(infra)) expect(text, a).not.toMatch(new RegExp(`(?<![\\d.])${a.replaceAll(".", "\\.")}(?![\\d])`));
    const own = full.hosts.flatMap((h) => h.vms.filter((v) => v.tenant === "acme").flatMap((v) => v.nics.flatMap((n) => n.ipAddresses)));
    for (const a of own) expect(text).toContain(a);
  });

  it("still draws the tenant's tunnels: each leads to its peer host, or outside the fleet", () => {
    const hosts = labDefault();
    findPort(hosts, "kvm2", "vx5001-kvm1").vxlan!.remote = "10.99.9.9";
    const t = scopeTopology(buildTopology(hosts, LAB_TENANTS), "acme");
    expect(t.tunnels.map((x) => [x.from, x.remote])).toEqual([["kvm1", "kvm2"], ["kvm2", OUTSIDE_THE_FLEET]]);
    const edges = mapGraph(t, { expanded: new Set() }).edges.filter((e) => e.kind === "tunnel");
    expect(edges.length).toBeGreaterThan(0);
    expect(JSON.stringify(t)).not.toContain("10.99.9.9");
  });

  it("counts only the tenant's own VMs on the map", () => {
    const graph = mapGraph(scopeTopology(busyLab(), "acme"), { expanded: new Set() });
    expect(graph.nodes.filter((n) => n.kind === "host").map((n) => (n.kind === "host" ? n.vmCount : -1))).toEqual([1, 1]);
  });

  it("gives an unknown tenant an empty picture", () => {
    const t = scopeTopology(busyLab(), "nobody");
    expect(t).toEqual({ scope: "nobody", hosts: [], tunnels: [], tenants: [] });
  });
});

describe("scopeFindings", () => {
  const full = () => busyLab();
  const scoped = (slug: string) => {
    const t = full();
    return scopeFindings(findings(t), scopeTopology(t, slug));
  };

  it("shows a tenant the findings about its own network only", () => {
    expect(scoped("acme").map((f) => f.id)).toEqual(["mesh-incomplete:5001"]);
    expect(scoped("globex").map((f) => f.id)).toEqual(["mesh-incomplete:5002", "vlan-not-trunked:kvm2:br-ovs:20:globex"]);
    expect(scoped("initech").map((f) => f.id)).toEqual(["mesh-incomplete:5003", "tunnel-unknown-remote:kvm2/br-ovs/vx5003-kvm1"]);
  });

  it("keeps findings that name two tenants (shared VNI, reused VLAN) for staff only", () => {
    const all = findings(full()).map((f) => f.id);
    expect(all).toContain("vni-shared:5001");
    expect(all).toContain("vlan-reused:kvm1:10");
    for (const slug of ["acme", "globex"]) expect(scoped(slug).some((f) => f.kind === "vni-shared" || f.kind === "vlan-reused")).toBe(false);
  });

  it("drops a finding that names an object outside the tenant's scope even when labelled with the tenant", () => {
    const t = full();
    const forged = { id: "x", kind: "orphan-port" as const, severity: "info" as const, message: "m", objects: { tenants: ["acme"], ports: ["kvm1/br-ovs/vnet1"] } };
    expect(scopeFindings([forged], scopeTopology(t, "acme"))).toEqual([]);
  });

  it("returns every finding for the staff view", () => {
    const t = full();
    expect(scopeFindings(findings(t), t)).toEqual(findings(t));
  });
});

describe("visibleTopology", () => {
  const t: Topology = busyLab();
  it("gives staff the whole topology", () => {
    for (const role of ["admin", "operator", "oncall"] as const) expect(visibleTopology({ role, tenant: null }, t)).toBe(t);
  });
  it("gives a tenant member their own part", () => {
    expect(visibleTopology({ role: "tenant", tenant: "acme" }, t)).toEqual(scopeTopology(t, "acme"));
  });
  it("gives a tenant member without a tenant nothing", () => {
    expect(visibleTopology({ role: "tenant", tenant: null }, t).hosts).toEqual([]);
  });
});
