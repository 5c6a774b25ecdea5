import type { HostRecord } from "../fleet.js";
import type { Domain } from "../inventory.js";
import { observedState, type TenantInfo } from "../views.js";
import { addressBook, bareAddress, underlayAddresses } from "./addresses.js";
import {
  bridgeId,
  portId,
  vmId,
  type Topology,
  type TopoBridge,
  type TopoHost,
  type TopoNic,
  type TopoPort,
  type TopoTunnel,
  type TopoVm,
} from "./model.js";
import { addTo, pushTo, sortNumbers, sortStrings } from "./vlans.js";

const ACTIVE_STATES = new Set(["running", "paused", "suspended"]);

/**
 * Builds the network graph from the fleet's last-known inventory and the tenant list. Linear in
 * the number of hosts, ports and NICs.
 */
export function buildTopology(hosts: readonly HostRecord[], tenants: readonly TenantInfo[]): Topology {
  const underlay = new Map(hosts.map((h) => [h.name, underlayAddresses(h)]));
  const book = addressBook(hosts, underlay);
  const topoHosts = hosts.map((h) => buildHost(h, underlay.get(h.name) ?? [], book));
  assignVniTenants(topoHosts, tenants);
  return {
    scope: null,
    hosts: topoHosts,
    tunnels: topoHosts.flatMap(tunnelsOf),
    tenants: tenants.map((t) => ({ slug: t.slug, name: t.name, vni: t.vni })),
  };
}

function buildHost(h: HostRecord, underlay: string[], book: ReadonlyMap<string, string>): TopoHost {
  const net = h.inventory.net;
  const interfaces = (net?.interfaces ?? []).map((i) => ({
    name: i.name,
    kind: i.kind,
    mtu: i.mtu,
    up: i.up,
    master: i.master,
    addresses: [...i.addresses],
  }));
  const ifaceByName = new Map(interfaces.map((i) => [i.name, i]));
  const lookups = new Map<string, BridgeLookup>();
  const bridges = (net?.bridges ?? []).map((b): TopoBridge => {
    const lookup = new BridgeLookup();
    const ports = b.ports.map((p): TopoPort => {
      const iface = ifaceByName.get(p.name);
      const x = p.vxlan;
      const port: TopoPort = {
        id: portId(h.name, b.name, p.name),
        host: h.name,
        bridge: b.name,
        name: p.name,
        mode: p.mode,
        vlan: p.vlan,
        // Inventory sections are replaced whole, never edited in place: sharing the list is safe.
        trunks: p.trunks,
        vxlan: x && {
          vni: x.vni,
          local: x.local,
          remote: x.remote,
          dstPort: x.dstPort,
          remoteHost: x.remote ? (book.get(x.remote) ?? book.get(bareAddress(x.remote)) ?? null) : null,
        },
        uplink: p.mode === "uplink" || iface?.kind === "physical",
        mtu: p.mtu ?? iface?.mtu ?? null,
        up: p.up,
        nic: null,
        tenants: [],
      };
      lookup.add(port, p.attached?.mac ?? null);
      return port;
    });
    lookups.set(b.name, lookup);
    return { id: bridgeId(h.name, b.name), host: h.name, name: b.name, type: b.type, mtu: b.mtu, ports };
  });
  const vms = (h.inventory.virt?.domains ?? []).map((d) => buildVm(h, d, lookups));
  return {
    name: h.name,
    address: h.address,
    state: h.connection.state,
    maintenance: h.maintenance,
    netKnown: net !== null,
    underlay,
    interfaces,
    bridges,
    vms,
  };
}

/**
 * One bridge's ports by device name and by the MAC they report, and which VNIs each VLAN is
 * bridged into, so placing a NIC costs a few lookups however many tunnels the bridge holds.
 */
class BridgeLookup {
  private readonly byName = new Map<string, TopoPort>();
  private readonly byMac = new Map<string, TopoPort>();
  private readonly vnisByVlan = new Map<number | null, number[]>();
  /** VNIs of untagged VXLAN ports without trunk list: they carry every VLAN. */
  private readonly vnisAnyVlan: number[] = [];

