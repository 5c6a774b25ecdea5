import { afterEach, describe, expect, it } from "vitest";
import type { CreateInstanceParams, CreateProgress } from "@nimbus/domain";
import { simDriversFor } from "../src/drivers.js";
import { LabFaults } from "../src/faults.js";
import { createInstance } from "../src/world/provision.js";
import { swarmSection } from "../src/world/sections/swarm.js";
import { joinState } from "../src/world/swarm-nodes.js";
import type { World } from "../src/world/world.js";
import { jobContext, testWorld, waitFor } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());

const joinParams = (name: string, token: string, manager = "10.10.1.10"): CreateInstanceParams => ({
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
  firstBoot: ["mkdir -p /mnt/nimbus && mount -t nfs4 10.10.0.100:/instance /mnt/nimbus", `docker swarm join --token ${token} ${manager}:2377`],
});
const build = (name: string, token: string, manager?: string) => createInstance(world, "kvm2", joinParams(name, token, manager), jobContext<CreateProgress>());
const reported = (name: string) => swarmSection(world, "manager").nodes.find((n) => n.hostname === name);
const nodesDriver = (host = "manager") => simDriversFor(world, host).swarm!.nodes!;

describe("lab: workers built by add-worker join the swarm at first boot", () => {
  it("joins with the current worker token, is reported down and then Ready, and takes tasks", async () => {
    world = testWorld();
    const progress = await build("worker3", world.swarm!.tokens.worker);
    // The create's log quotes virt-builder, token redacted (appendStepLog).
    expect(JSON.stringify(progress)).not.toContain(world.swarm!.tokens.worker);
    await waitFor(() => reported("worker3")?.status === "ready", "worker3 ready");
    expect(reported("worker3")).toMatchObject({ role: "worker", availability: "active", address: expect.stringMatching(/^10\.10\.1\.\d+$/) });
    await nodesDriver().update({ action: "label", node: "worker3", labels: { "nimbus.managed": "true" } });
    expect(joinState(world).labels.get("worker3")).toEqual({ "nimbus.managed": "true" });
  });

  it("a token rotated between the build and the boot is refused: the node never appears", async () => {
    world = testWorld();
    const old = world.swarm!.tokens.worker;
    await nodesDriver().rotateToken("worker");
    expect(world.swarm!.tokens.worker).not.toBe(old);
    await build("worker4", old);
    await waitFor(() => joinState(world).failures.has("worker4"), "the join tried");
    expect(joinState(world).failures.get("worker4")).toMatch(/valid join token is necessary/);
    expect(reported("worker4")).toBeUndefined();
  });

  it("a manager that is down during the join refuses the connection", async () => {
    world = testWorld();
    const faults = new LabFaults(world);
    const token = world.swarm!.tokens.worker;
    const built = build("worker5", token);
    faults.swarmNodeDown("manager");
    await built;
    await waitFor(() => joinState(world).failures.has("worker5"), "the join tried");
    expect(joinState(world).failures.get("worker5")).toMatch(/connection refused/);
    // A first-boot command runs once: the manager coming back does not bring the node.
    faults.swarmNodeUp("manager");
    await world.clock.sleep(2_000);
    expect(reported("worker5")).toBeUndefined();
  });

  it("stuck-swarm-join: the node joins but stays down", async () => {
    world = testWorld();
    new LabFaults(world).stuckSwarmJoin("worker6");
    await build("worker6", world.swarm!.tokens.worker);
    await waitFor(() => reported("worker6") !== undefined, "worker6 joined");
    await world.clock.sleep(3_000);
    expect(reported("worker6")!.status).toBe("down");
  });
});

describe("lab: node changes", () => {
  it("promote, demote with quorum, and rm of a worker (its tasks move)", async () => {
    world = testWorld();
    const nodes = nodesDriver();
    await expect(nodes.update({ action: "demote", node: "manager" })).rejects.toThrow(/last manager/);
    await expect(nodes.update({ action: "remove", node: "manager" })).rejects.toThrow(/must be demoted/);
    await nodes.update({ action: "promote", node: "worker1" });
    expect(reported("worker1")!.role).toBe("manager");
    // Two managers, both up: demoting one leaves a majority of one.
    await nodes.update({ action: "demote", node: "worker1" });
    expect(reported("worker1")!.role).toBe("worker");
    const before = world.swarm!.tasks.filter((t) => t.node === "worker2" && t.desiredState === "running").length;
    expect(before).toBeGreaterThan(0);
    await nodes.update({ action: "remove", node: "worker2" });
    expect(reported("worker2")).toBeUndefined();
    await waitFor(() => world.swarmSim!.liveTasks("web").length === world.swarm!.services.get("web")!.desired, "web back to its replicas");
    await expect(nodes.update({ action: "label", node: "nope", labels: {} })).rejects.toThrow(/not found/);
  });

  it("swarm leave: a worker leaves (the manager sees it down), a manager is refused", async () => {
    world = testWorld();
    await nodesDriver("worker1").leave();
    await waitFor(() => reported("worker1")?.status === "down", "worker1 down");
    await expect(nodesDriver("manager").leave()).rejects.toThrow(/participating as a manager/);
  });
});

describe("lab: nodes that are full", () => {
  it("leave new tasks pending with docker's reason until a worker with room joins, then place them there", async () => {
    world = testWorld();
    new LabFaults(world).fillSwarmNodes("all");
    world.swarm!.services.get("web")!.desired = 5;
    const pending = () => swarmSection(world, "manager").tasks.filter((t) => t.serviceName === "web" && t.state === "pending");
    await waitFor(() => pending().length === 2, "two pending tasks");
    expect(pending()[0]).toMatchObject({ node: null, desiredState: "running", error: "no suitable node (insufficient resources on 3 nodes)" });
    await build("worker7", world.swarm!.tokens.worker);
    await waitFor(() => pending().length === 0 && world.swarmSim!.liveTasks("web").length === 5, "web at 5");
    expect(world.swarm!.tasks.filter((t) => t.service === "web" && t.desiredState === "running" && t.node === "worker7")).toHaveLength(2);
  });
});
