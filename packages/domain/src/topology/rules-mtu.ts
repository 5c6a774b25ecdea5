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
 * (the pessimistic guess when the route is not visible in the inventory).
 */
export function underlayOf(h: TopoHost, local: string | null, remote: string | null): TopoInterface | null {
  const addressed = h.interfaces.filter(
    (i) => i.up && i.kind !== "loopback" && i.kind !== "vxlan" && i.kind !== "tap" && i.addresses.some((a) => !isLocalOnly(bareAddress(a))),
  );
  const byLocal = local ? addressed.find((i) => i.addresses.some((a) => bareAddress(a) === bareAddress(local))) : undefined;
  const bySubnet = remote ? addressed.find((i) => i.addresses.some((a) => inSubnet(remote, a))) : undefined;
  const chosen = byLocal ?? bySubnet;
  if (chosen) return chosen.mtu === null ? null : chosen;
  return addressed.filter((i) => i.mtu !== null).sort((a, b) => a.mtu! - b.mtu!)[0] ?? null;
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
    for (const b of h.bridges) {
      const inner = innerMtu(b);
      if (inner === null) continue;
      const tooSmall = new Map<number, { port: TopoPort; underlay: TopoInterface }[]>();
      for (const p of b.ports) {
        if (!p.vxlan) continue;
        const underlay = underlayOf(h, p.vxlan.local, p.vxlan.remote);
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
