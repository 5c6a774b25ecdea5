import { indexTopology, meshState } from "./analysis.js";
import type { Topology, TopoHost } from "./model.js";
import { addTo, carriesVlan, isTrunkLike, pushTo, sortNumbers, sortStrings } from "./vlans.js";

/** Cluster tables of the network page. Each is computed from a topology, so a scoped topology gives scoped tables. */

export interface VlanHostRow {
  host: string;
  bridges: string[];
  /** A VM NIC, access port or VXLAN port uses the VLAN on this host. */
  present: boolean;
  /** A trunk/uplink of the host carries it (by name, or as an all-VLAN trunk where the VLAN is present). */
  carried: boolean;
  /** Trunk/uplink ports (ids) that carry it. */
  trunkPorts: string[];
  /** VNIs the VLAN is bridged into on this host. */
  vnis: number[];
  vms: string[];
  /** Tenants of VMs on it and owners of the VNIs it is bridged into. */
  tenants: string[];
}

export interface VlanRow {
  vlan: number;
  hosts: VlanHostRow[];
  vms: { name: string; host: string; tenant: string | null }[];
  tenants: string[];
}

export function vlanTable(t: Topology): VlanRow[] {
  const ix = indexTopology(t);
  const rows = new Map<number, VlanHostRow[]>();
  const vms = new Map<number, VlanRow["vms"]>();
  for (const h of t.hosts) {
    for (const [vlan, row] of vlanRowsOfHost(h, (vni) => ix.owners.get(vni) ?? [])) pushTo(rows, vlan, row);
    for (const vm of h.vms)
      for (const vlan of new Set(vm.nics.flatMap((n) => (n.vlan === null ? [] : [n.vlan])))) pushTo(vms, vlan, { name: vm.name, host: h.name, tenant: vm.tenant });
  }
  return sortNumbers(rows.keys()).map((vlan) => {
    const hosts = rows.get(vlan)!;
    return { vlan, hosts, vms: vms.get(vlan) ?? [], tenants: sortStrings(hosts.flatMap((r) => r.tenants)) };
  });
}

function vlanRowsOfHost(h: TopoHost, ownersOf: (vni: number) => readonly string[]): Map<number, VlanHostRow> {
  const rows = new Map<number, VlanHostRow>();
  /** `vlan|bridge` where the VLAN is in use: an all-VLAN trunk carries it only there. */
  const inUse = new Set<string>();
  const row = (vlan: number) => {
    let r = rows.get(vlan);
    if (!r) rows.set(vlan, (r = { host: h.name, bridges: [], present: false, carried: false, trunkPorts: [], vnis: [], vms: [], tenants: [] }));
    return r;
  };
  for (const b of h.bridges)
    for (const p of b.ports) {
      if (p.vlan !== null && !isTrunkLike(p)) {
        const r = row(p.vlan);
        r.present = true;
        r.bridges.push(b.name);
        inUse.add(`${p.vlan}|${b.name}`);
        if (p.vxlan) {
          r.vnis.push(p.vxlan.vni);
          r.tenants.push(...ownersOf(p.vxlan.vni));
        }
      }
      if (isTrunkLike(p)) for (const vlan of p.trunks) row(vlan).bridges.push(b.name);
    }
  for (const vm of h.vms)
    for (const n of vm.nics) {
      if (n.vlan === null) continue;
      const r = row(n.vlan);
      r.present = true;
      r.bridges.push(n.bridge);
      inUse.add(`${n.vlan}|${n.bridge}`);
      r.vms.push(vm.name);
      if (vm.tenant) r.tenants.push(vm.tenant);
    }
  const trunks = h.bridges.flatMap((b) => b.ports.filter(isTrunkLike));
  for (const [vlan, r] of rows) {
    // An all-VLAN trunk only counts on a bridge where the VLAN is in use: it lists nothing itself.
    r.trunkPorts = trunks
      .filter((p) => (p.trunks.length || inUse.has(`${vlan}|${p.bridge}`)) && carriesVlan(p, vlan))
      .map((p) => p.id)
      .sort();
    r.carried = r.trunkPorts.length > 0;
    r.bridges = sortStrings(r.bridges);
    r.vnis = sortNumbers(r.vnis);
    r.vms = sortStrings(r.vms);
    r.tenants = sortStrings(r.tenants);
  }
  return rows;
}

