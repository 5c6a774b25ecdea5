import { vxlanPeers, type HostRecord, type Operation, type OperationStep, type TunnelParams } from "@nimbus/domain";

/**
 * The other direction of a host's VXLAN tunnels. A create that adds a tenant's VNI to host H
 * gives H a port to each peer; each peer is then asked for a port back to H (net.ensureTunnel),
 * else point-to-point tunnels carry one direction only and the topology reports an incomplete
 * mesh. A delete that released the VNI on H asks the hosts with a port to H to drop it
 * (net.releaseTunnel). Run by the server after the agent's job succeeded, as one more step.
 */
export const PEER_STEP_ID = "peer-tunnels";

export interface PeerTunnelPlan {
  method: "net.ensureTunnel" | "net.releaseTunnel";
  label: string;
  detail: string;
  /** One request per peer and VNI. */
  requests: { host: string; params: TunnelParams }[];
  /** Why the step cannot run (H's tunnel endpoint is not an IPv4 address); it then fails with this. */
  problem: string | null;
}

const IPV4 = /^(\d{1,3})(\.\d{1,3}){3}$/;
const numbers = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === "number") : []);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** Where H's tunnels end: the local address of its VXLAN port of the VNI when it reports one, else its own address. */
export function tunnelEndpoint(host: HostRecord | undefined, vni: number): string | null {
  if (!host) return null;
  const port = (host.inventory.net?.bridges ?? []).flatMap((b) => b.ports).find((p) => p.vxlan?.vni === vni);
  return port?.vxlan?.local ?? host.address;
}

/** The peer's bridge and VLAN for the VNI (its own VXLAN port's), else the operation's. */
function peerSide(peer: HostRecord | undefined, vni: number, fallback: { bridge: string; vlan: number }) {
  for (const b of peer?.inventory.net?.bridges ?? []) {
    const port = b.ports.find((p) => p.vxlan?.vni === vni);
    if (port) return { bridge: b.name, vlan: port.vlan ?? fallback.vlan };
  }
  return fallback;
}

/** What the peers must do after `op` (a create or delete that just succeeded on op.host); null when nothing. */
export function peerTunnelPlan(op: Operation, hosts: readonly HostRecord[]): PeerTunnelPlan | null {
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const self = byName.get(op.host);
  if (op.kind === "create") {
    const bridge = typeof op.params.bridge === "string" ? op.params.bridge : null;
    const vlan = typeof op.params.vlan === "number" ? op.params.vlan : null;
    if (!bridge || vlan === null) return null;
    const recorded = Array.isArray(op.params.tunnelPeers) ? strings(op.params.tunnelPeers) : null;
    const requests: PeerTunnelPlan["requests"] = [];
    let problem: string | null = null;
    for (const vni of numbers(op.params.vnis)) {
      const peers = (recorded ?? vxlanPeers(hosts, vni).map((p) => p.host)).filter((h) => h !== op.host);
      if (!peers.length) continue;
      const remoteIp = tunnelEndpoint(self, vni);
      if (!remoteIp || !IPV4.test(remoteIp)) problem = `${op.host}'s tunnel endpoint ${remoteIp ?? "(unknown)"} is not an IPv4 address`;
      for (const host of peers) requests.push({ host, params: { ...peerSide(byName.get(host), vni, { bridge, vlan }), vni, remoteIp: remoteIp ?? "" } });
    }
    if (!requests.length) return null;
    return {
      method: "net.ensureTunnel",
      label: "Tunnels back from peers",
      detail: `a VXLAN port back to ${op.host} on ${[...new Set(requests.map((r) => r.host))].join(", ")}`,
      requests,
      problem,
    };
  }
  if (op.kind === "delete") {
    // Only when the agent released the VNI on op.host (it skips the release while another instance uses it).
    const released = op.steps.some((s) => s.id.endsWith("-release-network") && s.state === "succeeded");
    const releases = Array.isArray(op.params.releases) ? (op.params.releases as { bridge?: unknown; vni?: unknown; vlan?: unknown; endpoint?: unknown }[]) : [];
    if (!released) return null;
    const requests: PeerTunnelPlan["requests"] = [];
    for (const r of releases) {
      if (typeof r.vni !== "number" || typeof r.bridge !== "string" || typeof r.vlan !== "number") continue;
      const vni = r.vni;
      const remoteIp = typeof r.endpoint === "string" ? r.endpoint : tunnelEndpoint(self, vni);
      if (!remoteIp || !IPV4.test(remoteIp)) continue;
      // The hosts whose inventory shows a port of the VNI to op.host.
      for (const h of hosts) {
        if (h.name === op.host) continue;
        const ports = (h.inventory.net?.bridges ?? []).flatMap((b) => b.ports.filter((p) => p.vxlan?.vni === vni && p.vxlan.remote === remoteIp).map((p) => ({ b, p })));
        if (ports.length) requests.push({ host: h.name, params: { bridge: ports[0]!.b.name, vlan: ports[0]!.p.vlan ?? r.vlan, vni, remoteIp } });
      }
    }
    if (!requests.length) return null;
    return {
      method: "net.releaseTunnel",
      label: "Release peers' tunnels",
      detail: `remove the VXLAN ports to ${op.host} on ${[...new Set(requests.map((r) => r.host))].join(", ")}`,
      requests,
      problem: null,
    };
  }
  return null;
}

/** The step as the operation records it (appended to the agent's steps). */
export function peerStep(plan: PeerTunnelPlan, at: string): OperationStep {
  return { id: PEER_STEP_ID, label: plan.label, detail: plan.detail, state: "running", startedAt: at, finishedAt: null, log: [] };
}
