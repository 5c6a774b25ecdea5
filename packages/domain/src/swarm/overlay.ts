import { z } from "zod";
import { boundedList, boundedName } from "../bounds.js";

/** Bounds of the overlay network list a manager reports. */
export const OVERLAY_LIMITS = { networks: 1024, subnetsPerNetwork: 64, servicesPerNetwork: 4096, nodesPerNetwork: 10_000 } as const;

/**
 * A swarm-scoped overlay network as a manager sees it: its subnets (IPAM), the services attached
 * to it and the nodes that carry it (nodes running one of those services' tasks, and the peers
 * docker lists for it).
 */
export const OverlayNetwork = z.object({
  id: boundedName(),
  name: boundedName(),
  /** The routing mesh's own network. */
  ingress: z.boolean(),
  attachable: z.boolean(),
  subnets: boundedList(z.object({ subnet: boundedName(), gateway: boundedName().nullable() }), OVERLAY_LIMITS.subnetsPerNetwork),
  services: boundedList(boundedName(), OVERLAY_LIMITS.servicesPerNetwork),
  nodes: boundedList(boundedName(), OVERLAY_LIMITS.nodesPerNetwork),
});
export type OverlayNetwork = z.infer<typeof OverlayNetwork>;

/** Nodes that carry a network: those running a task of a service on it, plus docker's peers, sorted. */
export function nodesCarrying(
  serviceNames: readonly string[],
  tasks: readonly { serviceName: string; node?: string | null; desiredState: string; state: string }[],
  peers: readonly string[] = [],
): string[] {
  const on = new Set(serviceNames);
  const nodes = new Set(peers);
  for (const t of tasks) if (t.node && on.has(t.serviceName) && t.desiredState === "running" && t.state === "running") nodes.add(t.node);
  return [...nodes].sort();
}
