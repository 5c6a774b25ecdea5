import { httpCheckFromLabels, type SwarmSection } from "@nimbus/domain";
import type { SwarmState, TaskState } from "../model.js";
import type { World } from "../world.js";
import { pendingTasks } from "../swarm-nodes.js";
import { labOverlays, labServiceImage, labServiceNetworks, labTaskFields } from "../swarm-services.js";
import { labPortReport } from "../swarm-ports.js";
import { LAB_BASE_IMAGES, nodeImages, stackState } from "../swarm-stacks.js";

/** How many finished tasks per service the manager still lists (docker's task history). */
export const TASK_HISTORY_PER_SERVICE = 5;

/** A task the service counts as running: up, on a node the manager sees ready. */
export const isLiveTask = (sw: SwarmState, t: TaskState) => t.state === "running" && sw.nodes.get(t.node)?.status === "ready";

/**
 * One engine's view of the swarm. Only the manager lists nodes, services and tasks; workers
 * report themselves with empty lists, as `docker node ls` refuses to run on them. An engine
 * that is down reports no cluster (its `docker info` has no swarm).
 */
export function swarmSection(world: World, name: string): SwarmSection {
  const sw = world.swarm;
  const self = sw?.nodes.get(name);
  // An engine in no swarm (docker info: LocalNodeState inactive), as the real agent reports it.
  if (!sw || !self) return { nodeId: `inactive-${name}`.slice(0, 64), role: "worker", clusterId: null, nodes: [], services: [], tasks: [], images: [...LAB_BASE_IMAGES] };
  if (!self.engineUp || self.role === "worker") {
    return { nodeId: self.id, role: self.role, clusterId: self.engineUp ? sw.clusterId : null, nodes: [], services: [], tasks: [], ports: labPortReport(world, name), images: self.engineUp ? nodeImages(sw, name) : null };
  }
  const services = [...sw.services.values()];
  return {
    nodeId: self.id,
    role: self.role,
    clusterId: sw.clusterId,
    ports: labPortReport(world, name),
    networks: labOverlays(sw),
    nodes: [...sw.nodes.values()].map((n) => ({
      id: n.id,
      hostname: n.hostname,
      role: n.role,
      availability: n.availability,
      status: n.status,
      // The lab's leader is the first manager (SwarmSim.manager), whoever reports.
      leader: n.role === "manager" && n.hostname === world.swarmSim?.manager.hostname,
      engineVersion: n.status === "ready" ? sw.engineVersion : null,
      address: n.address,
    })),
    services: services.map((s) => ({
      id: s.id,
      name: s.spec.name,
      mode: s.spec.mode,
      replicasDesired: s.spec.mode === "global" ? [...sw.nodes.values()].filter((n) => n.status === "ready" && n.availability === "active").length : s.desired,
      replicasRunning: sw.tasks.filter((t) => t.service === s.spec.name && isLiveTask(sw, t)).length,
      image: labServiceImage(s),
      update: s.update ?? null,
      networks: labServiceNetworks(s),
      ports: s.spec.ports.map((p) => ({ ...p })),
      tenant: s.spec.tenant,
      stack: s.spec.stack,
      updatedAt: s.updatedAt,
      envDigest: stackState(sw).envDigests.get(s.spec.name) ?? null,
      httpCheck: httpCheckFromLabels(s.spec.labels),
    })),
    images: nodeImages(sw, name),
    tasks: sw.tasks.map((t): SwarmSection["tasks"][number] => {
      const svc = sw.services.get(t.service)!;
      return {
        id: t.id,
        serviceId: svc.id,
        serviceName: t.service,
        slot: t.slot,
        node: t.node,
        desiredState: t.desiredState,
        state: t.state,
        error: t.error,
        ...labTaskFields(svc, t),
      };
    }).concat(pendingTasks(world, sw)),
  };
}
