import { afterEach, describe, expect, it } from "vitest";
import type { ScaleProgress } from "@nimbus/domain";
import { simDriversFor } from "../src/drivers.js";
import { LabFaults } from "../src/faults.js";
import type { World } from "../src/world/world.js";
import { jobContext, testWorld, waitFor } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());

const sim = () => world.swarmSim!;
const tasksOn = (node: string, service?: string) =>
  world.swarm!.tasks.filter((t) => t.node === node && t.desiredState === "running" && (!service || t.service === service));
const live = (service: string) => sim().liveTasks(service).length;
const scale = (service: string, replicas: number, ctx = jobContext<ScaleProgress>()) => ({
  ctx,
  done: sim().scale({ jobId: `scale-${service}-${replicas}`, service, replicas }, ctx),
});

describe("swarm scale", () => {
  it("converges one task at a time and reports each step", async () => {
    world = testWorld();
    const { ctx, done } = scale("web", 6);
    await done;
    expect(live("web")).toBe(6);
    expect(ctx.reports.map((r) => r.running)).toEqual([3, 4, 5, 6]);
    expect(ctx.reports.every((r) => r.desired === 6 && r.service === "web")).toBe(true);
    // Spread: each of the three nodes runs two of them.
    expect(["manager", "worker1", "worker2"].map((n) => tasksOn(n, "web").length)).toEqual([2, 2, 2]);
  });

  it("scales down one by one, highest slots first", async () => {
    world = testWorld();
    const { ctx, done } = scale("web", 1);
    await done;
    expect(ctx.reports.map((r) => r.running)).toEqual([3, 2, 1]);
    expect(sim().activeTasks("web").map((t) => t.slot)).toEqual([1]);
  });

  it("takes half a second or more per task at speed 1", async () => {
    world = testWorld();
    const start = world.clock.now();
    await scale("api", 5).done;
    expect((world.clock.now() - start) / 3).toBeGreaterThanOrEqual(500);
  });

  it("refuses a global service and an unknown one", async () => {
    world = testWorld();
    expect(() => scale("monitoring", 2)).toThrow("monitoring is a global service");
    expect(() => scale("nope", 2)).toThrow("service nope not found");
  });

  it("cancel keeps what runs and sets the desired count to it", async () => {
    world = testWorld();
    const { ctx, done } = scale("web", 9);
    await ctx.reached((r) => r.running === 4);
    ctx.cancel();
    await expect(done).rejects.toThrow(/scaling web cancelled at \d replicas/);
    const svc = world.swarm!.services.get("web")!;
    await waitFor(() => sim().activeTasks("web").length === svc.desired && live("web") === svc.desired, "settled");
    expect(svc.desired).toBeGreaterThanOrEqual(4);
    expect(svc.desired).toBeLessThan(9);
  });

  it("is refused by a worker's driver, as docker refuses it on workers", async () => {
    world = testWorld();
    const worker = simDriversFor(world, "worker1").swarm!;
    await expect(worker.scale({ jobId: "j", service: "web", replicas: 4 }, jobContext())).rejects.toThrow(/not a swarm manager/);
  });
});

describe("swarm node failures", () => {
  it("node down: marked down after the heartbeat timeout, its tasks rescheduled elsewhere after a delay", async () => {
    world = testWorld();
    const faults = new LabFaults(world);
    const before = tasksOn("worker2").map((t) => t.id);
    expect(before.length).toBeGreaterThan(0);
    faults.swarmNodeDown("worker2");
    await waitFor(() => world.swarm!.nodes.get("worker2")!.status === "down", "worker2 down");
    await waitFor(() => tasksOn("worker2").length === 0, "tasks moved off worker2");
    await waitFor(() => live("web") === 3 && live("api") === 2 && live("queue") === 1, "replicas restored");
    const orphaned = world.swarm!.tasks.filter((t) => before.includes(t.id));
    expect(orphaned.every((t) => t.state === "orphaned" && t.desiredState === "shutdown")).toBe(true);
    // The global service cannot run on a down node: 2 of 2 eligible.
    expect((await simDriversFor(world, "manager").swarm!.snapshot()).services.find((s) => s.name === "monitoring")).toMatchObject({ replicasDesired: 2, replicasRunning: 2 });

    faults.swarmNodeUp("worker2");
    await waitFor(() => world.swarm!.nodes.get("worker2")!.status === "ready", "worker2 ready");
    await waitFor(() => tasksOn("worker2", "monitoring").length === 1, "global task back on worker2");
  });

  it("a downed engine reports no cluster on its own section", async () => {
    world = testWorld();
    new LabFaults(world).swarmNodeDown("worker1");
    expect(await simDriversFor(world, "worker1").swarm!.snapshot()).toMatchObject({ clusterId: null, nodes: [] });
  });

  it("a powered-off swarm VM counts as a node down too", async () => {
    world = testWorld();
    new LabFaults(world).stopHost("worker1");
    await waitFor(() => tasksOn("worker1").length === 0, "tasks moved off worker1");
    await waitFor(() => live("web") === 3, "web restored");
  });

  it("drain moves tasks off one by one; active brings the node back for new tasks", async () => {
    world = testWorld();
    await sim().setAvailability("worker1", "drain");
    await waitFor(() => tasksOn("worker1").length === 0, "worker1 drained");
    await waitFor(() => live("web") === 3 && live("api") === 2 && live("queue") === 1, "replicas elsewhere");
    sim().setAvailability("worker1", "active");
    await scale("web", 4).done;
    expect(tasksOn("worker1", "web")).toHaveLength(1);
  });

  it("unknown node is not found; the manager down refuses changes", async () => {
    world = testWorld();
    expect(() => sim().setAvailability("worker9", "drain")).toThrow("swarm node worker9 not found");
    new LabFaults(world).swarmNodeDown("manager");
    expect(() => sim().setAvailability("worker1", "drain")).toThrow(/swarm manager manager is down/);
  });

  it("join tokens have docker's shape and share the cluster part", async () => {
    world = testWorld();
    const { worker, manager } = await simDriversFor(world, "manager").swarm!.joinTokens();
    expect(worker).toMatch(/^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
    expect(manager).toMatch(/^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
    expect(worker.slice(0, 60)).toBe(manager.slice(0, 60));
    expect(worker).not.toBe(manager);
  });
});

describe("task health checks", () => {
  it("fail after `fall` probes, are replaced, and the replacement runs after `rise` passes once healthy", async () => {
    world = testWorld();
    const faults = new LabFaults(world);
    faults.failServiceHealth("api");
    await waitFor(() => live("api") === 0, "api tasks unhealthy");
    const failed = world.swarm!.tasks.filter((t) => t.service === "api" && t.state === "failed");
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed[0]!.error).toMatch(/unhealthy container/);
    // Replacements start but never pass while the fault lasts.
    await waitFor(() => sim().activeTasks("api").some((t) => t.state === "starting"), "a replacement starting");
    faults.restoreServiceHealth("api");
    await waitFor(() => live("api") === 2, "api healthy again");
  });

  it("one failing probe does not flip a task (hysteresis)", async () => {
    world = testWorld();
    const svc = world.swarm!.services.get("queue")!;
    const task = sim().activeTasks("queue")[0]!;
    svc.healthFault = true;
    sim().tick();
    svc.healthFault = false;
    sim().tick();
    expect(task.state).toBe("running");
  });
});
