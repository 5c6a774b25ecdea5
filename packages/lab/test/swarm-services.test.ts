import { afterEach, describe, expect, it } from "vitest";
import { LOG_LIMITS, swarmPortFindingsOf, type HostRecord, type LogLine, type ServiceRollbackProgress, type ServiceUpdateProgress, type SwarmSection } from "@nimbus/domain";
import { simDriversFor } from "../src/drivers.js";
import { LabFaults } from "../src/faults.js";
import type { World } from "../src/world/world.js";
import { jobContext, testWorld, waitFor } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());

const manager = () => simDriversFor(world, "manager").swarm!;
const section = () => manager().snapshot() as Promise<SwarmSection>;
const running = (service: string) => world.swarm!.tasks.filter((t) => t.service === service && t.desiredState === "running" && t.state === "running");

describe("service update in the lab", () => {
  it("replaces every task one by one, start-first, and completes", async () => {
    world = testWorld();
    const ctx = jobContext<ServiceUpdateProgress>();
    const last = await manager().serviceUpdate!({ jobId: "u1", service: "web", image: "nginx:1.27-alpine" }, ctx);
    expect(last).toMatchObject({ kind: "service-update", state: "completed", updated: 3, total: 3, image: "nginx:1.27-alpine" });
    expect(running("web").map((t) => t.image)).toEqual(["nginx:1.27-alpine", "nginx:1.27-alpine", "nginx:1.27-alpine"]);
    // The count of updated tasks only grows, from 0 to 3.
    const counts = ctx.reports.map((r) => r.updated);
    expect(counts[0]).toBe(0);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    const s = await section();
    const web = s.services.find((x) => x.name === "web")!;
    expect(web.image).toBe("nginx:1.27-alpine");
    expect(web.update).toMatchObject({ state: "completed", message: "update completed" });
    // The old tasks are in the history with the old image and when they stopped.
    const old = s.tasks.filter((t) => t.serviceName === "web" && t.desiredState === "shutdown");
    expect(old.map((t) => t.image)).toContain("nginx:1.25-alpine");
    expect(old.every((t) => typeof t.since === "string")).toBe(true);
  });

  it("a failing image pauses the update with the task's error; the old tasks keep running; rollback restores", async () => {
    world = testWorld();
    new LabFaults(world).failServiceImage("nginx:broken");
    const ctx = jobContext<ServiceUpdateProgress>();
    await expect(manager().serviceUpdate!({ jobId: "u2", service: "web", image: "nginx:broken" }, ctx)).rejects.toThrow(
      /update of web to nginx:broken paused: update paused due to failure or early termination of task \w+; No such image: nginx:broken/,
    );
    expect(ctx.reports.at(-1)).toMatchObject({ state: "paused", updated: 0, taskError: "No such image: nginx:broken" });
    expect(running("web")).toHaveLength(3);
    const s = await section();
    expect(s.tasks.find((t) => t.serviceName === "web" && t.state === "rejected")).toMatchObject({ error: "No such image: nginx:broken", image: "nginx:broken" });

    const rb = jobContext<ServiceRollbackProgress>();
    const done = await manager().serviceRollback!({ jobId: "r1", service: "web" }, rb);
    expect(done).toMatchObject({ kind: "service-rollback", state: "rollback_completed", image: "nginx:1.25-alpine", updated: 3 });
    expect((await section()).services.find((x) => x.name === "web")!.image).toBe("nginx:1.25-alpine");
  });

  it("cancel of an update is docker's rollback: the old image back on every task, the job ends saying so", async () => {
    world = testWorld();
    const ctx = jobContext<ServiceUpdateProgress>();
    const job = manager().serviceUpdate!({ jobId: "u3", service: "web", image: "nginx:1.27-alpine" }, ctx);
    // The hard moment: a new task started (start-first) while the one it replaces still runs.
    const meant = () => world.swarm!.tasks.filter((t) => t.service === "web" && t.desiredState === "running");
    await waitFor(() => meant().length === 4 && meant().some((t) => t.image === "nginx:1.27-alpine"), "a new task beside the one it replaces");
    ctx.cancel();
    await expect(job).rejects.toThrow(/update of web to nginx:1\.27-alpine cancelled: docker rolled it back to nginx:1\.25-alpine \(3\/3 tasks on nginx:1\.25-alpine\)/);
    expect(running("web").map((t) => t.image)).toEqual(["nginx:1.25-alpine", "nginx:1.25-alpine", "nginx:1.25-alpine"]);
    const web = (await section()).services.find((x) => x.name === "web")!;
    expect(web).toMatchObject({ image: "nginx:1.25-alpine", update: { state: "rollback_completed" } });
    // While it rolled back, the job reported the rollback moving to the old image.
    expect(ctx.reports.some((r) => r.state === "rollback_started" && r.image === "nginx:1.25-alpine")).toBe(true);
  });

  it("a held update (test hook) stays in progress after its first new task until cancelled; its rollback is not held; release lets one go on", async () => {
    world = testWorld();
    const faults = new LabFaults(world);
    faults.holdServiceUpdate("nginx:1.27-alpine");
    const meant = () => world.swarm!.tasks.filter((t) => t.service === "web" && t.desiredState === "running");
    const ctx = jobContext<ServiceUpdateProgress>();
    const job = manager().serviceUpdate!({ jobId: "h1", service: "web", image: "nginx:1.27-alpine" }, ctx);
    await waitFor(() => meant().some((t) => t.image === "nginx:1.27-alpine" && t.state === "running"), "the first new task running");
    // Many ticks later (each 250 lab ms; the test world runs fast) it still holds: no old task stopped.
    const ticks = world.clock.now();
    await waitFor(() => world.clock.now() - ticks > 20 * 250, "twenty ticks");
    expect(meant()).toHaveLength(4);
    expect(world.swarm!.services.get("web")!.update?.state).toBe("updating");
    ctx.cancel();
    await expect(job).rejects.toThrow(/cancelled: docker rolled it back to nginx:1\.25-alpine/);
    expect(running("web").map((t) => t.image)).toEqual(["nginx:1.25-alpine", "nginx:1.25-alpine", "nginx:1.25-alpine"]);

    // Released, a held update goes on to the end.
    const again = jobContext<ServiceUpdateProgress>();
    const second = manager().serviceUpdate!({ jobId: "h2", service: "web", image: "nginx:1.27-alpine" }, again);
    await waitFor(() => meant().some((t) => t.image === "nginx:1.27-alpine" && t.state === "running"), "the first new task running again");
    faults.releaseServiceUpdate("nginx:1.27-alpine");
    expect(await second).toMatchObject({ state: "completed", updated: 3, total: 3 });
    expect(() => faults.releaseServiceUpdate("nginx:1.27-alpine")).toThrow(/not held/);
  });

  it("cancel of a rollback only stops following: docker finishes it", async () => {
    world = testWorld();
    await manager().serviceUpdate!({ jobId: "u4", service: "web", image: "nginx:1.27-alpine" }, jobContext());
    const ctx = jobContext<ServiceRollbackProgress>();
    const job = manager().serviceRollback!({ jobId: "r4", service: "web" }, ctx);
    ctx.cancel();
    await expect(job).rejects.toThrow(/stopped following the rollback of web; docker finishes it/);
    await waitFor(() => world.swarm!.services.get("web")!.update?.state === "rollback_completed", "the rollback completed without the job");
    expect(running("web").every((t) => t.image === "nginx:1.25-alpine")).toBe(true);
  });

  it("refuses a rollback without a previous version, an update to the same image, and a worker", async () => {
    world = testWorld();
    await expect(manager().serviceRollback!({ jobId: "r", service: "api" }, jobContext())).rejects.toThrow(/does not have a previous spec/);
    await expect(manager().serviceUpdate!({ jobId: "u", service: "api", image: "globex/api:2.4.1" }, jobContext())).rejects.toThrow(/already runs/);
    await expect(manager().serviceUpdate!({ jobId: "u", service: "nope", image: "a:1" }, jobContext())).rejects.toThrow(/service nope not found/);
    await expect(simDriversFor(world, "worker1").swarm!.serviceUpdate!({ jobId: "u", service: "api", image: "a:1" }, jobContext())).rejects.toThrow(/not a swarm manager/);
  });
});

