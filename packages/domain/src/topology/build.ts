import type { HostRecord } from "../fleet.js";
import type { Bridge, Domain } from "../inventory.js";
import type { TenantInfo } from "../views.js";
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
import { addTo, carriesVlan, sortNumbers, sortStrings } from "./vlans.js";

const ACTIVE_STATES = new Set(["running", "paused", "suspended"]);

/**
 * Builds the network graph from the fleet's last-known inventory and the tenant list. Linear in
 * the number of hosts, ports and NICs (plus the VXLAN ports of each NIC's bridge).
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
  const bridges = (net?.bridges ?? []).map((b): TopoBridge => ({
    id: bridgeId(h.name, b.name),
    host: h.name,
    name: b.name,
    type: b.type,
    mtu: b.mtu,
    ports: b.ports.map((p): TopoPort => {
      const iface = ifaceByName.get(p.name);
      return {
        id: portId(h.name, b.name, p.name),
        host: h.name,
        bridge: b.name,
        name: p.name,
        mode: p.mode,
        vlan: p.vlan,
        trunks: [...p.trunks],
        vxlan: p.vxlan ? { ...p.vxlan, remoteHost: p.vxlan.remote ? (book.get(bareAddress(p.vxlan.remote)) ?? null) : null } : null,
        uplink: p.mode === "uplink" || iface?.kind === "physical",
        mtu: p.mtu ?? iface?.mtu ?? null,
        up: p.up,
        nic: null,
        tenants: [],
      };
    }),
  }));
  const ports = new PortLookup(bridges, net?.bridges ?? []);
  const vms = (h.inventory.virt?.domains ?? []).map((d) => buildVm(h.name, d, ports));
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

/** Finds the port a NIC is plugged into: by host device name first, else by the MAC the port reports. */
class PortLookup {
  private readonly byName = new Map<string, TopoPort>();
  private readonly byMac = new Map<string, TopoPort>();
  private readonly vxlan = new Map<string, TopoPort[]>();

  constructor(bridges: readonly TopoBridge[], raw: readonly Bridge[]) {
    for (const b of bridges) this.vxlan.set(b.name, b.ports.filter((p) => p.vxlan));
    raw.forEach((b, bi) =>
      b.ports.forEach((p, pi) => {
        const port = bridges[bi]!.ports[pi]!;
        this.byName.set(`${b.name}\0${p.name}`, port);
        if (p.attached) this.byMac.set(`${b.name}\0${p.attached.mac.toLowerCase()}`, port);
      }),
    );
  }

  /** The bridge's VXLAN ports: what can carry a NIC's segment to other hosts. */
  vxlanOf(bridge: string): TopoPort[] {
    return this.vxlan.get(bridge) ?? [];
  }

  find(bridge: string, device: string | null, mac: string): TopoPort | null {
    return (device ? this.byName.get(`${bridge}\0${device}`) : undefined) ?? this.byMac.get(`${bridge}\0${mac.toLowerCase()}`) ?? null;
  }
}

function buildVm(host: string, d: Domain, ports: PortLookup): TopoVm {
  const nics = d.nics.map((n): TopoNic => {
    const port = ports.find(n.bridge, n.device, n.mac);
    if (port && !port.nic) {
      port.nic = { vm: d.name, mac: n.mac };
      port.tenants = d.tenant ? [d.tenant] : [];
    }
    const vlan = n.vlan ?? port?.vlan ?? null;
    const vnis = ports.vxlanOf(n.bridge).flatMap((p) => (carriesVlan(p, vlan) ? [p.vxlan!.vni] : []));
    return {
      mac: n.mac,
      bridge: n.bridge,
      bridgeType: n.bridgeType,
      device: n.device,
      portId: port?.id ?? null,
      vlan,
      vnis: sortNumbers(vnis),
      ipAddresses: [...n.ipAddresses],
    };
  });
  return {
    id: vmId(host, d.name),
    name: d.name,
    host,
    tenant: d.tenant,
    role: d.role,
    state: d.state,
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
  for (const h of hosts)
    for (const b of h.bridges)
      for (const p of b.ports) {
        if (!p.vxlan) continue;
        p.tenants = sortStrings(configured.get(p.vxlan.vni) ?? observed.get(p.vxlan.vni) ?? []);
      }
}

function tunnelsOf(h: TopoHost): TopoTunnel[] {
  return h.bridges.flatMap((b) =>
    b.ports.flatMap((p) =>
      p.vxlan
        ? [
            {
              id: p.id,
              vni: p.vxlan.vni,
              from: h.name,
              to: p.vxlan.remoteHost,
              remote: p.vxlan.remote,
              local: p.vxlan.local,
              dstPort: p.vxlan.dstPort,
              bridge: b.name,
              port: p.name,
              vlan: p.vlan,
              up: p.up,
              tenants: [...p.tenants],
            },
          ]
        : [],
    ),
  );
}
