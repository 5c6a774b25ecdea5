import { describe, expect, it } from "vitest";
import { planEvacuation, swarmRoleOfVm, type HostRecord } from "../../src/index.js";
import { hypervisor, vm } from "../fixtures.js";
import { swarmLeader } from "./fixtures.js";

const vni = (t: string) => (t === "acme" ? 5001 : null);
const plan = (host: string, hosts: HostRecord[], busy: string[] = []) => planEvacuation({ host, hosts, tenantVni: vni, busyInstances: new Set(busy) });
const used = (name: string, mib: number) => hypervisor(name, [vm({ name: `${name}-load`, memoryMiB: mib })]);

describe("maintenance dry-run planner", () => {
  it("sends each VM to the destination with the most free memory, counting the VMs planned onto it before", () => {
    const kvm1 = hypervisor("kvm1", [vm({ name: "a", memoryMiB: 30_000 }), vm({ name: "b", memoryMiB: 30_000 })]);
    const p = plan("kvm1", [kvm1, hypervisor("kvm2"), used("kvm3", 20_000)]);
    // Without counting a on kvm2, b would go there too (kvm2 looked emptiest).
    expect(p.moves.map((m) => [m.instance, m.destination])).toEqual([["a", "kvm2"], ["b", "kvm3"]]);
    expect(p.moves[0]!.reason).toBe("every check passes; 35536 MiB left on kvm2 after it, the most of 2 hosts");
    expect(p.complete).toBe(true);
  });

  it("plans the largest VMs first, whatever their order on the host", () => {
    const kvm1 = hypervisor("kvm1", [vm({ name: "small", memoryMiB: 1024 }), vm({ name: "big", memoryMiB: 40_000 }), vm({ name: "mid", memoryMiB: 8000 })]);
    expect(plan("kvm1", [kvm1, hypervisor("kvm2"), hypervisor("kvm3")]).moves.map((m) => m.instance)).toEqual(["big", "mid", "small"]);
  });

  it("blocks a VM that no longer fits once the others are placed, with the memory check as the reason", () => {
    const kvm1 = hypervisor("kvm1", [vm({ name: "a", memoryMiB: 40_000 }), vm({ name: "b", memoryMiB: 30_000 })]);
    const p = plan("kvm1", [kvm1, hypervisor("kvm2")]);
    expect(p.moves.map((m) => m.instance)).toEqual(["a"]);
    expect(p.blocked).toEqual([
      expect.objectContaining({ instance: "b", reason: "kvm2: needs 30000 MiB; 25024 MiB free after 512 MiB headroom" }),
    ]);
    expect(p.complete).toBe(false);
  });

  it("blocks a VM whose VLAN no destination carries, listing the failing check per destination", () => {
    const kvm2 = hypervisor("kvm2");
    kvm2.inventory.net!.bridges[0]!.ports[0]!.trunks = [20];
    const p = plan("kvm1", [hypervisor("kvm1", [vm()]), kvm2]);
    expect(p.blocked[0]).toMatchObject({
      instance: "web1",
      reason: "kvm2: VLAN 10 is not carried by any trunk of br-ovs on kvm2",
      candidates: [{ host: "kvm2", failing: [expect.objectContaining({ id: "net-52:54:00:00:00:01" })] }],
    });
  });

  it("never places onto a host in maintenance or offline", () => {
    const down = hypervisor("kvm4");
    down.connection = { ...down.connection, state: "unreachable" };
    const p = plan("kvm1", [hypervisor("kvm1", [vm()]), hypervisor("kvm2", [], { maintenance: true }), hypervisor("kvm3"), down]);
    expect(p.moves.map((m) => m.destination)).toEqual(["kvm3"]);
  });

  it("says when there is no other hypervisor at all", () => {
    expect(plan("kvm1", [hypervisor("kvm1", [vm()])]).blocked[0]?.reason).toBe("no other hypervisor in the fleet");
  });

  it("blocks a VM that already has an operation running, and a paused one", () => {
    const p = plan("kvm1", [hypervisor("kvm1", [vm(), vm({ name: "frozen", state: "paused" })]), hypervisor("kvm2")], ["web1"]);
    expect(p.blocked.map((b) => [b.instance, b.reason])).toEqual([
      ["frozen", "kvm2: frozen is paused; only running VMs live-migrate"],
      ["web1", "kvm2: web1 already has an operation running"],
    ]);
  });

  it("lists VMs that are off as staying defined on the host", () => {
    const p = plan("kvm1", [hypervisor("kvm1", [vm(), vm({ name: "old", state: "shutoff" })]), hypervisor("kvm2")]);
    expect(p.staying).toEqual([{ instance: "old", state: "shutoff" }]);
    expect(p.moves.map((m) => m.instance)).toEqual(["web1"]);
  });

  it("drains swarm workers on the host (restored after their move), never the manager", () => {
    const kvm1 = hypervisor("kvm1", [vm({ name: "worker1", tenant: null }), vm({ name: "mgr", tenant: null })]);
    const leader = swarmLeader(
      [{ hostname: "mgr", role: "manager", leader: true }, { hostname: "worker1", id: "w1" }],
      [{ node: "w1", serviceName: "web" }, { node: "w1", serviceName: "api" }, { node: "w1", serviceName: "web", desiredState: "shutdown" }],
    );
    const p = plan("kvm1", [kvm1, hypervisor("kvm2"), leader]);
    expect(p.drains).toEqual([{ node: "worker1", vm: "worker1", role: "worker", tasks: 2, services: ["api", "web"], restoreTo: "active" }]);
    expect(p.managers).toEqual(["mgr"]);
    expect(p.moves.find((m) => m.instance === "worker1")?.swarm).toMatchObject({ role: "worker", tasks: [{ serviceName: "web" }, { serviceName: "api" }] });
  });

  it("drains a worker that cannot move and leaves it drained", () => {
    const kvm1 = hypervisor("kvm1", [vm({ name: "worker1", tenant: null, memoryMiB: 90_000 })]);
    const p = plan("kvm1", [kvm1, hypervisor("kvm2"), swarmLeader([{ hostname: "worker1" }])]);
    expect(p.blocked.map((b) => b.instance)).toEqual(["worker1"]);
    expect(p.drains).toEqual([expect.objectContaining({ node: "worker1", restoreTo: null })]);
  });
});

describe("swarm role of a VM", () => {
  it("matches a node by an address the VM reports when hostnames differ", () => {
    const domain = vm({ name: "vm-17", nics: [{ ...vm().nics[0]!, ipAddresses: ["10.0.1.17/24"] }] });
    const role = swarmRoleOfVm(domain, [swarmLeader([{ hostname: "docker-17", address: "10.0.1.17" }])]);
    expect(role).toMatchObject({ node: "docker-17", role: "worker", drain: { procedure: "swarm.setAvailability", input: { node: "docker-17", availability: "drain" } } });
  });

  it("offers no drain for a node already drained, and nothing outside the swarm", () => {
    expect(swarmRoleOfVm(vm({ name: "node0" }), [swarmLeader([{ availability: "drain" }])])?.drain).toBeNull();
    expect(swarmRoleOfVm(vm({ name: "web1" }), [swarmLeader([{}])])).toBeNull();
  });
});
