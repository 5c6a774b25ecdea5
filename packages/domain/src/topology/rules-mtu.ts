import { bareAddress, inSubnet, isLocalOnly } from "./addresses.js";
import type { TopologyIndex } from "./analysis.js";
import { findingId, type Finding } from "./findings.js";
import type { TopoBridge, TopoHost, TopoInterface, TopoPort } from "./model.js";
import { isTrunkLike, pushTo, sortStrings } from "./vlans.js";

/** Outer IPv4 + UDP + VXLAN + inner Ethernet headers. */
export const VXLAN_OVERHEAD = 50;

/**
 * The interface encapsulated packets leave through: the one holding the tunnel's local address,
 * else the one whose subnet holds the remote, else the smallest MTU among addressed interfaces
 * (the pessimistic guess when the route is not visible in the inventory). Built once per host:
 * a host can hold thousands of tunnel ports.
 */
export function underlayResolver(h: TopoHost): (local: string | null, remote: string | null) => TopoInterface | null {
  const addressed = h.interfaces
    .filter((i) => i.up && i.kind !== "loopback" && i.kind !== "vxlan" && i.kind !== "tap")
    .map((i) => ({ iface: i, cidrs: i.addresses.filter((a) => !isLocalOnly(bareAddress(a))) }))
    .filter((x) => x.cidrs.length);
  const byAddress = new Map<string, TopoInterface>();
  for (const x of addressed) for (const a of x.cidrs) if (!byAddress.has(bareAddress(a))) byAddress.set(bareAddress(a), x.iface);
  const fallback = addressed.filter((x) => x.iface.mtu !== null).sort((a, b) => a.iface.mtu! - b.iface.mtu!)[0]?.iface ?? null;
  const known = (i: TopoInterface) => (i.mtu === null ? null : i);
  // One host's tunnels share a few dozen remotes across all VNIs: resolve each once.
  const byRemote = new Map<string, TopoInterface | undefined>();
  const subnetOf = (remote: string) => {
    if (!byRemote.has(remote)) byRemote.set(remote, addressed.find((x) => x.cidrs.some((c) => inSubnet(remote, c)))?.iface);
    return byRemote.get(remote);
  };
  return (local, remote) => {
    const byLocal = local ? byAddress.get(bareAddress(local)) : undefined;
    if (byLocal) return known(byLocal);
    const bySubnet = remote ? subnetOf(remote) : undefined;
    return bySubnet ? known(bySubnet) : fallback;
  };
}

/** Largest frame the bridge hands to its VXLAN ports: the bridge's MTU or a VM-facing port's, whichever is larger. */
export function innerMtu(b: TopoBridge): number | null {
  const known = [b.mtu, ...b.ports.filter((p) => !p.vxlan && !isTrunkLike(p)).map((p) => p.mtu)].filter((m): m is number => m !== null);
  return known.length ? Math.max(...known) : null;
}

/** Encapsulated frames do not fit the underlay: large packets of the VNI are dropped. One finding per host, bridge and VNI. */
export function mtuTooSmall(ix: TopologyIndex): Finding[] {
  const out: Finding[] = [];
  for (const h of ix.topology.hosts) {
    if (!h.netKnown) continue;
    const underlayFor = underlayResolver(h);
    for (const b of h.bridges) {
      const inner = innerMtu(b);
      if (inner === null) continue;
      const tooSmall = new Map<number, { port: TopoPort; underlay: TopoInterface }[]>();
      for (const p of b.ports) {
        if (!p.vxlan) continue;
        const underlay = underlayFor(p.vxlan.local, p.vxlan.remote);
        if (underlay && underlay.mtu! < inner + VXLAN_OVERHEAD) pushTo(tooSmall, p.vxlan.vni, { port: p, underlay });
      }
      for (const [vni, hits] of tooSmall) {
        const worst = hits.reduce((a, c) => (c.underlay.mtu! < a.underlay.mtu! ? c : a));
        out.push({
          id: findingId("mtu-too-small", h.name, b.name, vni),
          kind: "mtu-too-small",
          severity: "warn",
          message:
            `VNI ${vni} on ${h.name}: ${b.name} passes ${inner}-byte frames, VXLAN needs ${inner + VXLAN_OVERHEAD} ` +
            `but underlay ${worst.underlay.name} has MTU ${worst.underlay.mtu}`,
          objects: { hosts: [h.name], ports: sortStrings(hits.map((x) => x.port.id)), vni, tenants: [...worst.port.tenants] },
        });
      }
    }
  }
  return out;
}
