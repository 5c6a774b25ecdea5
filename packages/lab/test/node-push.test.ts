import { afterEach, describe, expect, it } from "vitest";
import { simDriversFor } from "../src/drivers.js";
import type { World } from "../src/world/world.js";
import { testWorld } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());

/** kvm1's node source, watched from its current snapshot: how many pushes it made. */
async function watchKvm1() {
  world = testWorld();
  const node = simDriversFor(world, "kvm1").node;
  const start = (await node.snapshot()).cpuUsagePct;
  const pushes = { count: 0 };
  const stop = node.watch(() => pushes.count++);
  const setCpu = (pct: number) => {
    world.host("kvm1").cpuUsagePct = pct;
    world.changed("kvm1", "node");
  };
  return { start, pushes, stop, setCpu };
}

describe("simulated node facts", () => {
  it("are reported like the real node driver reports them: a CPU wobble under 5 points is not news", async () => {
    const { start, pushes, stop, setCpu } = await watchKvm1();
    setCpu(start + 2);
    expect(pushes.count).toBe(0);
    setCpu(start + 6);
    expect(pushes.count).toBe(1);
    stop();
  });

  it("measure the wobble from what was last reported, so slow drift is reported once it adds up", async () => {
    const { start, pushes, stop, setCpu } = await watchKvm1();
    // 1.5, 3 and 4.5 points away are noise; 6 points away is news.
    for (const step of [1, 2, 3, 4]) setCpu(start + step * 1.5);
    expect(pushes.count).toBe(1);
    stop();
  });
});
