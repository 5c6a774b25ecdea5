import type { Domain, SwarmNode, SwarmTask } from "../inventory.js";
import type { HostRecord } from "../fleet.js";

/** What a VM runs as a swarm node, for the migrate dialog and the maintenance plan. */
export interface VmSwarmRole {
  node: string;
  nodeId: string;
  role: SwarmNode["role"];
  availability: SwarmNode["availability"];
  status: SwarmNode["status"];
  /** Tasks the swarm wants running on it now. */
  tasks: Pick<SwarmTask, "id" | "serviceName" | "slot" | "state">[];
  /** How to move its tasks away first (a staff procedure of the API). */
  drain: { procedure: "swarm.setAvailability"; input: { node: string; availability: "drain" } } | null;
}

/** The leader's view of the cluster (only managers list nodes and tasks). */
function clusterView(hosts: readonly HostRecord[]) {
  const managers = hosts.filter((h) => h.connection.state === "online" && h.inventory.swarm?.role === "manager" && h.inventory.swarm.nodes.length);
  const leader = managers.find((h) => h.inventory.swarm!.nodes.some((n) => n.leader && n.id === h.inventory.swarm!.nodeId)) ?? managers[0];
  return leader?.inventory.swarm ?? null;
}

/**
 * The swarm node a VM is, matched by hostname (a node's hostname is its VM's name here) or by
 * an address the VM reports. Null for VMs outside the swarm or when no manager answers.
 */
export function swarmRoleOfVm(domain: Pick<Domain, "name" | "nics">, hosts: readonly HostRecord[]): VmSwarmRole | null {
  const swarm = clusterView(hosts);
  if (!swarm) return null;
  const addresses = new Set(domain.nics.flatMap((n) => n.ipAddresses.map((a) => a.split("/")[0])));
  const node = swarm.nodes.find((n) => n.hostname === domain.name) ?? swarm.nodes.find((n) => n.address !== null && addresses.has(n.address));
  if (!node) return null;
  const tasks = swarm.tasks
    .filter((t) => t.node === node.id || t.node === node.hostname)
    .filter((t) => t.desiredState === "running")
    .map(({ id, serviceName, slot, state }) => ({ id, serviceName, slot, state }));
  return {
    node: node.hostname,
    nodeId: node.id,
    role: node.role,
    availability: node.availability,
    status: node.status,
    tasks,
    drain: node.availability === "drain" ? null : { procedure: "swarm.setAvailability", input: { node: node.hostname, availability: "drain" } },
  };
}
