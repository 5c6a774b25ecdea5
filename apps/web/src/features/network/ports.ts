import type { BridgePort, HostNetworkView } from "@nimbus/domain";

/** What a port carries, in one line: "VLAN 10", "VLANs 10, 20", "VNI 10010 → 10.0.0.12:4789". */
export function portConfig(p: BridgePort): string {
  switch (p.mode) {
    case "access":
      return p.vlan !== null ? `access VLAN ${p.vlan}` : "access, untagged";
    case "trunk":
    case "uplink":
      return p.trunks.length ? `trunk VLANs ${p.trunks.join(", ")}` : p.mode === "uplink" ? "uplink, all VLANs" : "trunk, all VLANs";
    case "vxlan":
      return p.vxlan ? `VNI ${p.vxlan.vni} → ${p.vxlan.remote ?? "multicast"}:${p.vxlan.dstPort}` : "VXLAN";
    case "vm":
      return p.vlan !== null ? `VLAN ${p.vlan}` : "untagged";
    case "internal":
      return p.vlan !== null ? `internal, VLAN ${p.vlan}` : "internal";
  }
}

export interface TunnelEndpoint {
  host: string;
  port: string;
  local: string | null;
  remote: string | null;
  dstPort: number;
  up: boolean;
  mtu: number | null;
}

export interface VniRow {
  vni: number;
  hosts: string[];
  endpoints: TunnelEndpoint[];
  /** Directions with no tunnel, "kvm2 → kvm1"; null when local addresses are unknown. */
  missing: string[] | null;
}

/**
 * VXLAN tunnels grouped per VNI across hosts, with the directions of the mesh that have no
 * tunnel. A full mesh needs, for every pair of hosts carrying the VNI, a tunnel each way.
 */
export function tunnelsByVni(views: readonly HostNetworkView[]): VniRow[] {
  const rows = new Map<number, TunnelEndpoint[]>();
  for (const view of views)
    for (const bridge of view.bridges)
      for (const p of bridge.ports) {
        if (!p.vxlan) continue;
        const list = rows.get(p.vxlan.vni) ?? [];
        list.push({ host: view.host, port: p.name, local: p.vxlan.local, remote: p.vxlan.remote, dstPort: p.vxlan.dstPort, up: p.up, mtu: p.mtu });
        rows.set(p.vxlan.vni, list);
      }
  return [...rows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([vni, endpoints]) => {
      const hosts = [...new Set(endpoints.map((e) => e.host))].sort();
      const localOf = new Map(endpoints.filter((e) => e.local).map((e) => [e.host, e.local!]));
      const known = hosts.every((h) => localOf.has(h));
      const missing = known
        ? hosts.flatMap((a) =>
            hosts.filter((b) => b !== a && !endpoints.some((e) => e.host === a && e.remote === localOf.get(b))).map((b) => `${a} → ${b}`),
          )
        : null;
      return { vni, hosts, endpoints, missing };
    });
}