export interface VniHostRow {
  host: string;
  /** VXLAN port ids for the VNI on this host. */
  ports: string[];
  /** Local VLANs bridged into the VNI. */
  vlans: number[];
  remotes: { remote: string | null; host: string | null; up: boolean; dstPort: number }[];
}

export interface VniRow {
  vni: number;
  /** Configured tenants plus tenants whose VMs sit in the VNI's segments. */
  tenants: string[];
  hosts: VniHostRow[];
  /** Hosts that must be meshed: those with the VNI or active VMs of its tenant(s). */
  participants: string[];
  meshComplete: boolean;
  /** The first missing directions; `missingCount` counts them all. */
  missing: { from: string; to: string }[];
  missingCount: number;
}

export function vniTable(t: Topology): VniRow[] {
  const ix = indexTopology(t);
  const hostRows = new Map<number, VniHostRow[]>();
  const users = new Map<number, Set<string>>();
  for (const [vni, owners] of ix.configuredOwners) for (const o of owners) addTo(users, vni, o);
  for (const h of t.hosts) {
    const byVni = new Map<number, VniHostRow>();
    for (const p of ix.vxlanPorts.get(h.name) ?? []) {
      const x = p.vxlan!;
      let r = byVni.get(x.vni);
      if (!r) byVni.set(x.vni, (r = { host: h.name, ports: [], vlans: [], remotes: [] }));
      r.ports.push(p.id);
      if (p.vlan !== null && !r.vlans.includes(p.vlan)) r.vlans.push(p.vlan);
      r.remotes.push({ remote: x.remote, host: x.remoteHost, up: p.up, dstPort: x.dstPort });
    }
    for (const [vni, r] of byVni) pushTo(hostRows, vni, { ...r, vlans: sortNumbers(r.vlans) });
    for (const vm of h.vms) if (vm.tenant) for (const n of vm.nics) for (const vni of n.vnis) addTo(users, vni, vm.tenant);
  }
  return sortNumbers([...ix.vnis, ...hostRows.keys()]).map((vni) => {
    const mesh = meshState(ix, vni);
    return {
      vni,
      tenants: sortStrings(users.get(vni) ?? []),
      hosts: hostRows.get(vni) ?? [],
      participants: mesh.participants,
      meshComplete: mesh.complete,
      missing: mesh.missing,
      missingCount: mesh.missingCount,
    };
  });
}

export interface TenantHostRow {
  host: string;
  vniPresent: boolean;
  vlans: number[];
  vms: { name: string; state: string; vlans: number[]; bridges: string[] }[];
}

export interface TenantRow {
  tenant: string;
  name: string;
  vni: number | null;
  vlans: number[];
  hosts: TenantHostRow[];
}

/** Tenant -> VNI/VLANs -> hosts -> VMs. Tenants only known from VM labels are listed too, under their slug. */
export function tenantTable(t: Topology): TenantRow[] {
  const ix = indexTopology(t);
  const known = new Map(t.tenants.map((x) => [x.slug, x]));
  const slugs = sortStrings([...known.keys(), ...t.hosts.flatMap((h) => h.vms.flatMap((v) => (v.tenant ? [v.tenant] : [])))]);
  return slugs.map((slug) => {
    const info = known.get(slug);
    const vni = info?.vni ?? null;
    const hosts = t.hosts.flatMap((h): TenantHostRow[] => {
      const vms = h.vms.filter((v) => v.tenant === slug);
      const ports = vni === null ? [] : (ix.vxlanPorts.get(h.name) ?? []).filter((p) => p.vxlan!.vni === vni);
      if (!vms.length && !ports.length) return [];
      const vmRows = vms.map((v) => ({
        name: v.name,
        state: v.state,
        vlans: sortNumbers(v.nics.flatMap((n) => (n.vlan === null ? [] : [n.vlan]))),
        bridges: sortStrings(v.nics.map((n) => n.bridge)),
      }));
      const vlans = sortNumbers([...vmRows.flatMap((r) => r.vlans), ...ports.flatMap((p) => (p.vlan === null ? [] : [p.vlan]))]);
      return [{ host: h.name, vniPresent: ports.length > 0, vlans, vms: vmRows }];
    });
    return { tenant: slug, name: info?.name ?? slug, vni, vlans: sortNumbers(hosts.flatMap((r) => r.vlans)), hosts };
  });
}
