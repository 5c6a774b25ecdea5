import { describe, expect, it } from "vitest";
import { capacityChecks, hostAvailabilityCheck, placeInstance, type HostRecord, type PlacementInput } from "../../src/index.js";
import { hypervisor, vm } from "../fixtures.js";
import { datastore, image, request } from "./fixtures.js";

const place = (hosts: HostRecord[], over: Partial<PlacementInput> = {}, req: Partial<ReturnType<typeof request>> = {}) =>
  placeInstance({ request: request(req), image: image(), hosts, datastores: [datastore()], ...over });
const check = (p: ReturnType<typeof place>, host: string, id: string) => p.candidates.find((c) => c.host === host)?.checks.find((c) => c.id === id);

/** A host whose VXLAN port for VNI 5001 is tagged with VLAN 10, as the lab wires tenants. */
const tagged = (name: string, domains = [] as ReturnType<typeof vm>[], over: Partial<HostRecord> = {}) => {
  const h = hypervisor(name, domains, over);
  const vx = h.inventory.net!.bridges[0]!.ports[1]!;
  vx.vlan = 10;
  vx.vxlan = { ...vx.vxlan!, local: `10.10.0.${name.slice(-1)}` };
  return h;
};
const withoutVni = (h: HostRecord) => {
  h.inventory.net!.bridges[0]!.ports = h.inventory.net!.bridges[0]!.ports.filter((p) => !p.vxlan);
  return h;
};

