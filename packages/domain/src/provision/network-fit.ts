import type { Bridge, BridgePort, Domain } from "../inventory.js";
import type { HostRecord } from "../fleet.js";
import { bridgeFit, vxlanMtuShortfall, type CheckResult, type PreflightCheck } from "../preflight.js";
import { carriesVlan } from "../topology/vlans.js";

/**
 * How a new instance's NIC reaches its tenant's network on one host. The VM's own port is tagged
 * with the tenant's VLAN (libvirt does it for Open vSwitch; on a Linux bridge the agent tags the
 * tap after start: libvirt before 11 cannot); the tenant's L2 leaves the host through a VXLAN
 * port of its VNI, which the agent creates when the first instance of the tenant lands there.
 */
export type WiringAction =
  | { kind: "vxlan"; bridge: string; vni: number; vlan: number; peers: VxlanPeer[] }
  | { kind: "port-vlan"; bridge: string; vlan: number };

/** A host that already carries the VNI, and the address its tunnel endpoint answers on. */
export interface VxlanPeer {
  host: string;
  address: string;
}

export interface NetworkFit {
  bridge: Pick<Bridge, "name" | "type"> | null;
  checks: PreflightCheck[];
  wiring: WiringAction[];
}

type Net = { bridge?: string | undefined; vlan: number; vni: number };
const vxlanOf = (b: Pick<Bridge, "ports">, vni: number): BridgePort | undefined => b.ports.find((p) => p.vxlan?.vni === vni);

/** The bridge a new instance of this network plugs into when the admin did not pick one. */
export function pickBridge(bridges: readonly Bridge[], net: Net): Bridge | null {
  const ovsFirst = [...bridges].sort((a, b) => Number(b.type === "ovs") - Number(a.type === "ovs"));
  const trunkCarries = (b: Bridge) => b.ports.some((p) => (p.mode === "trunk" || p.mode === "uplink") && carriesVlan(p, net.vlan));
  return ovsFirst.find((b) => vxlanOf(b, net.vni)) ?? ovsFirst.find(trunkCarries) ?? ovsFirst[0] ?? null;
}

/**
 * Checks that the host's bridge can carry the tenant's VLAN and VNI without breaking another
 * tenant's separation (the topology's vlan-reused and vni-shared findings must stay closed),
 * and what the agent has to wire for it.
 */
