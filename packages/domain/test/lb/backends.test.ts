import { describe, expect, it } from "vitest";
import { LoadBalancerSpec, resolveLbServers, type HostRecord, type SwarmTask } from "../../src/index.js";
import { hypervisor } from "../fixtures.js";

/** A manager's view: three nodes, a service published in host mode on 8098, and its tasks as given. */
const manager = (tasks: SwarmTask[], availability: Record<string, "active" | "drain"> = {}): HostRecord =>
  hypervisor("swarm1", [], {
    inventory: {
      ...hypervisor("swarm1").inventory,
      virt: null,
      storage: null,
      swarm: {
        nodeId: "id-swarm1",
        role: "manager",
        clusterId: "c",
        nodes: ["swarm1", "swarm2", "swarm3"].map((h) => ({ id: `id-${h}`, hostname: h, role: "manager" as const, availability: availability[h] ?? ("active" as const), status: "ready" as const, leader: h === "swarm1", engineVersion: "24", address: `10.0.0.${h.at(-1)}` })),
        services: [{ id: "s1", name: "web", mode: "global", replicasDesired: 3, replicasRunning: 3, image: "busybox", ports: [{ published: 8098, target: 8098, protocol: "tcp", mode: "host" }], tenant: "acme", stack: null, updatedAt: null }],
        tasks,
      },
    },
  });
const task = (node: string, desiredState = "running"): SwarmTask => ({ id: `t-${node}`, serviceId: "s1", serviceName: "web", slot: null, node, desiredState, state: desiredState, error: null, image: "busybox" });
const spec = LoadBalancerSpec.parse({ name: "web", edgeHost: "swarm1", bind: { address: "0.0.0.0", port: 80 }, target: { kind: "service", service: "web", port: 8098 } });

describe("resolveLbServers, host mode", () => {
  it("takes the nodes running a task, whether the task names its node by id (docker node ps, the lab) or by host name (docker service ps, the real agent)", () => {
    const byId = resolveLbServers(spec, [manager([task("id-swarm1"), task("id-swarm2")])]);
    const byName = resolveLbServers(spec, [manager([task("swarm1"), task("swarm2")])]);
    expect(byName).toEqual(byId);
    expect(byName.map((s) => `${s.name} ${s.address}:${s.port}`)).toEqual(["swarm1 10.0.0.1:8098", "swarm2 10.0.0.2:8098"]);
  });

  it("leaves out a node whose task is told to stop, and marks a drained node's server disabled", () => {
    const servers = resolveLbServers(spec, [manager([task("swarm1"), task("swarm2", "shutdown"), task("swarm3")], { swarm3: "drain" })]);
    expect(servers.map((s) => [s.name, s.disabled])).toEqual([
      ["swarm1", false],
      ["swarm3", true],
    ]);
  });
});
