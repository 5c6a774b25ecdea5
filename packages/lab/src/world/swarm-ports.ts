import type { NodePortReport } from "@nimbus/domain";
import type { World } from "./world.js";

/**
 * The port checks each lab swarm node reports (the real agent: TCP connects to its peers, `ss`
 * for its UDP sockets). `block-port NODE PORT/PROTO` blocks a port on a node: TCP connects to it
 * time out from every peer; a blocked UDP port has no listening socket there, which is what the
 * domain's rule reads for UDP. Reports are re-read every second and pushed when they change.
 */
const blocked = new WeakMap<World, Set<string>>();
export const blockedPorts = (world: World): Set<string> => {
  let s = blocked.get(world);
  if (!s) blocked.set(world, (s = new Set()));
  return s;
};

export const portKey = (node: string, port: number, proto: "tcp" | "udp") => `${node}:${port}/${proto}`;

export function labPortReport(world: World, name: string): NodePortReport | null {
  const sw = world.swarm;
  const self = sw?.nodes.get(name);
  if (!sw || !self || !self.engineUp) return null;
  const off = blockedPorts(world);
  const alive = (n: { engineUp: boolean; hostname: string }) => n.engineUp && (!world.isLabHost(n.hostname) || world.isPoweredOn(n.hostname));
  const reach: NodePortReport["reach"] = [];
  for (const peer of [...sw.nodes.values()].sort((a, b) => a.hostname.localeCompare(b.hostname))) {
    if (peer === self) continue;
    for (const port of peer.role === "manager" ? [2377, 7946] : [7946]) {
      const ok = alive(peer) && !off.has(portKey(peer.hostname, port, "tcp"));
      reach.push({ address: peer.address, port, ok, error: ok ? null : "no answer within 2000 ms" });
    }
  }
  return { listeningUdp: [4789, 7946].filter((p) => !off.has(portKey(name, p, "udp"))), reach };
}

const started = new WeakSet<World>();

/** Re-reads every node's report each second; a changed one is pushed (as the real checker's timer). */
export function startLabPortChecks(world: World): void {
  if (started.has(world) || !world.swarm) return;
  started.add(world);
  const last = new Map<string, string>();
  const sweep = () => {
    for (const n of world.swarm?.nodes.keys() ?? []) {
      const text = JSON.stringify(labPortReport(world, n));
      if (last.has(n) && last.get(n) !== text) world.changed(n, "swarm");
      last.set(n, text);
    }
  };
  sweep();
  world.addTicker(world.clock.every(1_000, sweep));
}
