import type { HostRecord, SwarmNode, SwarmTask } from "../../src/index.js";
import { hypervisor } from "../fixtures.js";

/** A swarm manager VM's host record: the leader's view lists nodes and tasks. */
export function swarmLeader(nodes: Partial<SwarmNode>[], tasks: Partial<SwarmTask>[] = []): HostRecord {
  const h = hypervisor("mgr-agent");
  const full = nodes.map((n, i): SwarmNode => ({
    id: `n${i}`, hostname: `node${i}`, role: "worker", availability: "active", status: "ready", leader: false, engineVersion: "20.10", address: null, ...n,
  }));
  return {
    ...h,
    connection: { ...h.connection, capabilities: ["net", "swarm"] },
    inventory: {
      ...h.inventory,
      virt: null,
      swarm: {
        nodeId: full.find((n) => n.leader)?.id ?? full[0]!.id,
        role: "manager",
        clusterId: "c1",
        nodes: full,
        services: [],
        tasks: tasks.map((t, i): SwarmTask => ({ id: `t${i}`, serviceId: "s", serviceName: "web", slot: i + 1, node: null, desiredState: "running", state: "running", error: null, ...t })),
      },
    },
  };
}
