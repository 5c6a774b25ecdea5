import { afterEach, describe, expect, it } from "vitest";
import { powerDomain } from "../src/world/power.js";
import { LabFaults } from "../src/faults.js";
import { nodeFacts } from "../src/world/sections/node.js";
import type { World } from "../src/world/world.js";
import { placesOf, testWorld, waitFor } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());
const stateOf = (vm: string) => placesOf(world, vm)[0]?.state;

describe("virt.power", () => {
  it("start: the domain runs when virsh returns, with its NICs plugged", async () => {
    world = testWorld();
    await powerDomain(world, "kvm1", "initech-legacy", "start");
    expect(stateOf("initech-legacy")).toBe("running");
    expect(world.vms.get("initech-legacy")!.devices[0]).toMatch(/^vnet\d+$/);
  });

  it("shutdown: returns at once, the guest powers off a little later", async () => {
    world = testWorld();
    await powerDomain(world, "kvm1", "acme-web1", "shutdown");
    expect(stateOf("acme-web1")).toBe("running");
    await waitFor(() => stateOf("acme-web1") === "shutoff", "guest off");
    expect(world.vms.get("acme-web1")!.devices).toEqual([null]);
  });

  it("destroy: off at once", async () => {
    world = testWorld();
    await powerDomain(world, "kvm1", "acme-web1", "destroy");
    expect(stateOf("acme-web1")).toBe("shutoff");
  });

  it("reboot: a swarm VM's endpoint goes away and comes back with a new boot id", async () => {
    world = testWorld();
    const boot = world.bootId("manager");
    await powerDomain(world, "kvm1", "manager", "reboot");
    expect(world.isReachable("manager")).toBe(false);
    await waitFor(() => world.isReachable("manager"), "manager back");
    expect(world.bootId("manager")).not.toBe(boot);
  });

  it("refuses what virsh refuses, naming domain and host", async () => {
    world = testWorld();
    await expect(powerDomain(world, "kvm1", "acme-web1", "start")).rejects.toThrow("cannot start acme-web1 on kvm1: domain is already running");
    await expect(powerDomain(world, "kvm1", "initech-legacy", "shutdown")).rejects.toThrow(/domain is not running/);
    await expect(powerDomain(world, "kvm1", "acme-web2", "start")).rejects.toThrow("domain acme-web2 on kvm1 not found");
    new LabFaults(world).stopLibvirtd("kvm1");
    await expect(powerDomain(world, "kvm1", "acme-web1", "destroy")).rejects.toThrow(/libvirtd is not running/);
  });

  it("memory used on the hypervisor follows running VMs", async () => {
    world = testWorld();
    const before = nodeFacts(world, "kvm1").memoryUsedMiB;
    await powerDomain(world, "kvm1", "initech-legacy", "start");
    expect(nodeFacts(world, "kvm1").memoryUsedMiB).toBe(before + 1024);
  });
});
