import { afterEach, describe, expect, it } from "vitest";
import type { CreateInstanceParams, CreateProgress } from "@nimbus/domain";
import { managerFirstBoot } from "@nimbus/domain";
import { simDriversFor } from "../src/drivers.js";
import { LabFaults } from "../src/faults.js";
import { createInstance } from "../src/world/provision.js";
import { swarmSection } from "../src/world/sections/swarm.js";
import type { World } from "../src/world/world.js";
import { jobContext, testWorld, waitFor } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());

const managerParams = (name: string): CreateInstanceParams => ({
  jobId: `create-${name}`,
  name,
  tenant: null,
  image: { name: "debian-12", os: "debian12", repositoryIndex: "/instance/.nimbus-images/index" },
  volumePath: `/instance/${name}.qcow2`,
  vcpus: 1,
  memoryMiB: 512,
  diskGiB: 4,
  nic: { bridge: "br0", bridgeType: "linux", vlan: 1 },
  wiring: [],
  sshKeys: [],
  firstBoot: managerFirstBoot({ vip: "10.10.0.100", exportPath: "/instance" }),
});

describe("lab: a swarm torn down and created again", () => {
  it("swarm-teardown: the swarm's VMs go, their hosts stop answering, every engine reports no swarm", async () => {
    world = testWorld();
    new LabFaults(world).swarmTeardown();
    expect(world.swarm).toBeNull();
    for (const n of ["manager", "worker1", "worker2"]) {
      expect(world.vms.has(n)).toBe(false);
      expect(world.isReachable(n)).toBe(false);
    }
    expect(swarmSection(world, "manager")).toMatchObject({ role: "worker", clusterId: null, nodes: [], services: [] });
    await expect(simDriversFor(world, "manager").swarm!.joinTokens!()).rejects.toThrow(/not a swarm manager/);
    expect(() => new LabFaults(world).swarmTeardown()).toThrow(/no swarm|torn down/);
  });

  it("a VM whose first boot runs docker swarm init becomes the manager of a new, empty swarm; its host answers again", async () => {
    world = testWorld();
    const old = world.swarm!.clusterId;
    new LabFaults(world).swarmTeardown();
    await createInstance(world, "kvm1", managerParams("manager"), jobContext<CreateProgress>());
    expect(world.isReachable("manager")).toBe(true);
    const section = swarmSection(world, "manager");
    expect(section.clusterId).not.toBeNull();
    expect(section.clusterId).not.toBe(old);
    expect(section).toMatchObject({ role: "manager", services: [], nodes: [expect.objectContaining({ hostname: "manager", role: "manager", status: "ready", leader: true, address: world.vms.get("manager")!.spec.nics[0]!.ip })] });
    const tokens = await simDriversFor(world, "manager").swarm!.joinTokens!();
    expect(tokens.worker).toMatch(/^SWMTKN-1-/);
    // A worker joins it with that token, as with any swarm.
    await waitFor(() => world.swarmSim!.managerAlive(), "the new manager alive");
  });

  it("swarm-restore puts the original swarm and its VMs back, dropping what was built meanwhile under their names", async () => {
    world = testWorld();
    const old = world.swarm!;
    const faults = new LabFaults(world);
    faults.swarmTeardown();
    await createInstance(world, "kvm2", managerParams("manager"), jobContext<CreateProgress>());
    expect(world.swarm).not.toBe(old);
    faults.swarmRestore();
    expect(world.swarm).toBe(old);
    expect(world.vms.get("manager")!.host).toBe("kvm1");
    expect(world.hypervisor("kvm2").domains.has("manager")).toBe(false);
    for (const n of ["manager", "worker1", "worker2"]) expect(world.isReachable(n)).toBe(true);
    expect(swarmSection(world, "manager").services.map((s) => s.name)).toEqual(expect.arrayContaining(["web", "api", "queue"]));
    await waitFor(() => swarmSection(world, "manager").services.find((s) => s.name === "web")!.replicasRunning === 3, "web running again");
    expect(faults.active().some((f) => f.fault === "swarm-teardown")).toBe(false);
  });
});