describe("placement of a new instance", () => {
  it("chooses the passing hypervisor with the most free memory, and says why", () => {
    const p = place([tagged("kvm1", [vm({ name: "big", memoryMiB: 40000 })]), tagged("kvm2"), tagged("kvm3", [], { maintenance: true })]);
    expect(p.chosen).toMatchObject({ host: "kvm2", verdict: "pass", bridge: { name: "br-ovs", type: "ovs" }, mountTarget: "/instance", wiring: [] });
    expect(p.reason).toBe("every check passes; 63488 MiB left on kvm2 after it, the most of 3 hosts");
    expect(p.candidates.map((c) => [c.host, c.verdict])).toEqual([["kvm2", "pass"], ["kvm1", "pass"], ["kvm3", "fail"]]);
  });

  it("uses the migration rules for reachability, RAM and vCPUs (the same checks, word for word)", () => {
    const host = tagged("kvm2", [vm({ name: "big", memoryMiB: 63500 })]);
    const p = place([host]);
    const checks = p.candidates[0]!.checks;
    expect(checks.slice(0, 3)).toEqual([hostAvailabilityCheck(host, "Host"), ...capacityChecks(host, { memoryMiB: 2048, vcpus: 2 })]);
    expect(check(p, "kvm2", "memory")).toMatchObject({ result: "fail", reason: "needs 2048 MiB; 1524 MiB free after 512 MiB headroom" });
  });

  it("gives each refused host its reason, and the closest one when none fits", () => {
    const down = tagged("kvm1");
    down.connection = { ...down.connection, state: "unreachable", message: "connect ECONNREFUSED" };
    const unmounted = tagged("kvm2");
    unmounted.inventory.storage!.mounts = [];
    const p = place([down, unmounted, tagged("kvm3", [], { maintenance: true })]);
    expect(p.chosen).toBeNull();
    expect(check(p, "kvm1", "reachable")?.reason).toBe("kvm1 is unreachable: connect ECONNREFUSED");
    expect(check(p, "kvm2", "datastore")).toMatchObject({ result: "fail", reason: "kvm2 does not mount /instance, where image debian-12-docker is" });
    expect(check(p, "kvm3", "reachable")?.reason).toBe("kvm3 is in maintenance");
    expect(p.reason).toBe("no hypervisor fits; closest is kvm1: kvm1 is unreachable: connect ECONNREFUSED");
    expect(place([]).reason).toBe("no hypervisor in the fleet");
  });

  it("checks a pinned host with the same rules, even when another host has more room", () => {
    const hosts = [tagged("kvm1", [vm({ name: "big", memoryMiB: 40000 })]), tagged("kvm2"), tagged("kvm3", [], { maintenance: true })];
    const pinned = place(hosts, {}, { host: "kvm1" });
    expect(pinned.chosen?.host).toBe("kvm1");
    expect(pinned.reason).toBe("pinned to kvm1; every check passes; 23488 MiB left on kvm1 after it");
    expect(place(hosts, {}, { host: "kvm3" })).toMatchObject({ chosen: null, reason: "kvm3 (pinned): kvm3 is in maintenance" });
    expect(place(hosts, {}, { host: "kvm9" })).toMatchObject({ chosen: null, reason: "host kvm9 is not part of the fleet" });
    const nfs = { ...hypervisor("nfs1"), inventory: { ...hypervisor("nfs1").inventory, virt: null } };
    expect(place([...hosts, nfs], {}, { host: "nfs1" }).reason).toBe("nfs1 (pinned): nfs1 is not a hypervisor");
  });

  it("counts creates in flight on a host as running there", () => {
    const hosts = [tagged("kvm1", [vm({ name: "big", memoryMiB: 30000 })]), tagged("kvm2")];
    const p = place(hosts, { pending: [{ name: "huge", host: "kvm2", vcpus: 2, memoryMiB: 64000 }] });
    expect(p.chosen?.host).toBe("kvm1");
    expect(check(p, "kvm2", "memory")?.result).toBe("fail");
  });

  it("refuses a name already used in the fleet or by a create in flight", () => {
    const hosts = [tagged("kvm1", [vm({ name: "Web2" })]), tagged("kvm2")];
    expect(place(hosts)).toMatchObject({ chosen: null, reason: "an instance named Web2 already exists on kvm1" });
    expect(place([tagged("kvm2")], { pending: [{ name: "web2", host: "kvm2", vcpus: 1, memoryMiB: 512 }] }).reason).toBe("an instance named web2 is being created on kvm2");
  });

  it("refuses a disk smaller than the image (virt-builder only grows it)", () => {
    expect(place([tagged("kvm2")], { image: image({ virtualSizeBytes: 30 * 1024 ** 3 }) })).toMatchObject({
      chosen: null,
      reason: "image debian-12-docker needs a disk of at least 30 GiB (20 GiB asked)",
    });
  });

  it("refuses a host where another tenant's VMs use the VLAN (vlan-reused would open)", () => {
    const p = place([tagged("kvm2", [vm({ name: "g1", tenant: "globex" })])]);
    expect(check(p, "kvm2", "vlan")).toMatchObject({ result: "fail", reason: "VLAN 10 on kvm2 is used by globex (g1): tenants would share traffic" });
    const inFlight = place([tagged("kvm2")], { pending: [{ name: "g2", host: "kvm2", vcpus: 1, memoryMiB: 512, tenant: "globex", vlan: 10 }] });
    expect(check(inFlight, "kvm2", "vlan")?.result).toBe("fail");
    expect(check(place([tagged("kvm2", [vm({ name: "web1" })])]), "kvm2", "vlan")?.result).toBe("pass");
    // On a Linux bridge the tag is on the VM's port, not in its XML.
    const linux = tagged("kvm2", [vm({ name: "g3", tenant: "globex", nics: [{ ...vm().nics[0]!, bridge: "br0", bridgeType: "linux", device: "vnet3", vlan: null }] })]);
    linux.inventory.net!.bridges[1]!.ports.push({ name: "vnet3", mode: "vm", vlan: 10, trunks: [], vxlan: null, mtu: null, up: true, attached: { domain: "g3", mac: "52:54:00:00:00:01" } });
    expect(check(place([linux]), "kvm2", "vlan")?.reason).toBe("VLAN 10 on kvm2 is used by globex (g3): tenants would share traffic");
  });

  it("refuses a VLAN bridged into another tenant's VNI (vni-shared would open)", () => {
    const h = tagged("kvm2");
    h.inventory.net!.bridges[0]!.ports[1]!.vxlan!.vni = 5002;
    expect(check(place([h]), "kvm2", "vni")).toMatchObject({ result: "fail", reason: "VLAN 10 of br-ovs on kvm2 is bridged into VNI 5002, not 5001" });
  });

  it("plans the tenant's VXLAN tunnels to the hosts that carry its VNI when the first instance lands", () => {
    const hosts = [tagged("kvm1", [vm({ name: "big", memoryMiB: 50000 })]), withoutVni(hypervisor("kvm2")), tagged("kvm3", [], { connection: { ...hypervisor("x").connection, state: "unreachable" } })];
    const p = place(hosts);
    expect(p.chosen?.host).toBe("kvm2");
    expect(p.chosen?.wiring).toEqual([{ kind: "vxlan", bridge: "br-ovs", vni: 5001, vlan: 10, peers: [{ host: "kvm1", address: "10.10.0.1" }] }]);
    expect(check(p, "kvm2", "vni")).toMatchObject({ result: "pass", reason: "VNI 5001 will be tunnelled from br-ovs to kvm1" });
    expect(p.reason).toMatch(/; VNI 5001 will be added there$/);
    const first = place([withoutVni(hypervisor("kvm2"))]);
    expect(check(first, "kvm2", "vni")?.reason).toBe("VNI 5001 will be tunnelled from br-ovs to no other host yet (the first of this network)");
  });

  it("tags the port itself on a Linux bridge, and refuses a picked bridge when the VNI is on another one", () => {
    const onBr0 = place([withoutVni(hypervisor("kvm2"))], {}, { network: { bridge: "br0", vlan: 10, vni: 5001 } });
    expect(onBr0.chosen?.bridge).toEqual({ name: "br0", type: "linux" });
    expect(onBr0.chosen?.wiring.map((w) => w.kind)).toEqual(["vxlan", "port-vlan"]);
    const split = place([hypervisor("kvm2")], {}, { network: { bridge: "br0", vlan: 10, vni: 5001 } });
    expect(check(split, "kvm2", "vni")).toMatchObject({ result: "fail", reason: "VNI 5001 is on br-ovs of kvm2, not on br0" });
    const missing = place([hypervisor("kvm2")], {}, { network: { bridge: "br-x", vlan: 10, vni: 5001 } });
    expect(check(missing, "kvm2", "bridge")).toMatchObject({ result: "fail", reason: "bridge br-x does not exist on kvm2" });
  });

  it("says when a bridge's trunk does not carry the VLAN (it then travels over VXLAN only)", () => {
    const h = tagged("kvm2");
    h.inventory.net!.bridges[0]!.ports[0]!.trunks = [20, 30];
    expect(check(place([h]), "kvm2", "bridge")).toMatchObject({ result: "pass", reason: "br-ovs (ovs); VLAN 10 travels over VXLAN only" });
    expect(check(place([tagged("kvm2")]), "kvm2", "bridge")?.reason).toBe("br-ovs VLAN 10 present (ovs)");
  });

  it("warns on a small uplink MTU for VXLAN, and still places there", () => {
    const h = tagged("kvm2");
    h.inventory.net!.interfaces[0]!.mtu = 1500;
    const p = place([h]);
    expect(p.chosen?.verdict).toBe("warn");
    expect(check(p, "kvm2", "vni")?.reason).toBe("VNI 5001 tunnelled on kvm2, but uplink MTU 1500 < 1550 needed for VXLAN");
    expect(p.reason).toMatch(/^passes with warnings/);
  });

  it("checks room on the image's datastore: the image must fit, the full disk may not", () => {
    const GiB = 1024 ** 3;
    const full = place([tagged("kvm2")], { datastores: [datastore({ freeBytes: 1 * GiB })] });
    expect(check(full, "kvm2", "datastore-space")).toMatchObject({ result: "fail", reason: "/instance has 1 GiB free; the image alone needs 2 GiB" });
    const tight = place([tagged("kvm2")], { datastores: [datastore({ freeBytes: 10 * GiB })] });
    expect(check(tight, "kvm2", "datastore-space")).toMatchObject({ result: "warn", reason: "/instance has 10 GiB free, less than the 20 GiB disk could grow to" });
    expect(check(place([tagged("kvm2")], { datastores: [] }), "kvm2", "datastore-space")?.result).toBe("warn");
  });
});
