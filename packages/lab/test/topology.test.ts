import { describe, expect, it } from "vitest";
import { buildTopology, findings, type HostRecord } from "@nimbus/domain";
import { simDriversFor } from "../src/drivers.js";
import { testWorld } from "./helpers.js";
import type { World } from "../src/world/world.js";

/** The lab's hosts as the server would hold them after one snapshot each. */
async function records(world: World): Promise<HostRecord[]> {
  return Promise.all(
    world.hostNames().map(async (name) => {
      const d = simDriversFor(world, name);
      return {
        name,
        address: "127.0.0.1",
        port: 22,
        maintenance: false,
        connection: { state: "online", since: "t", lastSeen: "t", message: null, agentVersion: "lab", capabilities: [], pinnedKey: null, offeredKey: null, nextRetryAt: null },
        inventory: {
          node: await d.node.snapshot(),
          virt: d.virt ? await d.virt.snapshot() : null,
          net: d.net ? await d.net.snapshot() : null,
          swarm: d.swarm ? await d.swarm.snapshot() : null,
          storage: d.storage ? await d.storage.snapshot() : null,
        },
      } satisfies HostRecord;
    }),
  );
}

describe("the default scenario's network", () => {
  it("is healthy: the topology rules find nothing wrong", async () => {
    const world = testWorld();
    const found = findings(buildTopology(await records(world), world.tenants));
    expect(found.map((f) => f.message)).toEqual([]);
    world.stop();
  });

  it("a generated fleet (flow-based VXLAN ports, one per VNI) is healthy too", async () => {
    const { generateScenario } = await import("../src/scenario/generate.js");
    const { World: LabWorld } = await import("../src/world/world.js");
    const world = new LabWorld(generateScenario({ hosts: 30, vmsPerHost: 3 }), { jitter: false });
    const topology = buildTopology(await records(world), world.tenants);
    expect(findings(topology).map((f) => f.message)).toEqual([]);
    const hv = topology.hosts.find((h) => h.name === "hv0001")!;
    expect(hv.bridges.flatMap((b) => b.ports.filter((p) => p.vxlan).map((p) => `${p.name}:${p.vxlan!.remote}`))).toEqual(["vx5001:null", "vx5002:null", "vx5003:null"]);
    world.stop();
  });

  it("a broken tunnel is found, and repairing it clears the finding", async () => {
    const world = testWorld();
    const { LabFaults } = await import("../src/faults.js");
    const faults = new LabFaults(world, { rotate: async () => {}, restore: async () => {} });
    faults.breakTunnel("kvm1", 5001);
    const broken = findings(buildTopology(await records(world), world.tenants));
    expect(broken.map((f) => f.kind)).toContain("mesh-incomplete");
    faults.repairTunnel("kvm1", 5001);
    const repaired = findings(buildTopology(await records(world), world.tenants));
    expect(repaired).toEqual([]);
    world.stop();
  });
});
