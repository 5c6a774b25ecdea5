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

/** How many missing directions a mesh state names; the rest are only counted. */
export const MESH_MISSING_SAMPLE = 20;

export interface MeshState {
  vni: number;
  /** Hosts that have the VNI or active VMs of its tenant(s). */
  participants: string[];
  /** Directions with no working tunnel, in host order: the first MESH_MISSING_SAMPLE of them. */
  missing: { from: string; to: string }[];
  /** All directions with no working tunnel (a ring of 2,000 hosts lacks millions). */
  missingCount: number;
  /** Hosts at either end of a missing direction, sorted. */
  brokenHosts: string[];
  complete: boolean;
}

/**
 * A VNI's mesh is complete when every participant has an up tunnel to every other one. An
 * endpoint without a single remote (multicast/flow) is taken to reach every peer: its reach is
 * not visible from the inventory, so it is not reported missing.
 *
 * Linear in participants + tunnels: missing directions are counted from each host's out- and
 * in-degree among the participants, and only a sample of them is listed by name.
 */
export function meshState(ix: TopologyIndex, vni: number): MeshState {
  const members = new Set(ix.vniHosts.get(vni) ?? []);
  for (const owner of ix.owners.get(vni) ?? []) for (const h of ix.tenantHosts.get(owner) ?? []) members.add(h);
  const participants = sortStrings(members);
  const flood = ix.floodEndpoints.get(vni);
  const links = ix.links.get(vni);
  const peers = participants.length - 1;
  const reachedFrom = (from: string) => (flood?.has(from) ? null : (links?.get(from) ?? new Set<string>()));

  // inbound[to] = linked participants that reach `to`; flood endpoints reach everyone, so they
  // are counted once instead of walking every pair.
  const floods = participants.filter((h) => flood?.has(h)).length;
  const inbound = new Map<string, number>();
  let missingCount = 0;
  const outMissing = new Map<string, number>();
  for (const from of participants) {
    const reached = reachedFrom(from);
    if (reached === null) continue;
    let out = 0;
    for (const to of reached)
      if (to !== from && members.has(to)) {
        out++;
        inbound.set(to, (inbound.get(to) ?? 0) + 1);
      }
    if (out < peers) outMissing.set(from, peers - out);
    missingCount += peers - out;
  }
  const broken = new Set(outMissing.keys());
  for (const to of participants) {
    const fromFloods = floods - (flood?.has(to) ? 1 : 0);
    if ((inbound.get(to) ?? 0) + fromFloods < peers) broken.add(to);
  }

  const missing: { from: string; to: string }[] = [];
  for (const from of participants) {
    if (missing.length >= MESH_MISSING_SAMPLE) break;
    if (!outMissing.has(from)) continue;
    const reached = reachedFrom(from)!;
    for (const to of participants) {
      if (missing.length >= MESH_MISSING_SAMPLE) break;
      if (to !== from && !reached.has(to)) missing.push({ from, to });
    }
  }
  return { vni, participants, missing, missingCount, brokenHosts: sortStrings(broken), complete: missingCount === 0 };
}