  add(port: TopoPort, attachedMac: string | null): void {
    this.byName.set(port.name, port);
    if (attachedMac) this.byMac.set(attachedMac.toLowerCase(), port);
    if (!port.vxlan) return;
    const vni = port.vxlan.vni;
    if (port.trunks.length) for (const v of port.trunks) pushTo(this.vnisByVlan, v, vni);
    if (port.vlan !== null) pushTo(this.vnisByVlan, port.vlan, vni);
    else if (!port.trunks.length) this.vnisAnyVlan.push(vni);
  }

  /** The port a NIC is plugged into: by host device name first, else by the MAC the port reports. */
  find(device: string | null, mac: string): TopoPort | null {
    return (device ? this.byName.get(device) : undefined) ?? this.byMac.get(mac.toLowerCase()) ?? null;
  }

  /** Same answer as filtering the VXLAN ports with carriesVlan. */
  vnisFor(vlan: number | null): number[] {
    const tagged = this.vnisByVlan.get(vlan);
    if (!this.vnisAnyVlan.length) return tagged ? sortNumbers(tagged) : [];
    return sortNumbers(tagged ? [...tagged, ...this.vnisAnyVlan] : this.vnisAnyVlan);
  }
}

function buildVm(h: HostRecord, d: Domain, bridges: ReadonlyMap<string, BridgeLookup>): TopoVm {
  const host = h.name;
  const nics = d.nics.map((n): TopoNic => {
    const lookup = bridges.get(n.bridge);
    const port = lookup?.find(n.device, n.mac) ?? null;
    if (port && !port.nic) {
      port.nic = { vm: d.name, mac: n.mac };
      port.tenants = d.tenant ? [d.tenant] : [];
    }
    const vlan = n.vlan ?? port?.vlan ?? null;
    return {
      mac: n.mac,
      bridge: n.bridge,
      bridgeType: n.bridgeType,
      device: n.device,
      portId: port?.id ?? null,
      vlan,
      vnis: lookup?.vnisFor(vlan) ?? [],
      ipAddresses: n.ipAddresses,
    };
  });
  return {
    id: vmId(host, d.name),
    name: d.name,
    host,
    tenant: d.tenant,
    role: d.role,
    state: observedState(h.connection.state, d.state),
    active: ACTIVE_STATES.has(d.state),
    nics,
  };
}

/**
 * A VXLAN port serves the tenants configured for its VNI. When no tenant claims the VNI, it
 * serves whoever's VMs sit in the segments it is bridged into.
 */
function assignVniTenants(hosts: readonly TopoHost[], tenants: readonly TenantInfo[]): void {
  const configured = new Map<number, Set<string>>();
  for (const t of tenants) if (t.vni !== null) addTo(configured, t.vni, t.slug);
  const observed = new Map<number, Set<string>>();
  for (const h of hosts)
    for (const vm of h.vms) for (const n of vm.nics) for (const vni of n.vnis) if (vm.tenant) addTo(observed, vni, vm.tenant);
  const owners = new Map<number, string[]>();
  for (const h of hosts)
    for (const b of h.bridges)
      for (const p of b.ports) {
        if (!p.vxlan) continue;
        const vni = p.vxlan.vni;
        let list = owners.get(vni);
        if (!list) owners.set(vni, (list = sortStrings(configured.get(vni) ?? observed.get(vni) ?? [])));
        p.tenants = list;
      }
}

function tunnelsOf(h: TopoHost): TopoTunnel[] {
  const out: TopoTunnel[] = [];
  for (const b of h.bridges)
    for (const p of b.ports) {
      const x = p.vxlan;
      if (!x) continue;
      out.push({
        id: p.id,
        vni: x.vni,
        from: h.name,
        to: x.remoteHost,
        remote: x.remote,
        local: x.local,
        dstPort: x.dstPort,
        bridge: b.name,
        port: p.name,
        vlan: p.vlan,
        up: p.up,
        tenants: p.tenants,
      });
    }
  return out;
}