describe("service logs in the lab", () => {
  const collect = () => {
    const lines: LogLine[] = [];
    const ends: (string | null)[] = [];
    return { lines, ends, sink: { line: (l: LogLine) => lines.push(l), end: (e: string | null) => ends.push(e) } };
  };

  it("a tail without follow ends at once, with task and node on each line", () => {
    world = testWorld();
    const c = collect();
    manager().logs!({ streamId: "s", service: "web", tail: 4, follow: false }, c.sink);
    expect(c.lines).toHaveLength(4);
    expect(c.lines.every((l) => /^web\.\d$/.test(l.task!) && ["manager", "worker1", "worker2"].includes(l.node!))).toBe(true);
    expect(c.ends).toEqual([null]);
  });

  it("follows new lines, says when a task fails, and stops when asked", async () => {
    world = testWorld();
    const c = collect();
    const stop = manager().logs!({ streamId: "s", service: "web", tail: 1, follow: true }, c.sink);
    await waitFor(() => c.lines.some((l) => l.text.startsWith("GET /")), "a request line");
    new LabFaults(world).failServiceImage("nginx:bad");
    void manager().serviceUpdate!({ jobId: "u", service: "web", image: "nginx:bad" }, jobContext()).catch(() => {});
    await waitFor(() => c.lines.some((l) => l.text === "error: No such image: nginx:bad"), "the failed task's line");
    stop();
    const n = c.lines.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(c.lines.length).toBe(n);
  });

  it("an unknown service ends with docker's message; a stopped manager ends the stream", async () => {
    world = testWorld();
    const c = collect();
    manager().logs!({ streamId: "s", service: "nope", tail: 10, follow: true }, c.sink);
    expect(c.ends[0]).toMatch(/no such task or service: nope/);
    const d = collect();
    manager().logs!({ streamId: "t", service: "web", tail: 1, follow: true }, d.sink);
    new LabFaults(world).swarmNodeDown("manager");
    await waitFor(() => d.ends.length === 1, "the end");
    expect(d.ends[0]).toMatch(/swarm manager manager is down/);
  });

  it("never hands out more than the tail asked for", () => {
    world = testWorld();
    const c = collect();
    manager().logs!({ streamId: "s", service: "web", tail: LOG_LIMITS.maxTail, follow: false }, c.sink);
    expect(c.lines.length).toBeLessThanOrEqual(LOG_LIMITS.maxTail);
    expect(c.lines.length).toBeGreaterThan(0);
  });
});

