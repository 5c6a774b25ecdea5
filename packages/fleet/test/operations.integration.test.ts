import type { Operation } from "@nimbus/domain";
import { afterEach, describe, expect, it } from "vitest";
import type { Fleet } from "../src/fleet.js";
import { MemoryOperationStore } from "../src/memory-stores.js";
import { OperationManager } from "../src/operations.js";
import { FakeWorld } from "./fixtures/fake-world.js";
import { fleetHarness } from "./helpers/fleet-harness.js";
import { eventually } from "./helpers/wait.js";

/** Migrations and scaling end to end: OperationManager -> Fleet -> SSH -> agent -> fake world. */
let harness: Awaited<ReturnType<typeof fleetHarness>>;
const managers: OperationManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.stop();
  await harness?.close();
});

async function setup(stepMs = 30) {
  const world = new FakeWorld(stepMs);
  world.addDomain("kvm1", "web-1");
  world.addService("web", 2);
  harness = await fleetHarness([
    { name: "kvm1", drivers: world.drivers("kvm1") },
    { name: "kvm2", drivers: world.drivers("kvm2") },
    { name: "mgr", drivers: world.drivers("mgr", { manager: true }) },
  ]);
  const store = new MemoryOperationStore();
  const fleet = harness.fleet();
  await fleet.start();
  return { world, store, fleet, ops: await manager(fleet, store) };
}

async function manager(fleet: Fleet, store: MemoryOperationStore) {
  const m = new OperationManager(fleet, store, { persistIntervalMs: 50 });
  managers.push(m);
  await m.start();
  return m;
}

const track = (ops: OperationManager) => {
  const seen: Operation[] = [];
  ops.subscribe((op) => seen.push(op));
  return seen;
};
const domainsOn = (fleet: Fleet, host: string) => fleet.host(host)?.inventory.virt?.domains.map((d) => d.name) ?? [];

describe("operations over the fleet", () => {
  it("migrates a VM with progress, ending on the destination only", async () => {
    const { fleet, store, ops } = await setup();
    const seen = track(ops);
    const op = await ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    expect(op.state).toBe("running");
    await eventually(() => seen.some((o) => o.state === "succeeded"), "migration to succeed");
    const percents = seen.flatMap((o) => (o.progress?.kind === "migrate" ? [o.progress.percent] : []));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents).toContain(40);
    expect(percents.at(-1)).toBe(100);
    await eventually(() => domainsOn(fleet, "kvm2").includes("web-1") && !domainsOn(fleet, "kvm1").includes("web-1"), "inventory to show web-1 on kvm2 only");
    await eventually(async () => (await store.get(op.id))?.state === "succeeded", "the final state to be stored");
  });

  it("cancels a migration, leaving the VM on the source", async () => {
    const { fleet, store, ops } = await setup(200);
    const op = await ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    await ops.cancel(op.id);
    await eventually(async () => (await store.get(op.id))?.state === "cancelled", "the cancelled state to be stored");
    expect(domainsOn(fleet, "kvm1")).toEqual(["web-1"]);
  });

  it("fails a migration whose destination dies mid-way; the VM stays on the source", async () => {
    const { world, fleet, store, ops } = await setup(60);
    const op = await ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    await eventually(() => ops.running()[0]?.progress, "first progress");
    world.down.add("kvm2");
    await eventually(async () => (await store.get(op.id))?.state === "failed", "migration to fail");
    expect((await store.get(op.id))?.error).toBe("lost connection to kvm2");
    expect(domainsOn(fleet, "kvm1")).toEqual(["web-1"]);
  });

  it("scales a service until it converges", async () => {
    const { fleet, store, ops } = await setup(20);
    const seen = track(ops);
    const op = await ops.startScale({ service: "web", replicas: 5 }, "alice");
    await eventually(async () => (await store.get(op.id))?.state === "succeeded", "scale to converge");
    expect(seen.flatMap((o) => (o.progress?.kind === "scale" ? [o.progress.running] : []))).toEqual([3, 4, 5, 5]);
    await eventually(() => fleet.host("mgr")?.inventory.swarm?.services[0]?.replicasRunning === 5, "inventory to show 5 replicas");
  });

  it("after a server restart, settles a migration that finished while it was away", async () => {
    const { fleet, store, ops } = await setup(100);
    const op = await ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    // The server goes away mid-migration; the hosts keep running the job.
    await ops.stop();
    fleet.stop();
    await eventually(() => harness.hosts.kvm1!.jobs.list().find((j) => j.id === op.id)?.state === "succeeded", "the agent to finish the job");
    expect((await store.get(op.id))?.state).toBe("running");

    const fleet2 = harness.fleet();
    const ops2 = await manager(fleet2, store);
    await fleet2.start();
    await eventually(async () => (await store.get(op.id))?.state === "succeeded", "reconciliation from job.list");
    expect(await ops2.get(op.id)).toMatchObject({ state: "succeeded", progress: { percent: 100 } });
  });
});
