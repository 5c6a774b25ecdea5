import { afterEach, describe, expect, it } from "vitest";
import {
  HostInventory,
  MAX_MESSAGE_BYTES,
  MAX_SECTION_BYTES,
  NetSection,
  NodeFacts,
  StorageSection,
  SwarmSection,
  VirtSection,
  preflight,
  type HostRecord,
} from "@nimbus/domain";
import { simDriversFor } from "../src/drivers.js";
import { generateScenario } from "../src/scenario/generate.js";
import { World } from "../src/world/world.js";
import { testWorld } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());

async function inventoryOf(host: string) {
  const d = simDriversFor(world, host);
  return {
    node: await d.node.snapshot(),
    virt: d.virt ? await d.virt.snapshot() : null,
    net: d.net ? await d.net.snapshot() : null,
    swarm: d.swarm ? await d.swarm.snapshot() : null,
    storage: d.storage ? await d.storage.snapshot() : null,
  };
}

function record(name: string, inventory: HostRecord["inventory"]): HostRecord {
  const at = new Date().toISOString();
  return {
    name,
    address: "127.0.0.1",
    port: 22,
    maintenance: false,
    connection: { state: "online", since: at, lastSeen: at, message: null, agentVersion: "lab", capabilities: ["virt", "net", "storage"], pinnedKey: null, offeredKey: null, nextRetryAt: null },
    inventory,
  };
}

