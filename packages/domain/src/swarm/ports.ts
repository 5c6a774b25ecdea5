import { z } from "zod";
import { boundedList, boundedName, boundedText } from "../bounds.js";

/**
 * The ports a swarm needs between its nodes (docker's "open protocols and ports"):
 * 2377/tcp to managers (cluster management), 7946/tcp+udp between all nodes (gossip),
 * 4789/udp between nodes that carry an overlay network (VXLAN data path).
 *
 * TCP is proven by a connect from the node to its peer. UDP cannot be: nothing answers a probe
 * datagram, and silence means "open" as much as "dropped". The rule used instead: a UDP port
 * from A to B counts as open when B reports a socket listening on it (`ss -Hlun` on B) and A
 * reaches B's 7946/tcp (the same path, so a host that is away or fenced off is caught there).
 * It cannot see a filter that drops UDP alone on a path where TCP passes; that is said wherever
 * the result is shown.
 */
export type PortProto = "tcp" | "udp";
export interface SwarmPortSpec {
  port: number;
  proto: PortProto;
  /** Who must accept it: managers only, every node, or nodes that carry an overlay network. */
  on: "managers" | "all" | "overlay";
  purpose: string;
}
export const SWARM_PORTS: readonly SwarmPortSpec[] = [
  { port: 2377, proto: "tcp", on: "managers", purpose: "cluster management" },
  { port: 7946, proto: "tcp", on: "all", purpose: "node gossip" },
  { port: 7946, proto: "udp", on: "all", purpose: "node gossip" },
  { port: 4789, proto: "udp", on: "overlay", purpose: "overlay traffic (VXLAN)" },
];

export const PORT_LIMITS = { peers: 1024, listening: 64, findings: 200 } as const;

/** One node's own check results, reported in its swarm section (workers included). */
export const NodePortReport = z.object({
  /** Swarm UDP ports this node has a socket listening on. */
  listeningUdp: boundedList(z.number().int().min(1).max(65535), PORT_LIMITS.listening),
  /** TCP connects from this node to its peers. */
  reach: boundedList(
    z.object({
      address: boundedName(),
      port: z.number().int().min(1).max(65535),
      ok: z.boolean(),
      error: boundedText().nullable(),
    }),
    PORT_LIMITS.peers,
  ),
});
export type NodePortReport = z.infer<typeof NodePortReport>;

export interface PortNode {
  hostname: string;
  address: string | null;
  role: "manager" | "worker";
  /** The node is ready (a down node's silence is the node check's business, not a port's). */
  ready: boolean;
  /** Carries an overlay network: 4789/udp matters there. */
  overlay: boolean;
  report: NodePortReport | null;
}

export interface PortFinding {
  id: string;
  from: string;
  to: string;
  port: number;
  proto: PortProto;
  message: string;
}

const key = (p: { port: number; proto: PortProto }) => `${p.port}/${p.proto}`;

/**
 * Blocked ports between every pair of ready nodes that both report, each naming both nodes.
 * A pair whose TCP check is missing (the peer was not in the node's list) is not a finding.
 * Bounded: at most PORT_LIMITS.findings, the rest counted in the last one's message.
 */
export function swarmPortFindings(nodes: readonly PortNode[]): PortFinding[] {
  const byAddress = new Map<string, PortNode>();
  for (const n of nodes) if (n.address) byAddress.set(n.address, n);
  const reporting = nodes.filter((n) => n.ready && n.report);
  const out: PortFinding[] = [];
  let more = 0;
  const add = (f: Omit<PortFinding, "id">) => {
    if (out.length >= PORT_LIMITS.findings) return void more++;
    out.push({ ...f, id: `swarm:port:${f.from}>${f.to}:${key(f)}` });
  };
  for (const a of reporting) {
    const reach = new Map<string, { ok: boolean; error: string | null }>();
    for (const r of a.report!.reach) reach.set(`${r.address}:${r.port}`, r);
    for (const b of reporting) {
      if (a === b || !b.address) continue;
      const gossip = reach.get(`${b.address}:7946`);
      for (const spec of SWARM_PORTS) {
        if (spec.on === "managers" && b.role !== "manager") continue;
        if (spec.on === "overlay" && !(a.overlay && b.overlay)) continue;
        const what = `${key(spec)} (${spec.purpose}) from ${a.hostname} to ${b.hostname}`;
        if (spec.proto === "tcp") {
          const r = reach.get(`${b.address}:${spec.port}`);
          if (r && !r.ok) add({ from: a.hostname, to: b.hostname, port: spec.port, proto: "tcp", message: `${what} is blocked${r.error ? `: ${r.error}` : ""}` });
          continue;
        }
        // UDP: B must listen; the path is the one 7946/tcp proved (its own finding when blocked).
        if (!b.report!.listeningUdp.includes(spec.port))
          add({ from: a.hostname, to: b.hostname, port: spec.port, proto: "udp", message: `${what} is blocked: ${b.hostname} has no socket listening on ${key(spec)}` });
        else if (gossip && !gossip.ok)
          add({ from: a.hostname, to: b.hostname, port: spec.port, proto: "udp", message: `${what} cannot be proven: ${a.hostname} does not reach ${b.hostname} on 7946/tcp` });
      }
    }
  }
  if (more && out.length) {
    const last = out[out.length - 1]!;
    out[out.length - 1] = { ...last, message: `${last.message} (and ${more} more blocked ports)` };
  }
  return out;
}
