import type { Topology, TopoHost, TopoPort, TopoVm } from "./model.js";
import { addTo, sortNumbers, sortStrings } from "./vlans.js";

/**
 * Lookups the findings and tables share, built once per topology in one pass. Only hosts whose
 * network is known count as having (or lacking) a VNI.
 */
export interface TopologyIndex {
  topology: Topology;
  hosts: Map<string, TopoHost>;
  /** VNI -> hosts with a VXLAN port for it. */
  vniHosts: Map<number, Set<string>>;
  /** VNI -> tenants configured for it (TenantInfo.vni). */
  configuredOwners: Map<number, Set<string>>;
  /** VNI -> owners: the configured tenants, else the tenants of VMs in its segments. */
  owners: Map<number, string[]>;
  /** Tenant -> hosts (network known) where it has active VMs with at least one NIC. */
  tenantHosts: Map<string, Set<string>>;
  /** VNI -> from host -> hosts it has an up tunnel to. */
  links: Map<number, Map<string, Set<string>>>;
  /** VNI -> hosts with an up endpoint that has no single remote (multicast/flow): it reaches every peer. */
  floodEndpoints: Map<number, Set<string>>;
  /** Host -> its VXLAN ports. */
  vxlanPorts: Map<string, TopoPort[]>;
  vnis: number[];
}

const cache = new WeakMap<Topology, TopologyIndex>();

/**
 * Indexes a topology once; findings and every table share the result. A topology is never
 * edited after it is built (a new inventory gives a new topology), so caching by identity is safe.
 */
export function indexTopology(t: Topology): TopologyIndex {
  let ix = cache.get(t);
  if (!ix) cache.set(t, (ix = buildIndex(t)));
  return ix;
}

function buildIndex(t: Topology): TopologyIndex {
  const hosts = new Map(t.hosts.map((h) => [h.name, h]));
  const vniHosts = new Map<number, Set<string>>();
  const configuredOwners = new Map<number, Set<string>>();
  const owners = new Map<number, string[]>();
  const tenantHosts = new Map<string, Set<string>>();
  for (const tenant of t.tenants) if (tenant.vni !== null) addTo(configuredOwners, tenant.vni, tenant.slug);
  for (const [vni, slugs] of configuredOwners) owners.set(vni, sortStrings(slugs));

  const vxlan = new Map<string, TopoPort[]>();
  for (const h of t.hosts) {
    const ports = vxlanPorts(h);
    vxlan.set(h.name, ports);
    if (!h.netKnown) continue;
    for (const p of ports) {
      addTo(vniHosts, p.vxlan!.vni, h.name);
      if (!owners.has(p.vxlan!.vni)) owners.set(p.vxlan!.vni, p.tenants);
    }
    for (const vm of h.vms) if (vm.tenant && vm.active && vm.nics.length) addTo(tenantHosts, vm.tenant, h.name);
  }

  const links = new Map<number, Map<string, Set<string>>>();
  const floodEndpoints = new Map<number, Set<string>>();
  for (const tun of t.tunnels) {
    if (!tun.up) continue;
    if (tun.to) {
      let byFrom = links.get(tun.vni);
      if (!byFrom) links.set(tun.vni, (byFrom = new Map()));
      addTo(byFrom, tun.from, tun.to);
    } else if (tun.remote === null) addTo(floodEndpoints, tun.vni, tun.from);
  }
  return {
    topology: t,
    hosts,
    vniHosts,
    configuredOwners,
    owners,
    tenantHosts,
    links,
    floodEndpoints,
    vxlanPorts: vxlan,
    vnis: sortNumbers([...vniHosts.keys(), ...configuredOwners.keys()]),
  };
}

export function vxlanPorts(h: TopoHost): TopoPort[] {
  return h.bridges.flatMap((b) => b.ports.filter((p) => p.vxlan !== null));
}

export const allVms = (t: Topology): TopoVm[] => t.hosts.flatMap((h) => h.vms);

export interface MeshState {
  vni: number;
  /** Hosts that have the VNI or active VMs of its tenant(s). */
  participants: string[];
  /** Directions with no working tunnel, in host order. */
  missing: { from: string; to: string }[];
  complete: boolean;
}

/**
 * A VNI's mesh is complete when every participant has an up tunnel to every other one. An
 * endpoint without a single remote (multicast/flow) is taken to reach every peer: its reach is
 * not visible from the inventory, so it is not reported missing.
 */
export function meshState(ix: TopologyIndex, vni: number): MeshState {
  const members = new Set(ix.vniHosts.get(vni) ?? []);
  for (const owner of ix.owners.get(vni) ?? []) for (const h of ix.tenantHosts.get(owner) ?? []) members.add(h);
  const participants = sortStrings(members);
  const missing: { from: string; to: string }[] = [];
  const flood = ix.floodEndpoints.get(vni);
  const links = ix.links.get(vni);
  for (const from of participants) {
    if (flood?.has(from)) continue;
    const reached = links?.get(from);
    for (const to of participants) if (from !== to && !reached?.has(to)) missing.push({ from, to });
  }
  return { vni, participants, missing, complete: missing.length === 0 };
}
