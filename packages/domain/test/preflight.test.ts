import { describe, expect, it } from "vitest";
import { preflight, preflightVerdict, rankDestinations } from "../src/index.js";
import { hypervisor, vm } from "./fixtures.js";

const run = (over: { domain?: ReturnType<typeof vm>; dest?: ReturnType<typeof hypervisor>; busy?: string[]; vni?: number | null } = {}) => {
  const domain = over.domain ?? vm();
  const source = hypervisor("kvm1", [domain]);
  const destination = over.dest ?? hypervisor("kvm2");
  return preflight({ domain, source, destination, tenantVni: over.vni === undefined ? 5001 : over.vni, busyInstances: new Set(over.busy ?? []) });
};
const result = (checks: ReturnType<typeof run>, id: string) => checks.find((c) => c.id === id);

describe("migration preflight", () => {
  it("passes every check for a healthy destination", () => {
    const checks = run();
    expect(preflightVerdict(checks)).toBe("pass");
    expect(checks.map((c) => c.id)).toEqual(expect.arrayContaining(["reachable", "state", "memory", "cpu", "cpu-compat", "storage", "vni"]));
  });

  it("fails when the destination is the source", () => {
    const domain = vm();
    const h = hypervisor("kvm1", [domain]);
    const checks = preflight({ domain, source: h, destination: h, tenantVni: null, busyInstances: new Set() });
    expect(result(checks, "reachable")).toMatchObject({ result: "fail", reason: "the VM already runs on this host" });
  });

  it("fails when the destination is unreachable, naming it", () => {
    const dest = hypervisor("kvm2");
    dest.connection = { ...dest.connection, state: "unreachable", message: "connect ECONNREFUSED" };
    expect(result(run({ dest }), "reachable")).toMatchObject({ result: "fail", reason: "kvm2 is unreachable: connect ECONNREFUSED" });
  });

  it("fails when the destination's host key changed", () => {
    const dest = hypervisor("kvm2");
    dest.connection = { ...dest.connection, state: "key-changed" };
    expect(result(run({ dest }), "reachable")?.reason).toContain("host key changed");
  });

  it("fails when the destination is in maintenance", () => {
    expect(result(run({ dest: hypervisor("kvm2", [], { maintenance: true }) }), "reachable")?.reason).toBe("kvm2 is in maintenance");
  });

  it("fails when the destination lacks RAM after headroom", () => {
    const dest = hypervisor("kvm2", [vm({ name: "big", memoryMiB: 64000 })]);
    const mem = result(run({ dest }), "memory");
    expect(mem?.result).toBe("fail");
    expect(mem?.reason).toMatch(/needs 2048 MiB; 1024 MiB free after 512 MiB headroom/);
  });

  it("fails when the VM is not running or already busy", () => {
    expect(result(run({ domain: vm({ state: "shutoff" }) }), "state")?.result).toBe("fail");
    expect(result(run({ busy: ["web1"] }), "state")?.reason).toBe("web1 already has an operation running");
  });

  it("asks for a storage migration when a disk is not on a mounted datastore", () => {
    const domain = vm({ disks: [{ target: "vda", path: "/var/lib/libvirt/images/web1.qcow2", pool: "default", capacityBytes: null }] });
    const storage = result(run({ domain }), "storage");
    expect(storage?.result).toBe("fail");
    expect(storage?.reason).toMatch(/^storage migration needed/);
  });

  it("does not take a sibling path for the mount (/instance2 is not under /instance)", () => {
    const domain = vm({ disks: [{ target: "vda", path: "/instance2/web1.qcow2", pool: null, capacityBytes: null }] });
    expect(result(run({ domain }), "storage")?.result).toBe("fail");
  });

  it("fails when the destination's trunk does not carry the VM's VLAN", () => {
    const dest = hypervisor("kvm2");
    dest.inventory.net!.bridges[0]!.ports[0]!.trunks = [20, 30];
    expect(result(run({ dest }), "net-52:54:00:00:00:01")).toMatchObject({ result: "fail", reason: "VLAN 10 is not carried by any trunk of br-ovs on kvm2" });
  });

  it("fails when the bridge is missing or of another type", () => {
    const missing = hypervisor("kvm2");
    missing.inventory.net!.bridges = missing.inventory.net!.bridges.filter((b) => b.name !== "br-ovs");
    expect(result(run({ dest: missing }), "net-52:54:00:00:00:01")?.reason).toBe("bridge br-ovs does not exist on kvm2");
    const linux = hypervisor("kvm2");
    linux.inventory.net!.bridges[0]!.type = "linux";
    expect(result(run({ dest: linux }), "net-52:54:00:00:00:01")?.reason).toMatch(/is a linux bridge/);
  });

  it("fails when the tenant's VNI is not on the destination, warns on a small MTU", () => {
    expect(result(run({ vni: 5002 }), "vni")).toMatchObject({ result: "fail", reason: "VNI 5002 is not present on kvm2" });
    const dest = hypervisor("kvm2");
    dest.inventory.net!.interfaces[0]!.mtu = 1500;
    expect(result(run({ dest }), "vni")?.result).toBe("warn");
  });

  it("fails on missing CPU features", () => {
    const domain = vm({ cpuModel: "Skylake", cpuFeatures: ["avx512f"] });
    expect(result(run({ domain }), "cpu-compat")?.reason).toBe("kvm2 lacks CPU features avx512f");
  });

  it("ranks passing destinations first, then by free memory", () => {
    const domain = vm();
    const source = hypervisor("kvm1", [domain]);
    const full = hypervisor("kvm3", [vm({ name: "x", memoryMiB: 40000 })]);
    const empty = hypervisor("kvm2");
    const broken = hypervisor("kvm4", [], { maintenance: true });
    const ranked = rankDestinations(
      [full, broken, empty].map((destination) => ({ host: destination, checks: preflight({ domain, source, destination, tenantVni: 5001, busyInstances: new Set() }) })),
    );
    expect(ranked.map((r) => [r.host, r.verdict])).toEqual([["kvm2", "pass"], ["kvm3", "pass"], ["kvm4", "fail"]]);
  });
});
