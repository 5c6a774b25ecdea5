import { allVms, type TopologyIndex } from "./analysis.js";
import { findingId, listNames, type Finding } from "./findings.js";
import type { TopoVm } from "./model.js";
import { addTo, pushTo, sortStrings } from "./vlans.js";

/** A tenant's active VMs sit on a host that has no port for the tenant's VNI. */
export function vniMissing(ix: TopologyIndex): Finding[] {
  const out: Finding[] = [];
  for (const tenant of ix.topology.tenants) {
    if (tenant.vni === null) continue;
    const withVni = ix.vniHosts.get(tenant.vni);
    for (const hostName of ix.tenantHosts.get(tenant.slug) ?? []) {
      if (withVni?.has(hostName)) continue;
      const vms = ix.hosts.get(hostName)!.vms.filter((v) => v.tenant === tenant.slug && v.active && v.nics.length).map((v) => v.name);
      out.push({
        id: findingId("vni-missing", tenant.slug, tenant.vni, hostName),
        kind: "vni-missing",
        severity: "crit",
        message: `${tenant.slug} has VMs on ${hostName} (${listNames(vms)}) but its VNI ${tenant.vni} is not present there`,
        objects: { hosts: [hostName], vms, vni: tenant.vni, tenants: [tenant.slug] },
      });
    }
  }
  return out;
}

/** More than one tenant on one VNI: by configuration, or by active VMs sitting in its segments. */
export function vniShared(ix: TopologyIndex): Finding[] {
  const users = new Map<number, Set<string>>();
  const intruders = new Map<number, TopoVm[]>();
  for (const [vni, slugs] of ix.configuredOwners) for (const s of slugs) addTo(users, vni, s);
  for (const vm of allVms(ix.topology)) {
    if (!vm.active || !vm.tenant) continue;
    for (const vni of new Set(vm.nics.flatMap((n) => n.vnis))) {
      addTo(users, vni, vm.tenant);
      if (!ix.configuredOwners.get(vni)?.has(vm.tenant)) pushTo(intruders, vni, vm);
    }
  }
  const out: Finding[] = [];
  for (const [vni, slugSet] of users) {
    if (slugSet.size < 2) continue;
    const tenants = sortStrings(slugSet);
    const configured = sortStrings(ix.configuredOwners.get(vni) ?? []);
    const extra = intruders.get(vni) ?? [];
    // Only VMs that break the configuration are listed; the owners' own VMs are not the problem.
    const vms = sortStrings(configured.length ? extra.map((v) => v.name) : []);
    const hosts = sortStrings(configured.length ? extra.map((v) => v.host) : []);
    const why = [
      configured.length ? `configured for ${listNames(configured)}` : "",
      vms.length ? `bridged to VMs ${listNames(vms)}` : "",
    ].filter(Boolean);
    out.push({
      id: findingId("vni-shared", vni),
      kind: "vni-shared",
      severity: "crit",
      message: `VNI ${vni} is used by ${tenants.length} tenants (${listNames(tenants)})${why.length ? `: ${why.join("; ")}` : ""}`,
      objects: { vni, tenants, ...(vms.length ? { vms, hosts } : {}) },
    });
  }
  return out;
}

/** Active VMs of different tenants on one VLAN id of one host: their traffic is not separated. */
export function vlanReused(ix: TopologyIndex): Finding[] {
  const out: Finding[] = [];
  for (const h of ix.topology.hosts) {
    if (!h.netKnown) continue;
    const byVlan = new Map<number, TopoVm[]>();
    for (const vm of h.vms) {
      if (!vm.active || !vm.tenant) continue;
      for (const vlan of new Set(vm.nics.flatMap((n) => (n.vlan === null ? [] : [n.vlan])))) pushTo(byVlan, vlan, vm);
    }
    for (const [vlan, vms] of byVlan) {
      const tenants = sortStrings(vms.map((v) => v.tenant!));
      if (tenants.length < 2) continue;
      const who = tenants.map((t) => `${t} (${listNames(vms.filter((v) => v.tenant === t).map((v) => v.name), 3)})`);
      out.push({
        id: findingId("vlan-reused", h.name, vlan),
        kind: "vlan-reused",
        severity: "crit",
        message: `VLAN ${vlan} on ${h.name} is used by ${tenants.length} tenants: ${listNames(who)}`,
        objects: { hosts: [h.name], vlan, tenants, vms: sortStrings(vms.map((v) => v.name)) },
      });
    }
  }
  return out;
}