describe("swarm ports and overlay networks in the lab", () => {
  const hosts = async (): Promise<HostRecord[]> =>
    Promise.all(
      ["manager", "worker1", "worker2"].map(async (name) => ({
        name,
        connection: { state: "online" },
        inventory: { swarm: await simDriversFor(world, name).swarm!.snapshot() },
      })),
    ) as unknown as Promise<HostRecord[]>;

  it("a blocked port is a finding naming both nodes, and it clears", async () => {
    world = testWorld();
    expect(swarmPortFindingsOf(await hosts())).toEqual([]);
    const faults = new LabFaults(world);
    faults.blockPort("worker2", "7946/tcp");
    const ids = swarmPortFindingsOf(await hosts()).map((f) => f.id);
    expect(ids).toContain("swarm:port:manager>worker2:7946/tcp");
    expect(ids).toContain("swarm:port:worker1>worker2:7946/tcp");
    faults.blockPort("manager", "4789/udp");
    expect(swarmPortFindingsOf(await hosts()).find((f) => f.id === "swarm:port:worker1>manager:4789/udp")!.message).toMatch(/manager has no socket listening on 4789\/udp/);
    faults.unblockPort("worker2", "7946/tcp");
    faults.unblockPort("manager", "4789/udp");
    expect(swarmPortFindingsOf(await hosts())).toEqual([]);
    expect(() => faults.blockPort("worker1", "7946")).toThrow(/PORT\/tcp/);
    expect(() => faults.unblockPort("worker1", "7946/udp")).toThrow(/not blocked/);
  });

  it("a worker's section carries its own checks; the manager lists overlays with subnets, services and nodes", async () => {
    world = testWorld();
    const worker = await simDriversFor(world, "worker1").swarm!.snapshot();
    expect(worker.ports!.reach.map((r) => r.port).sort()).toEqual([2377, 7946, 7946]);
    const s = await section();
    const ingress = s.networks!.find((n) => n.name === "ingress")!;
    expect(ingress).toMatchObject({ ingress: true, subnets: [{ subnet: "10.0.0.0/24", gateway: "10.0.0.1" }], services: ["web"] });
    expect(ingress.nodes).toEqual(["manager", "worker1", "worker2"]);
    const shop = s.networks!.find((n) => n.name === "acme-shop_default")!;
    expect(shop.services).toEqual(["web"]);
    expect(s.services.find((x) => x.name === "web")!.networks).toEqual([ingress.id, shop.id]);
  });
});
