import { z } from "zod";
import { nodesCarrying, type OverlayNetwork, type SwarmNode, type SwarmTask } from "@nimbus/domain";
import { parseJsonLines, parseJsonWith, check } from "./parse/text.js";

/** Overlay networks as a manager sees them: `docker network ls --filter driver=overlay` + `docker network inspect`. */

const NetworkLsJson = z.looseObject({ ID: z.string(), Name: z.string(), Driver: z.string(), Scope: z.string() });

/** `docker network ls --filter driver=overlay --format '{{json .}}'`: the ids of swarm-scoped overlays. */
export function parseOverlayLs(text: string): { id: string; name: string }[] {
  const tool = "docker network ls";
  return parseJsonLines(tool, text)
    .map((raw) => check(NetworkLsJson, tool, raw, text))
    .filter((n) => n.Driver === "overlay" && n.Scope === "swarm")
    .map((n) => ({ id: n.ID, name: n.Name }));
}

const NetworkInspectJson = z.array(
  z.looseObject({
    Id: z.string(),
    Name: z.string(),
    Driver: z.string(),
    Ingress: z.boolean().optional(),
    Attachable: z.boolean().optional(),
    IPAM: z.looseObject({ Config: z.array(z.looseObject({ Subnet: z.string().optional(), Gateway: z.string().optional() })).nullish() }).optional(),
    Peers: z.array(z.looseObject({ Name: z.string(), IP: z.string() })).nullish(),
  }),
);

export interface InspectedNetwork {
  id: string;
  name: string;
  ingress: boolean;
  attachable: boolean;
  subnets: { subnet: string; gateway: string | null }[];
  /** Peer addresses docker lists (only where the manager itself carries the network). */
  peerAddresses: string[];
}

export function parseNetworkInspect(text: string): InspectedNetwork[] {
  return parseJsonWith(NetworkInspectJson, "docker network inspect", text).map((n) => ({
    id: n.Id,
    name: n.Name,
    ingress: n.Ingress ?? false,
    attachable: n.Attachable ?? false,
    subnets: (n.IPAM?.Config ?? []).filter((c) => c.Subnet).map((c) => ({ subnet: c.Subnet!, gateway: c.Gateway || null })),
    peerAddresses: (n.Peers ?? []).map((p) => p.IP),
  }));
}

/**
 * Each network with the services attached to it (by the network ids in their specs and virtual
 * IPs: full ids, or a prefix of them as `network ls` prints) and the nodes carrying it.
 */
export function overlayNetworks(
  networks: InspectedNetwork[],
  services: { name: string; networks: string[] }[],
  tasks: SwarmTask[],
  nodes: SwarmNode[],
): OverlayNetwork[] {
  const byAddress = new Map(nodes.filter((n) => n.address).map((n) => [n.address!, n.hostname]));
  return networks.map((n) => {
    const on = services.filter((s) => s.networks.some((id) => id === n.id || n.id.startsWith(id) || id.startsWith(n.id))).map((s) => s.name).sort();
    const peers = n.peerAddresses.flatMap((ip) => (byAddress.has(ip) ? [byAddress.get(ip)!] : []));
    return { id: n.id, name: n.name, ingress: n.ingress, attachable: n.attachable, subnets: n.subnets, services: on, nodes: nodesCarrying(on, tasks, peers) };
  });
}
