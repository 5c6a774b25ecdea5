import type { Finding } from "./findings.js";
import { mapIds, type MapFilter, type MapGraph, type MapNode, type MapOptions, type NicEdge, type TunnelEdge } from "./map-types.js";
import type { Topology, TopoHost, TopoNic, TopoPort, TopoTunnel, TopoVm } from "./model.js";
import { isTrunkLike, pushTo, sortNumbers, sortStrings } from "./vlans.js";

interface Group {
  id: string;
  parentId: string;
  host: string;
  bridge: string | null;
  vlan: number | null;
  members: { vm: TopoVm; placement: TopoNic | undefined }[];
}

/**
 * Nodes and edges for the network map. VMs are grouped per (host, bridge, VLAN) so a fleet of
 * 50 hosts and 1,000 VMs draws as a few hundred nodes; a group shows its VMs when opened (or
 * when it is small). One pass over hosts, ports, VMs and tunnels.
 */
export function mapGraph(t: Topology, options: MapOptions = {}): MapGraph {
  const filter = options.filter ?? {};
  const filtered = filter.tenant !== undefined || filter.vni !== undefined || filter.vlan !== undefined;
  const badges = badgeIndex(options.findings ?? []);
  const shown: Shown = { hosts: new Set(), bridges: new Set() };

  const groupsByHost = new Map<string, Group[]>();
  const vmMatches = vmFilter(t, filter);
  for (const h of t.hosts) {
    groupsByHost.set(h.name, groupVms(h, vmMatches, filter, shown));
    for (const b of h.bridges)
      if (!filtered || b.ports.some((p) => portMatches(p, filter))) {
        shown.bridges.add(mapIds.bridge(h.name, b.name));
        shown.hosts.add(h.name);
      }
    if (!filtered) shown.hosts.add(h.name);
  }
  const tunnelEdges = buildTunnelEdges(t, filter, badges, shown);

  const nodes: MapNode[] = [];
  const nicEdges = new Map<string, NicEdge>();
  for (const h of t.hosts) {
    if (!shown.hosts.has(h.name)) continue;
    const groups = groupsByHost.get(h.name)!;
    nodes.push({
      id: mapIds.host(h.name),
      kind: "host",
      parentId: null,
      label: h.name,
      host: h.name,
      state: h.state,
      vmCount: groups.reduce((s, g) => s + g.members.length, 0),
      findingIds: badges.host.get(h.name) ?? [],
    });
    pushBridges(nodes, h, shown.bridges, badges);
    for (const g of groups) {
      const open = g.members.length <= (options.expandUpTo ?? 3) || (options.expanded?.has(g.id) ?? false);
      pushGroup(nodes, g, open, badges);
      addNicEdges(nicEdges, g, open, shown.bridges);
    }
  }
  nodes.push(...remoteNodes(tunnelEdges));
  return { nodes, edges: [...nicEdges.values(), ...tunnelEdges] };
}

interface Shown {
  hosts: Set<string>;
  /** Bridge node ids. */
  bridges: Set<string>;
}

function vmFilter(t: Topology, filter: MapFilter): (vm: TopoVm) => boolean {
  // Under a VNI filter a tenant's VMs count even where the VNI does not reach them: that gap is the point.
  const vniOwners = new Set<string>();
  if (filter.vni !== undefined) {
    for (const x of t.tenants) if (x.vni === filter.vni) vniOwners.add(x.slug);
    for (const x of t.tunnels) if (x.vni === filter.vni) x.tenants.forEach((s) => vniOwners.add(s));
  }
  return (vm) =>
    (filter.tenant === undefined || vm.tenant === filter.tenant) &&
    (filter.vni === undefined || vm.nics.some((n) => n.vnis.includes(filter.vni!)) || (vm.tenant !== null && vniOwners.has(vm.tenant))) &&
    (filter.vlan === undefined || vm.nics.some((n) => n.vlan === filter.vlan));
}

/**
 * A host's matching VMs in groups, each VM placed by its first NIC (under a VLAN filter, its
 * first NIC on that VLAN); marks the host and every bridge the VMs plug into as shown.
 */
