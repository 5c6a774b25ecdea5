import type { SwarmNode, SwarmService, SwarmTask } from "../inventory.js";

/**
 * A published port as the services and stacks tables show it: how it is published and who
 * answers. In ingress mode the routing mesh answers on every node (IPVS balances to the tasks);
 * in host mode only the nodes running one of the service's tasks answer, each with its own task
 * (docker binds the port on that node: one task per node and port).
 */
export interface PublishedPort {
  published: number;
  target: number;
  protocol: string;
  mode: "ingress" | "host";
  /** Host mode: the nodes whose running task answers (hostnames, sorted); empty for a tenant, who sees no nodes. Ingress: null (every node). */
  nodes: string[] | null;
  /** Host mode: how many nodes answer (a tenant sees the count, not the names). Ingress: null. */
  nodeCount: number | null;
}

/** The published ports of `service` with the nodes that answer, from the manager's tasks and nodes. */
export function publishedPorts(
  service: Pick<SwarmService, "id" | "name" | "ports">,
  tasks: readonly Pick<SwarmTask, "serviceId" | "serviceName" | "node" | "state" | "desiredState">[],
  nodes: readonly Pick<SwarmNode, "id" | "hostname">[],
): PublishedPort[] {
  if (!service.ports.length) return [];
  const byId = new Map(nodes.map((n) => [n.id, n.hostname]));
  const live = tasks.filter((t) => (t.serviceId === service.id || t.serviceName === service.name) && t.desiredState === "running" && t.state === "running");
  const named = [...new Set(live.flatMap((t) => (t.node ? [byId.get(t.node) ?? t.node] : [])))].sort();
  return service.ports.map((p) => {
    const host = p.mode === "host";
    return {
      published: p.published,
      target: p.target,
      protocol: p.protocol,
      mode: host ? "host" : "ingress",
      nodes: host ? named : null,
      // Tasks without a node (a tenant's view) still count: one task per node for a host-mode port.
      nodeCount: host ? (live.some((t) => t.node) ? named.length : live.length) : null,
    };
  });
}

/** The same for a tenant member: the count of nodes stays, their names go. */
export const publishedPortsForTenant = (ports: readonly PublishedPort[]): PublishedPort[] => ports.map((p) => ({ ...p, nodes: p.nodes === null ? null : [] }));

/** "8080→80/tcp" */
export const publishedPortText = (p: Pick<PublishedPort, "published" | "target" | "protocol">) => `${p.published}→${p.target}/${p.protocol}`;

/** Who answers, in words: "routing mesh: every node" or "host mode on worker1, worker2" (a count for a tenant). */
export function answeredBy(p: Pick<PublishedPort, "mode" | "nodes" | "nodeCount">): string {
  if (p.mode === "ingress") return "routing mesh: every node";
  if (p.nodes && p.nodes.length) return `host mode on ${p.nodes.join(", ")}`;
  const n = p.nodeCount ?? 0;
  return n ? `host mode on ${n} node${n === 1 ? "" : "s"}` : "host mode: no task running, nothing answers";
}
