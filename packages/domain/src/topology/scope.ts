import type { Viewer } from "../access.js";
import type { Finding } from "./findings.js";
import type { Topology, TopoBridge, TopoHost, TopoPort } from "./model.js";
import { carriesVlan, isTrunkLike, sortNumbers } from "./vlans.js";

/**
 * The part of the network a tenant may see: their VMs, their VNI and VLANs, and the hosts,
 * bridges and ports that carry them. Nothing of any other tenant survives, not even as a count:
 * other VMs and ports are dropped (not blanked), trunks list only the tenant's VLANs, and host
 * interface lists (which name other tenants' VXLAN devices) are left out. Nor does a tenant
 * learn where the infrastructure lives: host, underlay and tunnel endpoint addresses are blanked.
 */
export function scopeTopology(t: Topology, tenant: string): Topology {
  const vnis = new Set<number>();
  for (const x of t.tenants) if (x.slug === tenant && x.vni !== null) vnis.add(x.vni);
  for (const tun of t.tunnels) if (tun.tenants.includes(tenant)) vnis.add(tun.vni);
  const hosts = t.hosts.flatMap((h) => scopeHost(h, tenant, vnis));
  return {
    scope: tenant,
    hosts,
    tunnels: t.tunnels.filter((x) => vnis.has(x.vni) && x.tenants.includes(tenant)).map((x) => ({ ...x, local: null, remote: peerOf(x.remote, x.to), tenants: [tenant] })),
    tenants: t.tenants.filter((x) => x.slug === tenant).map((x) => ({ ...x })),
  };
}

/** Where a tunnel of a tenant leads, without its address: the peer host, or outside the fleet. */
export const OUTSIDE_THE_FLEET = "outside the fleet";
const peerOf = (remote: string | null, host: string | null) => (remote === null ? null : (host ?? OUTSIDE_THE_FLEET));

function scopeHost(h: TopoHost, tenant: string, vnis: ReadonlySet<number>): TopoHost[] {
  const vms = h.vms
    .filter((v) => v.tenant === tenant)
    .map((v) => ({ ...v, nics: v.nics.map((n) => ({ ...n, vnis: n.vnis.filter((x) => vnis.has(x)), ipAddresses: [...n.ipAddresses] })) }));
  const bridges = h.bridges.flatMap((b) => scopeBridge(b, tenant, vnis, vms.flatMap((v) => v.nics.filter((n) => n.bridge === b.name))));
  if (!vms.length && !bridges.length) return [];
  const kept = new Set(bridges.flatMap((b) => b.ports.map((p) => p.id)));
  for (const v of vms) for (const n of v.nics) if (n.portId && !kept.has(n.portId)) n.portId = null;
  return [{ ...h, address: "", underlay: [], interfaces: [], bridges, vms }];
}

function scopeBridge(b: TopoBridge, tenant: string, vnis: ReadonlySet<number>, nics: readonly { vlan: number | null }[]): TopoBridge[] {
  const own = b.ports
    .filter((p) => p.tenants.includes(tenant) && (!p.vxlan || vnis.has(p.vxlan.vni)))
    .map((p): TopoPort => ({ ...p, trunks: [...p.trunks], vxlan: p.vxlan && { ...p.vxlan, local: null, remote: peerOf(p.vxlan.remote, p.vxlan.remoteHost) }, nic: p.nic && { ...p.nic }, tenants: [tenant] }));
  const segments = new Set<number | null>([...own.map((p) => p.vlan), ...nics.map((n) => n.vlan)]);
  if (!own.length && !nics.length) return [];
  const trunks = b.ports.flatMap((p): TopoPort[] => {
    if (!isTrunkLike(p)) return [];
    const carried = [...segments].filter((s) => carriesVlan(p, s));
    if (!carried.length) return [];
    const mine = sortNumbers(carried.filter((s): s is number => s !== null));
    return [{ ...p, vlan: p.vlan !== null && mine.includes(p.vlan) ? p.vlan : null, trunks: mine, vxlan: null, nic: null, tenants: [] }];
  });
  return [{ ...b, ports: [...own, ...trunks] }];
}

/**
 * Findings a scoped topology may show: those about its tenant alone whose every object is in
 * the scoped topology. A finding naming two tenants (a shared VNI, a reused VLAN) or none (an
 * orphan port) is staff-only: telling a tenant would reveal that someone else exists.
 */
export function scopeFindings(findings: readonly Finding[], scoped: Topology): Finding[] {
  const tenant = scoped.scope;
  if (tenant === null) return [...findings];
  const hosts = new Set(scoped.hosts.map((h) => h.name));
  const vms = new Set(scoped.hosts.flatMap((h) => h.vms.map((v) => v.name)));
  const ports = new Set(scoped.hosts.flatMap((h) => h.bridges.flatMap((b) => b.ports.map((p) => p.id))));
  const vnis = new Set([...scoped.tunnels.map((x) => x.vni), ...scoped.tenants.flatMap((x) => (x.vni === null ? [] : [x.vni]))]);
  const vlans = new Set(
    scoped.hosts.flatMap((h) => [
      ...h.bridges.flatMap((b) => b.ports.flatMap((p) => [...p.trunks, ...(p.vlan === null ? [] : [p.vlan])])),
      ...h.vms.flatMap((v) => v.nics.flatMap((n) => (n.vlan === null ? [] : [n.vlan]))),
    ]),
  );
  const within = <T>(items: readonly T[] | undefined, set: ReadonlySet<T>) => (items ?? []).every((i) => set.has(i));
  return findings.filter(
    (f) =>
      !!f.objects.tenants?.length &&
      f.objects.tenants.every((x) => x === tenant) &&
      within(f.objects.hosts, hosts) &&
      within(f.objects.vms, vms) &&
      within(f.objects.ports, ports) &&
      (f.objects.vni === undefined || vnis.has(f.objects.vni)) &&
      (f.objects.vlan === undefined || vlans.has(f.objects.vlan)),
  );
}

const emptyScope = (tenant: string): Topology => ({ scope: tenant, hosts: [], tunnels: [], tenants: [] });

/** Staff see the whole topology; a tenant member their own part; a tenant role without a tenant nothing. */
export function visibleTopology(viewer: Pick<Viewer, "role" | "tenant">, t: Topology): Topology {
  if (viewer.role !== "tenant") return t;
  return viewer.tenant === null ? emptyScope("") : scopeTopology(t, viewer.tenant);
}
