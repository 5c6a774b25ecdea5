import { afterEach, describe, expect, it } from "vitest";
import { simDriversFor } from "../src/drivers.js";
import type { World } from "../src/world/world.js";
import { testWorld } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());

describe("simulated node facts", () => {
  it("are reported like the real node driver reports them: a CPU wobble under 5 points is not news", async () => {
    world = testWorld();
    const node = simDriversFor(world, "kvm1").node;
    const start = (await node.snapshot()).cpuUsagePct;
    let pushes = 0;
    const stop = node.watch(() => pushes++);
    const host = world.host("kvm1");

    host.cpuUsagePct = start + 2;
    world.changed("kvm1", "node");
    expect(pushes).toBe(0);

    host.cpuUsagePct = start + 6;
    world.changed("kvm1", "node");
    expect(pushes).toBe(1);
    stop();
  });

  it("measure the wobble from what was last reported, so slow drift is reported once it adds up", async () => {
    world = testWorld();
    const node = simDriversFor(world, "kvm1").node;
    const start = (await node.snapshot()).cpuUsagePct;
    let pushes = 0;
    const stop = node.watch(() => pushes++);
    const host = world.host("kvm1");
    for (const step of [1, 2, 3, 4]) {
      host.cpuUsagePct = start + step * 1.5;
      world.changed("kvm1", "node");
    }
    // 1.5, 3 and 4.5 points away are noise; 6 points away is news.
    expect(pushes).toBe(1);
    stop();
  });
});