export function networkFit(host: HostRecord, tenant: string, net: Net, peersOf: (vni: number) => VxlanPeer[]): NetworkFit {
  const checks: PreflightCheck[] = [];
  const add = (id: string, label: string, result: CheckResult, reason: string) => checks.push({ id, label, result, reason });
  const bridges = host.inventory.net?.bridges ?? [];
  if (!host.inventory.net) {
    add("bridge", "Bridge", "fail", `${host.name} has not reported its network`);
    return { bridge: null, checks, wiring: [] };
  }
  const br = net.bridge ? (bridges.find((b) => b.name === net.bridge) ?? null) : pickBridge(bridges, net);
  if (!br) {
    add("bridge", "Bridge", "fail", net.bridge ? `bridge ${net.bridge} does not exist on ${host.name}` : `${host.name} has no bridge`);
    return { bridge: null, checks, wiring: [] };
  }
  // The migration rule's own fit: whether a trunk of the bridge carries the VLAN too.
  const fit = bridgeFit(host.name, bridges, { bridge: br.name, bridgeType: br.type, vlan: net.vlan });
  add("bridge", "Bridge", "pass", fit.ok ? `${fit.reason} (${br.type})` : `${br.name} (${br.type}); VLAN ${net.vlan} travels over VXLAN only`);

  const others = otherTenantsOnVlan(host, tenant, net.vlan);
  if (others.length) add("vlan", "Tenant VLAN", "fail", `VLAN ${net.vlan} on ${host.name} is used by ${others.join(", ")}: tenants would share traffic`);
  else add("vlan", "Tenant VLAN", "pass", `VLAN ${net.vlan} is free of other tenants on ${host.name}`);

  const wiring: WiringAction[] = [];
  const port = vxlanOf(br, net.vni);
  // The topology's rule (BridgeLookup.vnisFor): a VXLAN port carrying the VLAN bridges it into its VNI.
  const mapped = br.ports.filter((p) => p.vxlan && p.vxlan.vni !== net.vni && carriesVlan(p, net.vlan)).map((p) => p.vxlan!.vni);
  const elsewhere = bridges.find((b) => b !== br && vxlanOf(b, net.vni));
  const short = vxlanMtuShortfall(host, br);
  if (mapped.length) add("vni", "Tenant VNI", "fail", `VLAN ${net.vlan} of ${br.name} on ${host.name} is bridged into VNI ${mapped.join(", ")}, not ${net.vni}`);
  else if (port && !carriesVlan(port, net.vlan)) add("vni", "Tenant VNI", "fail", `VNI ${net.vni} on ${br.name} of ${host.name} does not carry VLAN ${net.vlan}`);
  else if (!port && elsewhere) add("vni", "Tenant VNI", "fail", `VNI ${net.vni} is on ${elsewhere.name} of ${host.name}, not on ${br.name}`);
  else {
    if (!port) {
      const peers = peersOf(net.vni).filter((p) => p.host !== host.name);
      wiring.push({ kind: "vxlan", bridge: br.name, vni: net.vni, vlan: net.vlan, peers });
    }
    const how = port
      ? `VNI ${net.vni} tunnelled on ${host.name}`
      : `VNI ${net.vni} will be tunnelled from ${br.name} to ${listPeers(wiring[0])}`;
    if (short) add("vni", "Tenant VNI", "warn", `${how}, but uplink MTU ${short.uplinkMtu} < ${short.needed} needed for VXLAN`);
    else add("vni", "Tenant VNI", "pass", how);
  }
  if (br.type === "linux") wiring.push({ kind: "port-vlan", bridge: br.name, vlan: net.vlan });
  return { bridge: { name: br.name, type: br.type }, checks, wiring };
}

const listPeers = (w: WiringAction | undefined) =>
  w?.kind === "vxlan" && w.peers.length ? w.peers.map((p) => p.host).join(", ") : "no other host yet (the first of this network)";

/**
 * Tenants other than `tenant` whose active VMs on this host sit on `vlan`: by the domain XML's
 * tag (Open vSwitch) or by the tag of the bridge port they are plugged into (a Linux bridge's
 * VLAN is on the port, not in the XML), as the topology reads it.
 */
function otherTenantsOnVlan(host: HostRecord, tenant: string, vlan: number): string[] {
  const onPorts = new Set((host.inventory.net?.bridges ?? []).flatMap((b) => b.ports.filter((p) => p.attached && p.vlan === vlan).map((p) => p.attached!.domain)));
  const active = (d: Domain) => d.state === "running" || d.state === "paused";
  const onVlan = (d: Domain) => onPorts.has(d.name) || d.nics.some((n) => n.vlan === vlan);
  const vms = (host.inventory.virt?.domains ?? []).filter((d) => active(d) && d.tenant && d.tenant !== tenant && onVlan(d));
  return [...new Set(vms.map((d) => `${d.tenant} (${d.name})`))].sort();
}

/** Hosts that carry a VNI now, with their tunnel endpoint: the local address of their VXLAN port, else the host's own address. */
export function vxlanPeers(hosts: readonly HostRecord[], vni: number): VxlanPeer[] {
  return hosts.flatMap((h) => {
    if (h.connection.state !== "online") return [];
    const port = (h.inventory.net?.bridges ?? []).flatMap((b) => b.ports).find((p) => p.vxlan?.vni === vni);
    return port ? [{ host: h.name, address: port.vxlan!.local ?? h.address }] : [];
  });
}
