import { afterEach, describe, expect, it } from "vitest";
import { LabFaults } from "../src/faults.js";
import { netSection } from "../src/world/sections/net.js";
import { storageSection } from "../src/world/sections/storage.js";
import { defaultScenario } from "../src/scenario/load.js";
import { TIMINGS } from "../src/world/timings.js";
import { World } from "../src/world/world.js";
import { placesOf, testWorld, waitFor } from "./helpers.js";

let world: World;
let faults: LabFaults;
afterEach(() => world?.stop());
const setup = () => {
  world = testWorld();
  faults = new LabFaults(world);
};
const ovs = (host: string) => netSection(world, host).bridges.find((b) => b.type === "ovs")!;
const vxlanVnis = (host: string) => ovs(host).ports.flatMap((p) => (p.vxlan ? [p.vxlan.vni] : []));
const trunk = (host: string) => ovs(host).ports.find((p) => p.mode === "uplink")!.trunks;
const mtuOf = (host: string, iface: string) => netSection(world, host).interfaces.find((i) => i.name === iface)!.mtu;

describe("stopHost / startHost", () => {
  it("a stopped hypervisor is down and its VMs run nowhere; started again, autostart VMs come back", async () => {
    setup();
    faults.stopHost("kvm2");
    expect(world.isReachable("kvm2")).toBe(false);
    for (const vm of ["acme-web2", "acme-db", "worker2"]) expect(placesOf(world, vm)).toEqual([{ host: "kvm2", state: "shutoff" }]);
    expect(world.isReachable("worker2")).toBe(false);
    expect(faults.active()).toEqual([expect.objectContaining({ fault: "stop-host", target: "kvm2" })]);

    const bootBefore = world.bootId("kvm2");
    faults.startHost("kvm2");
    expect(world.isReachable("kvm2")).toBe(true);
    expect(world.bootId("kvm2")).not.toBe(bootBefore);
    await waitFor(() => placesOf(world, "acme-db")[0]?.state === "running", "autostart");
    await waitFor(() => world.isReachable("worker2"), "worker2 guest booted");
    expect(faults.active()).toEqual([]);
  });

  it("stopping a swarm VM host powers its VM off; starting it boots it again", async () => {
    setup();
    faults.stopHost("worker1");
    expect(placesOf(world, "worker1")).toEqual([{ host: "kvm1", state: "shutoff" }]);
    faults.startHost("worker1");
    await waitFor(() => world.isReachable("worker1"), "worker1 up");
  });

  it("a swarm VM cannot start while its hypervisor is down", () => {
    setup();
    faults.stopHost("kvm2");
    expect(() => faults.startHost("worker2")).toThrow("cannot start worker2: its hypervisor kvm2 is down");
  });

  it("names the host when it does not exist", () => {
    setup();
    expect(() => faults.stopHost("kvm9")).toThrow(/kvm9 is not a host of this lab/);
  });
});

describe("powerVm", () => {
  it("stops and starts a VM on its host at once, with no agent job; refuses what cannot be", () => {
    setup();
    expect(placesOf(world, "acme-db")).toEqual([{ host: "kvm2", state: "running" }]);
    faults.powerVm("acme-db", "off");
    expect(placesOf(world, "acme-db")).toEqual([{ host: "kvm2", state: "shutoff" }]);
    expect(() => faults.powerVm("acme-db", "off")).toThrow(/acme-db is shutoff already/);
    faults.powerVm("acme-db", "on");
    expect(placesOf(world, "acme-db")).toEqual([{ host: "kvm2", state: "running" }]);
    expect(() => faults.powerVm("nope", "on")).toThrow(/no VM named "nope"/);
    faults.stopHost("kvm2");
    expect(() => faults.powerVm("acme-db", "on")).toThrow(/host kvm2 is powered off/);
    expect(faults.active()).toEqual([expect.objectContaining({ fault: "stop-host" })]);
  });
});