function groupVms(h: TopoHost, vmMatches: (vm: TopoVm) => boolean, filter: MapFilter, shown: Shown): Group[] {
  const bridgeNames = new Set(h.bridges.map((b) => b.name));
  const groups = new Map<string, Group>();
  for (const vm of h.vms) {
    if (!vmMatches(vm)) continue;
    shown.hosts.add(h.name);
    for (const n of vm.nics) if (bridgeNames.has(n.bridge)) shown.bridges.add(mapIds.bridge(h.name, n.bridge));
    const placement = (filter.vlan !== undefined ? vm.nics.find((n) => n.vlan === filter.vlan) : undefined) ?? vm.nics[0];
    const id = mapIds.group(h.name, placement?.bridge ?? null, placement?.vlan ?? null);
    let g = groups.get(id);
    if (!g) {
      const onBridge = placement && bridgeNames.has(placement.bridge);
      g = {
        id,
        parentId: onBridge ? mapIds.bridge(h.name, placement.bridge) : mapIds.host(h.name),
        host: h.name,
        bridge: placement?.bridge ?? null,
        vlan: placement?.vlan ?? null,
        members: [],
      };
      groups.set(id, g);
    }
    g.members.push({ vm, placement });
  }
  return [...groups.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** Edges for NICs beyond the one that placed each VM, merged per (source, bridge) with a count. */
function addNicEdges(edges: Map<string, NicEdge>, g: Group, open: boolean, shownBridges: ReadonlySet<string>): void {
  for (const { vm, placement } of g.members) {
    const source = open ? mapIds.vm(g.host, vm.name) : g.id;
    for (const n of vm.nics) {
      const target = mapIds.bridge(g.host, n.bridge);
      if (n === placement || !shownBridges.has(target)) continue;
      const id = `nic:${source}->${target}`;
      const e = edges.get(id);
      if (e) e.count++;
      else edges.set(id, { id, kind: "nic", source, target, count: 1 });
    }
  }
}

function remoteNodes(tunnelEdges: readonly TunnelEdge[]): MapNode[] {
  const remotes = new Map<string, string[]>();
  for (const e of tunnelEdges)
    if (e.target.startsWith("remote:")) remotes.set(e.target, sortStrings([...(remotes.get(e.target) ?? []), ...e.findingIds]));
  return [...remotes].map(([id, findingIds]) => {
    const address = id.slice("remote:".length);
    return { id, kind: "remote" as const, parentId: null, label: address, address, findingIds };
  });
}

function portMatches(p: TopoPort, f: MapFilter): boolean {
  return (
    (f.tenant === undefined || p.tenants.includes(f.tenant)) &&
    (f.vni === undefined || p.vxlan?.vni === f.vni) &&
    (f.vlan === undefined || p.vlan === f.vlan || (isTrunkLike(p) && p.trunks.includes(f.vlan)))
  );
}

const tunnelMatches = (x: TopoTunnel, f: MapFilter) =>
  (f.tenant === undefined || x.tenants.includes(f.tenant)) &&
  (f.vni === undefined || x.vni === f.vni) &&
  (f.vlan === undefined || x.vlan === f.vlan);

function pushBridges(nodes: MapNode[], h: TopoHost, shown: ReadonlySet<string>, badges: BadgeIndex): void {
  const nicVlans = new Map<string, number[]>();
  for (const vm of h.vms) for (const n of vm.nics) if (n.vlan !== null) pushTo(nicVlans, n.bridge, n.vlan);
  for (const b of h.bridges) {
    const id = mapIds.bridge(h.name, b.name);
    if (!shown.has(id)) continue;
    const vlans = b.ports.flatMap((p) => (p.vlan !== null && !isTrunkLike(p) ? [p.vlan] : []));
    vlans.push(...(nicVlans.get(b.name) ?? []));
    nodes.push({
      id,
      kind: "bridge",
      parentId: mapIds.host(h.name),
      label: b.name,
      host: h.name,
      bridge: b.name,
      bridgeType: b.type,
      mtu: b.mtu,
      vlans: sortNumbers(vlans),
      vnis: sortNumbers(b.ports.flatMap((p) => (p.vxlan ? [p.vxlan.vni] : []))),
      findingIds: sortStrings(b.ports.flatMap((p) => badges.port.get(p.id) ?? [])),
    });
  }
}

function pushGroup(nodes: MapNode[], g: Group, open: boolean, badges: BadgeIndex): void {
  const vmFindings = (vm: TopoVm) => (badges.vm.get(vm.name) ?? []).filter((b) => !b.hosts || b.hosts.includes(vm.host)).map((b) => b.id);
  const count = g.members.length;
  nodes.push({
    id: g.id,
    kind: "vm-group",
    parentId: g.parentId,
    label: `${g.bridge === null ? "no NIC" : g.vlan === null ? "untagged" : `VLAN ${g.vlan}`} · ${count} VM${count === 1 ? "" : "s"}`,
    host: g.host,
    bridge: g.bridge,
    vlan: g.vlan,
    vmCount: count,
    tenants: sortStrings(g.members.flatMap((m) => (m.vm.tenant ? [m.vm.tenant] : []))),
    vnis: sortNumbers(g.members.flatMap((m) => m.placement?.vnis ?? [])),
    expanded: open,
    findingIds: sortStrings(g.members.flatMap((m) => vmFindings(m.vm))),
  });
  if (!open) return;
  for (const { vm, placement } of g.members)
    nodes.push({
      id: mapIds.vm(vm.host, vm.name),
      kind: "vm",
      parentId: g.id,
      label: vm.name,
      host: vm.host,
      vm: vm.name,
      tenant: vm.tenant,
      state: vm.state,
      vlan: placement?.vlan ?? null,
      vnis: placement?.vnis ?? [],
      findingIds: vmFindings(vm),
    });
}

/**
 * One edge per VNI and pair of endpoints, both directions merged. The target is the peer's
 * bridge that holds the VNI (preferring the port pointing back), else the peer host, else a
 * remote node for an address no host owns. Endpoints without a single remote draw no edge.
 * Keys are nested maps over strings the inventory already holds, not built strings: a 50-host
 * full mesh has thousands of tunnels.
 */
function buildTunnelEdges(
  t: Topology,
  filter: MapFilter,
  badges: BadgeIndex,
  shown: Shown,
): TunnelEdge[] {
  const bridgeNode = nested<string, string, string>();
  const bridgeNodeId = (host: string, bridge: string) => bridgeNode.get(host, bridge) ?? bridgeNode.set(host, bridge, mapIds.bridge(host, bridge));
  // host -> VNI -> remote host -> the bridge of that host's port for the VNI towards it.
  const peerBridge = new Map<string, Map<number, Map<string | null, string>>>();
  for (const x of t.tunnels) {
    let byVni = peerBridge.get(x.from);
    if (!byVni) peerBridge.set(x.from, (byVni = new Map()));
    let byRemote = byVni.get(x.vni);
    if (!byRemote) byVni.set(x.vni, (byRemote = new Map()));
    if (!byRemote.has(x.to)) byRemote.set(x.to, x.bridge);
  }
  const edges: TunnelEdge[] = [];
  const byEnds = new Map<number, ReturnType<typeof nested<string, string, TunnelEdge>>>();
  for (const x of t.tunnels) {
    if (x.remote === null || !tunnelMatches(x, filter)) continue;
    const source = bridgeNodeId(x.from, x.bridge);
    shown.hosts.add(x.from);
    shown.bridges.add(source);
    let target: string;
    if (x.to) {
      const peers = peerBridge.get(x.to)?.get(x.vni);
      const peer = peers?.get(x.from) ?? (peers ? peers.values().next().value : undefined);
      target = peer ? bridgeNodeId(x.to, peer) : mapIds.host(x.to);
      shown.hosts.add(x.to);
      if (peer) shown.bridges.add(target);
    } else target = mapIds.remote(x.remote);
    const [a, b] = source < target ? [source, target] : [target, source];
    let pairs = byEnds.get(x.vni);
    if (!pairs) byEnds.set(x.vni, (pairs = nested()));
    const e = pairs.get(a, b);
    if (!e) {
      const edge: TunnelEdge = { id: `tunnel:${x.vni}:${a}~${b}`, kind: "tunnel", source, target, vni: x.vni, tenants: [...x.tenants], bidirectional: false, up: x.up, ports: [x.id], findingIds: [] };
      pairs.set(a, b, edge);
      edges.push(edge);
      continue;
    }
    if (e.source !== source) e.bidirectional = true;
    e.up &&= x.up;
    e.ports.push(x.id);
    if (x.tenants.some((s) => !e.tenants.includes(s))) e.tenants = sortStrings([...e.tenants, ...x.tenants]);
  }
  // A missing direction shows as bidirectional: false; the mesh finding itself badges the hosts.
  for (const e of edges) {
    if (badges.port.size) e.findingIds = sortStrings(e.ports.flatMap((p) => badges.port.get(p) ?? []));
  }
  return edges;
}

/** A two-level map with a flat get/set. */
function nested<K1, K2, V>() {
  const outer = new Map<K1, Map<K2, V>>();
  return {
    get: (a: K1, b: K2) => outer.get(a)?.get(b),
    set(a: K1, b: K2, v: V): V {
      let inner = outer.get(a);
      if (!inner) outer.set(a, (inner = new Map()));
      inner.set(b, v);
      return v;
    },
  };
}

interface BadgeIndex {
  host: Map<string, string[]>;
  port: Map<string, string[]>;
  vm: Map<string, { id: string; hosts: string[] | undefined }[]>;
}

function badgeIndex(findings: readonly Finding[]): BadgeIndex {
  const ix: BadgeIndex = { host: new Map(), port: new Map(), vm: new Map() };
  for (const f of findings) {
    for (const h of f.objects.hosts ?? []) pushTo(ix.host, h, f.id);
    for (const p of f.objects.ports ?? []) pushTo(ix.port, p, f.id);
    for (const v of f.objects.vms ?? []) pushTo(ix.vm, v, { id: f.id, hosts: f.objects.hosts });
  }
  return ix;
}
