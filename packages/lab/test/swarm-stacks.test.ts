import { afterEach, describe, expect, it } from "vitest";
import type { StackDeployProgress, StackRemoveProgress } from "@nimbus/domain";
import { simDriversFor } from "../src/drivers.js";
import { LabFaults } from "../src/faults.js";
import { labStacks } from "../src/world/swarm-stacks.js";
import { swarmSection } from "../src/world/sections/swarm.js";
import type { World } from "../src/world/world.js";
import { jobContext, testWorld } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());

const SHOP = `version: "3.8"
services:
  web:
    image: nginx:1.25
    ports: ["8088:80"]
    environment: { MODE: prod }
    deploy:
      replicas: 2
      labels: { nimbus.tenant: acme }
  cache:
    image: redis:7
    deploy:
      labels: { nimbus.tenant: acme }
`;

const deploy = (compose: string, services: string[], stack = "acme-shop", ctx = jobContext<StackDeployProgress>()) => ({
  ctx,
  done: labStacks(world).deploy({ jobId: `d-${stack}`, stack, compose, services, prune: true, timeoutMs: 60_000 }, ctx),
});

describe("lab stacks", () => {
  it("deploys a stack whose services converge, labelled with the tenant and the stack, and reports them in the section", async () => {
    world = testWorld();
    const { ctx, done } = deploy(SHOP, ["acme-shop_web", "acme-shop_cache"]);
    const final = await done;
    expect(final.steps.map((s) => [s.id, s.state])).toEqual([
      ["validate", "succeeded"],
      ["deploy", "succeeded"],
      ["converge", "succeeded"],
    ]);
    expect(final.steps[1]!.log).toEqual(expect.arrayContaining(["Creating service acme-shop_web", "Creating service acme-shop_cache"]));
    expect(final.services).toEqual([
      { name: "acme-shop_web", desired: 2, running: 2, error: null },
      { name: "acme-shop_cache", desired: 1, running: 1, error: null },
    ]);
    // Progress went through the starts, not straight to the end.
    expect(ctx.reports.some((r) => r.services.some((s) => s.running < s.desired))).toBe(true);
    const section = swarmSection(world, world.swarmSim!.manager.hostname);
    const web = section.services.find((s) => s.name === "acme-shop_web")!;
    expect(web).toMatchObject({ tenant: "acme", stack: "acme-shop", replicasDesired: 2, replicasRunning: 2, ports: [{ published: 8088, target: 80, protocol: "tcp", mode: "ingress" }] });
    expect(web.envDigest).toMatch(/^[0-9a-f]{16}$/);
    expect(section.images).toContain("nginx:1.25");
  });

  it("cancel stops following: the stack stays as far as it got, and the error names what converged and what had not", async () => {
    world = testWorld();
    const ctx = jobContext<StackDeployProgress>();
    const { done } = deploy(SHOP.replace("replicas: 2", "replicas: 3"), ["acme-shop_web", "acme-shop_cache"], "acme-shop", ctx);
    await ctx.reached((r) => r.services.some((s) => s.name === "acme-shop_cache" && s.running === 1));
    const web = ctx.reports.at(-1)!.services.find((s) => s.name === "acme-shop_web")!;
    if (web.running >= web.desired) throw new Error("web converged before the cancel: the test needs it mid-way");
    ctx.cancel();
    await expect(done).rejects.toThrow(/^deploy of acme-shop cancelled; converged: acme-shop_cache; not converged: acme-shop_web [0-2]\/3\. The stack stays deployed as far as it got/);
    const last = ctx.reports.at(-1)!;
    expect(last.steps.find((s) => s.id === "converge")).toMatchObject({ state: "failed" });
    // Nothing was undone: docker keeps both services.
    expect([...world.swarm!.services.keys()]).toEqual(expect.arrayContaining(["acme-shop_web", "acme-shop_cache"]));
  });

  it("fails with the task error when no node has the image (swarm keeps retrying: three rejections are the verdict)", async () => {
    world = testWorld();
    const { ctx, done } = deploy(`version: "3.8"\nservices:\n  api:\n    image: shop:2\n`, ["acme-shop_api"]);
    await expect(done).rejects.toThrow("acme-shop_api: No such image: shop:2 (3 tasks failed)");
    const last = ctx.reports.at(-1)!;
    expect(last.steps.map((s) => s.state)).toEqual(["succeeded", "succeeded", "failed"]);
    expect(last.services).toEqual([{ name: "acme-shop_api", desired: 1, running: 0, error: "No such image: shop:2" }]);
    // The service stays (as docker's does); the tasks' errors are in the section.
    const section = swarmSection(world, world.swarmSim!.manager.hostname);
    expect(section.tasks.some((t) => t.serviceName === "acme-shop_api" && t.error === "No such image: shop:2")).toBe(true);
  });

  it("a redeploy updates what changed and prunes what the file no longer has", async () => {
    world = testWorld();
    await deploy(SHOP, ["acme-shop_web", "acme-shop_cache"]).done;
    const next = SHOP.replace("replicas: 2", "replicas: 3").replace(/  cache:[\s\S]*$/, "");
    const final = await deploy(next, ["acme-shop_web"]).done;
    expect(final.steps[1]!.log).toEqual(expect.arrayContaining([expect.stringMatching(/^Updating service acme-shop_web/), "Removing service acme-shop_cache"]));
    expect(final.services).toEqual([{ name: "acme-shop_web", desired: 3, running: 3, error: null }]);
    expect(world.swarm!.services.has("acme-shop_cache")).toBe(false);
  });

  it("removes a stack: its services and tasks go", async () => {
    world = testWorld();
    await deploy(SHOP, ["acme-shop_web", "acme-shop_cache"]).done;
    const ctx = jobContext<StackRemoveProgress>();
    const final = await labStacks(world).remove({ jobId: "r", stack: "acme-shop", timeoutMs: 60_000 }, ctx);
    expect(final.steps.map((s) => s.state)).toEqual(["succeeded", "succeeded"]);
    expect([...world.swarm!.services.keys()].filter((n) => n.startsWith("acme-shop_"))).toEqual([]);
    expect(world.swarm!.tasks.filter((t) => t.service.startsWith("acme-shop_"))).toEqual([]);
  });

  it("fault fail-stack-deploy: the deploy step fails with docker's words, nothing is created; restore undoes it", async () => {
    world = testWorld();
    const faults = new LabFaults(world);
    faults.failStackDeploy("acme-shop");
    const { ctx, done } = deploy(SHOP, ["acme-shop_web", "acme-shop_cache"]);
    await expect(done).rejects.toThrow(/update out of sequence/);
    expect(ctx.reports.at(-1)!.steps.map((s) => s.state)).toEqual(["succeeded", "failed", "skipped"]);
    expect(world.swarm!.services.has("acme-shop_web")).toBe(false);
    faults.restoreStackDeploy("acme-shop");
    expect(() => faults.restoreStackDeploy("acme-shop")).toThrow(/not failing/);
    await deploy(SHOP, ["acme-shop_web", "acme-shop_cache"]).done;
  });

  it("refuses a file without a version, as docker 20.10 does (the server always names one)", async () => {
    world = testWorld();
    await expect(deploy(SHOP.replace('version: "3.8"\n', ""), ["acme-shop_web"]).done).rejects.toThrow("unsupported Compose file version: 1.0");
  });

  it("only a manager deploys (through the agent's drivers)", async () => {
    world = testWorld();
    const worker = [...world.swarm!.nodes.values()].find((n) => n.role === "worker")!.hostname;
    const drivers = simDriversFor(world, worker);
    await expect(drivers.swarm!.stackDeploy!({ jobId: "x", stack: "s", compose: SHOP, services: [], prune: true, timeoutMs: 1000 }, jobContext())).rejects.toThrow(/not a swarm manager/);
  });
});