describe("cutLink / restoreLink", () => {
  it("makes a running host unreachable without stopping it, then reachable again", () => {
    setup();
    faults.cutLink("kvm1");
    expect(world.isReachable("kvm1")).toBe(false);
    expect(world.isPoweredOn("kvm1")).toBe(true);
    expect(placesOf(world, "acme-web1")).toEqual([{ host: "kvm1", state: "running" }]);
    faults.restoreLink("kvm1");
    expect(world.isReachable("kvm1")).toBe(true);
  });

  it("restores by itself after the given time", async () => {
    setup();
    faults.cutLink("kvm1", 1_000);
    await waitFor(() => world.isReachable("kvm1"), "link restored");
    expect(faults.active()).toEqual([]);
  });
});

describe("NFS primary failure", () => {
  it("moves the VIP to nfs2 after `fall` checks (~1 s), and back once nfs1 has risen again", () => {
    // Stepped by hand in a world too slow to tick by itself: the count of checks is the point.
    world = new World(defaultScenario(), { speed: 1e-6, jitter: false });
    faults = new LabFaults(world);
    faults.failNfsPrimary();
    expect(storageSection(world, "nfs1").nfs).toMatchObject({ serverRunning: false, vip: { heldHere: true } });
    world.nfsSim.tick();
    world.nfsSim.tick();
    expect(world.nfs.master).toBe("nfs1");
    world.nfsSim.tick();
    expect(world.nfs.master).toBe("nfs2");
    expect(3 * TIMINGS.vrrpIntervalMs).toBeGreaterThan(900);
    expect(3 * TIMINGS.vrrpIntervalMs).toBeLessThan(1_100);
    expect(storageSection(world, "nfs2").nfs).toMatchObject({ keepalivedState: "master", vip: { heldHere: true } });
    expect(storageSection(world, "nfs1").nfs).toMatchObject({ keepalivedState: "fault", vip: { heldHere: false } });
    expect(netSection(world, "nfs2").interfaces.find((i) => i.name === "eth0")!.addresses).toContain("10.10.0.100/32");

    faults.restoreNfsPrimary();
    world.nfsSim.tick();
    expect(world.nfs.master).toBe("nfs2");
    world.nfsSim.tick();
    expect(world.nfs.master).toBe("nfs1");
    expect(storageSection(world, "nfs2").nfs?.keepalivedState).toBe("backup");
  });

  it("also fails over when nfs1 loses power", async () => {
    setup();
    faults.stopHost("nfs1");
    await waitFor(() => world.nfs.master === "nfs2", "VIP on nfs2");
  });
});

