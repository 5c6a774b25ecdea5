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
  /** `vni|from|to` for every tunnel that is up and reaches a known host. */
  links: Set<string>;
  /** `vni|host` where an up endpoint has no single remote (multicast/flow): it reaches every peer. */
  floodEndpoints: Set<string>;
  vnis: number[];
}

export function indexTopology(t: Topology): TopologyIndex {
  const hosts = new Map(t.hosts.map((h) => [h.name, h]));
  const vniHosts = new Map<number, Set<string>>();
  const configuredOwners = new Map<number, Set<string>>();
  const owners = new Map<number, string[]>();
  const tenantHosts = new Map<string, Set<string>>();
  for (const tenant of t.tenants) if (tenant.vni !== null) addTo(configuredOwners, tenant.vni, tenant.slug);
  for (const [vni, slugs] of configuredOwners) owners.set(vni, sortStrings(slugs));

  for (const h of t.hosts) {
    if (!h.netKnown) continue;
    for (const p of vxlanPorts(h)) {
      addTo(vniHosts, p.vxlan!.vni, h.name);
      if (!owners.has(p.vxlan!.vni)) owners.set(p.vxlan!.vni, p.tenants);
    }
    for (const vm of h.vms) if (vm.tenant && vm.active && vm.nics.length) addTo(tenantHosts, vm.tenant, h.name);
  }

  const links = new Set<string>();
  const floodEndpoints = new Set<string>();
  for (const tun of t.tunnels) {
    if (!tun.up) continue;
    if (tun.to) links.add(`${tun.vni}|${tun.from}|${tun.to}`);
    else if (tun.remote === null) floodEndpoints.add(`${tun.vni}|${tun.from}`);
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
    vnis: sortNumbers([...vniHosts.keys(), ...configuredOwners.keys()]),
  };
}

export function vxlanPorts(h: TopoHost): TopoPort[] {
  return h.bridges.flatMap((b) => b.ports.filter((p) => p.vxlan !== null));
}

export const allPorts = (t: Topology): TopoPort[] => t.hosts.flatMap((h) => h.bridges.flatMap((b) => b.ports));
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
  for (const from of participants) {
    if (ix.floodEndpoints.has(`${vni}|${from}`)) continue;
    for (const to of participants) if (from !== to && !ix.links.has(`${vni}|${from}|${to}`)) missing.push({ from, to });
  }
  return { vni, participants, missing, complete: missing.length === 0 };
}
