import type { TopologyIndex } from "./analysis.js";
import { findingId, listNames, type Finding } from "./findings.js";
import type { TopoVm } from "./model.js";
import { carriesVlan, isInfrastructurePort, isTrunkLike, sortStrings } from "./vlans.js";

/**
 * An active VM's VLAN is not carried by any trunk/uplink of its bridge, so it cannot leave the
 * host. A bridge with no trunk or uplink at all is host-internal (or VXLAN-only): nothing to judge.
 * Grouped per host, bridge, VLAN and tenant, so each tenant can be shown its own finding.
 */
export function vlanNotTrunked(ix: TopologyIndex): Finding[] {
  const out: Finding[] = [];
  for (const h of ix.topology.hosts) {
    if (!h.netKnown) continue;
    const bridges = new Map(h.bridges.map((b) => [b.name, b]));
    const groups = new Map<string, { bridge: string; vlan: number; tenant: string | null; vms: TopoVm[]; ports: string[] }>();
    for (const vm of h.vms) {
      if (!vm.active) continue;
      for (const nic of vm.nics) {
        const trunks = (bridges.get(nic.bridge)?.ports ?? []).filter(isTrunkLike);
        if (nic.vlan === null || !trunks.length || trunks.some((p) => carriesVlan(p, nic.vlan))) continue;
        const key = `${nic.bridge}\0${nic.vlan}\0${vm.tenant ?? ""}`;
        const g = groups.get(key) ?? { bridge: nic.bridge, vlan: nic.vlan, tenant: vm.tenant, vms: [], ports: [] };
        groups.set(key, g);
        if (!g.vms.includes(vm)) g.vms.push(vm);
        if (nic.portId) g.ports.push(nic.portId);
      }
    }
    for (const g of groups.values()) {
      const trunkNames = bridges.get(g.bridge)!.ports.filter(isTrunkLike).map((p) => p.name);
      const vms = sortStrings(g.vms.map((v) => v.name));
      out.push({
        id: findingId("vlan-not-trunked", h.name, g.bridge, g.vlan, g.tenant ?? "-"),
        kind: "vlan-not-trunked",
        severity: "crit",
        message: `VLAN ${g.vlan} of ${listNames(vms)} on ${h.name} is not carried by ${trunkNames.length > 1 ? "trunks" : "trunk"} ${listNames(trunkNames)} of ${g.bridge}`,
        objects: { hosts: [h.name], vms, vlan: g.vlan, tenants: g.tenant ? [g.tenant] : [], ports: sortStrings(g.ports) },
      });
    }
  }
  return out;
}

/** A VM or access port with no VM behind it and no infrastructure role: left over from a deleted VM or a typo. */
export function orphanPorts(ix: TopologyIndex): Finding[] {
  const out: Finding[] = [];
  for (const h of ix.topology.hosts) {
    if (!h.netKnown) continue;
    for (const b of h.bridges)
      for (const p of b.ports) {
        if (p.nic || isInfrastructurePort(p)) continue;
        out.push({
          id: findingId("orphan-port", p.id),
          kind: "orphan-port",
          severity: "info",
          message: `Port ${p.name} on ${h.name}/${b.name} has no VM attached and is no uplink, trunk, VXLAN or internal port`,
          objects: { hosts: [h.name], ports: [p.id], ...(p.vlan !== null ? { vlan: p.vlan } : {}), tenants: [] },
        });
      }
  }
  return out;
}