describe("sections built from the world", () => {
  it("validate against the domain schemas on every host, with the capabilities of its kind", async () => {
    world = testWorld();
    for (const host of world.hostNames()) {
      const inv = await inventoryOf(host);
      expect(NodeFacts.safeParse(inv.node).success, `${host} node`).toBe(true);
      expect(NetSection.safeParse(inv.net).success, `${host} net`).toBe(true);
      const kind = world.host(host).kind;
      expect(inv.virt !== null, `${host} virt`).toBe(kind === "hypervisor");
      expect(inv.swarm !== null, `${host} swarm`).toBe(kind === "swarm-vm");
      expect(inv.storage !== null, `${host} storage`).toBe(kind !== "swarm-vm");
      if (inv.virt) expect(VirtSection.safeParse(inv.virt).success, `${host} virt`).toBe(true);
      if (inv.swarm) expect(SwarmSection.safeParse(inv.swarm).success, `${host} swarm`).toBe(true);
      if (inv.storage) expect(StorageSection.safeParse(inv.storage).success, `${host} storage`).toBe(true);
    }
  });

  it("give each hypervisor br0 on eth0, an OVS trunk of VLANs 10,20,30 and a VXLAN port per VNI to the peer", async () => {
    world = testWorld();
    const { net } = await inventoryOf("kvm1");
    const br0 = net!.bridges.find((b) => b.name === "br0")!;
    expect(br0.type).toBe("linux");
    expect(br0.ports.find((p) => p.name === "eth0")?.mode).toBe("uplink");
    expect(net!.interfaces.find((i) => i.name === "eth0")).toMatchObject({ kind: "physical", mtu: 1600, master: "br0" });
    const ovs = net!.bridges.find((b) => b.name === "br-ovs")!;
    expect(ovs.ports.find((p) => p.mode === "uplink")?.trunks).toEqual([10, 20, 30]);
    const vx = ovs.ports.filter((p) => p.mode === "vxlan");
    expect(vx.map((p) => [p.vxlan?.vni, p.vlan, p.vxlan?.remote, p.vxlan?.dstPort])).toEqual([
      [5001, 10, "10.10.0.12", 4789],
      [5002, 20, "10.10.0.12", 4789],
      [5003, 30, "10.10.0.12", 4789],
    ]);
    const web1 = ovs.ports.find((p) => p.attached?.domain === "acme-web1");
    expect(web1).toMatchObject({ mode: "vm", vlan: 10 });
    expect(br0.ports.find((p) => p.attached?.domain === "manager")).toMatchObject({ mode: "vm", vlan: null });
  });

  it("describe VMs with tenant, role, disk on /instance and NICs", async () => {
    world = testWorld();
    const { virt } = await inventoryOf("kvm1");
    const web1 = virt!.domains.find((d) => d.name === "acme-web1")!;
    expect(web1).toMatchObject({ state: "running", tenant: "acme", role: null });
    expect(web1.disks).toEqual([{ target: "vda", path: "/instance/acme-web1.qcow2", pool: "instance", capacityBytes: 20 * 1024 ** 3 }]);
    expect(web1.nics[0]).toMatchObject({ bridge: "br-ovs", bridgeType: "ovs", vlan: 10, ipAddresses: ["192.168.10.11"] });
    expect(web1.nics[0]!.device).toMatch(/^vnet\d+$/);
    const manager = virt!.domains.find((d) => d.name === "manager")!;
    expect(manager).toMatchObject({ tenant: null, role: "swarm-manager" });
    expect(manager.nics[0]).toMatchObject({ bridge: "br0", bridgeType: "linux", vlan: null });
    const legacy = virt!.domains.find((d) => d.name === "initech-legacy")!;
    expect(legacy).toMatchObject({ state: "shutoff" });
    expect(legacy.nics[0]!.device).toBeNull();
  });

  it("let the manager list the whole swarm while workers report only themselves", async () => {
    world = testWorld();
    const manager = (await inventoryOf("manager")).swarm!;
    expect(manager.nodes.map((n) => [n.hostname, n.role, n.leader])).toEqual([
      ["manager", "manager", true],
      ["worker1", "worker", false],
      ["worker2", "worker", false],
    ]);
    const services = Object.fromEntries(manager.services.map((s) => [s.name, s]));
    expect(services.web).toMatchObject({ mode: "replicated", replicasDesired: 3, replicasRunning: 3, tenant: "acme" });
    expect(services.web!.ports).toEqual([{ published: 8080, target: 80, protocol: "tcp", mode: "ingress" }]);
    expect(services.api).toMatchObject({ replicasDesired: 2, tenant: "globex" });
    expect(services.queue).toMatchObject({ replicasDesired: 1, tenant: "initech" });
    expect(services.monitoring).toMatchObject({ mode: "global", replicasDesired: 3, replicasRunning: 3, tenant: null });
    const worker = (await inventoryOf("worker1")).swarm!;
    expect(worker).toMatchObject({ role: "worker", clusterId: manager.clusterId, nodes: [], services: [], tasks: [] });
  });

  it("show the VIP on nfs1, mounts on hypervisors, /instance ~55% and /instance2 ~11% full", async () => {
    world = testWorld();
    const nfs1 = (await inventoryOf("nfs1")).storage!.nfs!;
    expect(nfs1).toMatchObject({ serverRunning: true, keepalivedState: "master", vip: { address: "10.10.0.100", heldHere: true } });
    expect(nfs1.datastores.map((d) => [d.path, Math.round((100 * d.usedBytes) / d.totalBytes)])).toEqual([["/instance", 55], ["/instance2", 11]]);
    expect((await inventoryOf("nfs2")).storage!.nfs).toMatchObject({ keepalivedState: "backup", vip: { heldHere: false } });
    expect((await inventoryOf("kvm2")).storage!.mounts).toEqual([
      { source: "nfs-vip:/instance", target: "/instance", fstype: "nfs4" },
      { source: "nfs-vip:/instance2", target: "/instance2", fstype: "nfs4" },
    ]);
  });

  it("pass the domain's migration preflight for a tenant VM between the two hypervisors", async () => {
    world = testWorld();
    const src = record("kvm1", await inventoryOf("kvm1"));
    const dst = record("kvm2", await inventoryOf("kvm2"));
    const domain = src.inventory.virt!.domains.find((d) => d.name === "acme-web1")!;
    const checks = preflight({ domain, source: src, destination: dst, tenantVni: 5001, busyInstances: new Set() });
    expect(checks.filter((c) => c.result !== "pass")).toEqual([]);
  });

  it("fit the protocol's bounds at fleet size (2,000 hypervisors with 40 VMs each)", async () => {
    world = new World(generateScenario({ hosts: 2000, vmsPerHost: 40 }), { jitter: false });
    // hv0001 carries the swarm VMs; the manager's section lists the whole cluster's tasks.
    for (const host of ["hv0001", "hv2000", ...world.hostNames().filter((h) => !h.startsWith("hv"))]) {
      const inv = await inventoryOf(host);
      expect(HostInventory.safeParse(inv).error, host).toBeUndefined();
      expect(JSON.stringify(inv).length, host).toBeLessThan(MAX_MESSAGE_BYTES);
      for (const [name, section] of Object.entries(inv)) expect(JSON.stringify(section).length, `${host} ${name}`).toBeLessThan(MAX_SECTION_BYTES);
    }
  }, 30_000);

  it("validate on a generated scenario too", async () => {
    world = new World(generateScenario({ hosts: 4, vmsPerHost: 3 }), { jitter: false });
    const inv = await inventoryOf("hv0003");
    expect(VirtSection.parse(inv.virt).domains).toHaveLength(3);
    // Flow-based: one VXLAN port per tenant VNI, no fixed remote.
    const vxlan = NetSection.parse(inv.net).bridges[1]!.ports.filter((p) => p.mode === "vxlan");
    expect(vxlan.map((p) => [p.name, p.vxlan?.remote])).toEqual([["vx5001", null], ["vx5002", null], ["vx5003", null]]);
  });
});