describe("datastore, libvirtd, network faults", () => {
  it("fillDatastore sets usage on both servers' view; restoreDatastore puts it back", () => {
    setup();
    const before = world.nfs.datastores[0]!.usedBytes;
    faults.fillDatastore("/instance", 97);
    for (const s of ["nfs1", "nfs2"]) {
      const ds = storageSection(world, s).nfs!.datastores[0]!;
      expect(ds.usedBytes / ds.totalBytes).toBeCloseTo(0.97, 3);
    }
    faults.restoreDatastore("/instance");
    expect(world.nfs.datastores[0]!.usedBytes).toBe(before);
    expect(() => faults.fillDatastore("/nope", 50)).toThrow(/no datastore \/nope/);
  });

  it("stopLibvirtd / startLibvirtd toggle the daemon", () => {
    setup();
    faults.stopLibvirtd("kvm1");
    expect(world.hypervisor("kvm1").libvirtdUp).toBe(false);
    faults.startLibvirtd("kvm1");
    expect(world.hypervisor("kvm1").libvirtdUp).toBe(true);
    expect(() => faults.stopLibvirtd("nfs1")).toThrow(/nfs1 is not a hypervisor/);
  });

  it("breakTunnel removes one VNI's VXLAN port on one side only; repairTunnel restores it", () => {
    setup();
    faults.breakTunnel("kvm1", 5002);
    expect(vxlanVnis("kvm1")).toEqual([5001, 5003]);
    expect(vxlanVnis("kvm2")).toEqual([5001, 5002, 5003]);
    faults.repairTunnel("kvm1", 5002);
    expect(vxlanVnis("kvm1")).toEqual([5001, 5002, 5003]);
    expect(() => faults.breakTunnel("kvm1", 9999)).toThrow(/VNI 9999 belongs to no tenant/);
  });

  it("removeVlan drops a VLAN from the trunk; restoreVlan adds it back; the last one cannot go", () => {
    setup();
    faults.removeVlan("kvm2", 20);
    expect(trunk("kvm2")).toEqual([10, 30]);
    faults.restoreVlan("kvm2", 20);
    expect(trunk("kvm2")).toEqual([10, 20, 30]);
    faults.removeVlan("kvm2", 10);
    faults.removeVlan("kvm2", 20);
    expect(() => faults.removeVlan("kvm2", 30)).toThrow(/last one on kvm2's trunk/);
  });

  it("setMtu changes an interface's MTU; restoreMtu puts the original back", () => {
    setup();
    faults.setMtu("kvm2", "eth0", 1500);
    expect(mtuOf("kvm2", "eth0")).toBe(1500);
    expect(faults.active()).toEqual([expect.objectContaining({ fault: "set-mtu", target: "kvm2/eth0" })]);
    faults.restoreMtu("kvm2", "eth0");
    expect(mtuOf("kvm2", "eth0")).toBe(1600);
    expect(faults.active()).toEqual([]);
    expect(() => faults.setMtu("kvm2", "eth7", 1500)).toThrow(/kvm2 has no interface eth7/);
  });

  it("changeHostKey needs the SSH endpoints", async () => {
    setup();
    await expect(faults.changeHostKey("kvm1")).rejects.toThrow(/without SSH endpoints/);
  });
});

describe("change events", () => {
  it("reach only the watchers of the host and section that changed", () => {
    setup();
    const heard: string[] = [];
    world.watch("kvm1", "net", () => heard.push("kvm1 net"));
    world.watch("kvm2", "net", () => heard.push("kvm2 net"));
    world.watch("kvm2", "virt", () => heard.push("kvm2 virt"));
    faults.breakTunnel("kvm2", 5001);
    expect(heard).toEqual(["kvm2 net"]);
  });

  it("unsubscribe leaves no listener behind", () => {
    setup();
    const off = world.watch("kvm1", "virt", () => {});
    expect(world.events.listenerCount("kvm1")).toBe(1);
    off();
    expect(world.events.listenerCount("kvm1")).toBe(0);
  });
});

describe("datastore mount and I/O faults", () => {
  it("unmount-datastore removes a hypervisor's mount and mount-datastore puts it back", () => {
    setup();
    faults.unmountDatastore("kvm2", "/instance2");
    expect(storageSection(world, "kvm2").mounts.map((m) => m.target)).toEqual(["/instance"]);
    expect(faults.active()).toEqual([expect.objectContaining({ fault: "unmount-datastore", target: "kvm2/instance2" })]);
    expect(() => faults.unmountDatastore("kvm2", "/instance2")).toThrow("kvm2 does not mount /instance2 (mounts: /instance)");
    faults.mountDatastore("kvm2", "/instance2");
    expect(storageSection(world, "kvm2").mounts.map((m) => m.target)).toEqual(["/instance", "/instance2"]);
    expect(faults.active()).toEqual([]);
  });

  it("break-datastore marks the export failing until repaired", () => {
    setup();
    faults.breakDatastore("/instance2");
    expect(world.nfs.datastores.find((d) => d.path === "/instance2")!.broken).toBe(true);
    faults.repairDatastore("/instance2");
    expect(world.nfs.datastores.find((d) => d.path === "/instance2")!.broken).toBe(false);
    expect(() => faults.breakDatastore("/nope")).toThrow(/no datastore \/nope/);
  });
});
