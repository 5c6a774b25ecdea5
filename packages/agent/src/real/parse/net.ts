import { Mtu, VlanId, Vni, type Bridge, type BridgePort, type NetInterface, type NetSection, type VxlanEndpoint } from "@nimbus/domain";
import type { Link, PortVlans } from "./ip.js";
import type { OvsBridgeRow, OvsInterface, OvsPort } from "./ovs.js";
import { integer } from "./text.js";

/**
 * Joins what ip, bridge and ovs-vsctl print into one NetSection: interfaces, and bridges (Linux
 * and OVS) with each port's role. A port is a "vm" port when a domain's NIC is plugged into it,
 * matched by host device name (vnetN), by OVS external_ids (attached-mac / vm-id, which libvirt
 * sets), or by the tap's MAC (libvirt gives the tap the guest MAC with the first byte fe).
 */

export interface VmNic {
  domain: string;
  domainUuid: string;
  mac: string;
  device: string | null;
}

export interface NetInputs {
  links: Link[];
  addresses: Map<string, string[]>;
  bridgeVlans: Map<string, PortVlans>;
  floodRemotes: Map<string, string[]>;
  ovs: { bridges: OvsBridgeRow[]; ports: OvsPort[]; interfaces: OvsInterface[] } | null;
  vmNics: VmNic[];
}

/** Kernel devices that only exist to back an OVS datapath; nobody plugs anything into them. */
const DATAPATH_DEVICES = new Set(["ovs-system", "ovs-netdev"]);

const vlanOrNull = (n: number | null | undefined) => (n != null && VlanId.safeParse(n).success ? n : null);
const vlans = (ns: number[]) => ns.filter((n) => VlanId.safeParse(n).success);
const mtuOrNull = (n: number | null | undefined) => (n != null && Mtu.safeParse(n).success ? n : null);
const sameMac = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function buildNetSection(inp: NetInputs): NetSection {
  const attach = vmMatcher(inp.vmNics);
  const ovsIfaces = new Map(inp.ovs?.interfaces.map((i) => [i.uuid, i]) ?? []);
  const ovsPorts = new Map(inp.ovs?.ports.map((p) => [p.uuid, p]) ?? []);
  const ovsBridges: Bridge[] = [];
  /** Kernel device name -> OVS bridge it is a port of (the kernel says master "ovs-system" or nothing). */
  const ovsMaster = new Map<string, string>();
  const ovsInternal = new Set<string>();

  for (const br of inp.ovs?.bridges ?? []) {
    const ports: BridgePort[] = [];
    let mtu: number | null = null;
    for (const portId of br.ports) {
      const port = ovsPorts.get(portId);
      if (!port) continue;
      const ifaces = port.interfaces.map((id) => ovsIfaces.get(id)).filter((i): i is OvsInterface => !!i);
      for (const i of ifaces) {
        ovsMaster.set(i.name, br.name);
        if (i.type === "internal") ovsInternal.add(i.name);
        if (i.name === br.name) mtu = mtuOrNull(i.mtu);
      }
      ports.push(ovsPort(port, ifaces, attach));
    }
    ovsBridges.push({ name: br.name, type: "ovs", mtu, ports: ports.sort(byName) });
  }

  const links = inp.links.filter((l) => !DATAPATH_DEVICES.has(l.name));
  const interfaces: NetInterface[] = links.map((l) => ({
    name: l.name,
    kind: ovsInternal.has(l.name) ? "ovs-internal" : l.kind,
    mtu: l.mtu,
    mac: l.mac,
    up: l.up,
    master: ovsMaster.get(l.name) ?? (l.master && !DATAPATH_DEVICES.has(l.master) ? l.master : null),
    addresses: inp.addresses.get(l.name) ?? [],
  }));

  const linuxBridges: Bridge[] = links
    .filter((l) => l.kind === "bridge" && !ovsMaster.has(l.name))
    .map((br) => ({
      name: br.name,
      type: "linux" as const,
      mtu: br.mtu,
      ports: links
        .filter((l) => l.master === br.name)
        .map((l) => linuxPort(l, br.vlanFiltering ? inp.bridgeVlans.get(l.name) : undefined, inp.floodRemotes.get(l.name), attach))
        .sort(byName),
    }));

  return { interfaces, bridges: [...linuxBridges, ...ovsBridges].sort(byName) };
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

type Attach = (device: string, mac: string | null, ids?: Record<string, string>) => BridgePort["attached"];

function vmMatcher(nics: VmNic[]): Attach {
  return (device, mac, ids) => {
    const hit =
      nics.find((n) => n.device === device) ??
      (ids?.["attached-mac"] ? nics.find((n) => sameMac(n.mac, ids["attached-mac"]!) && (!ids["vm-id"] || ids["vm-id"] === n.domainUuid)) : undefined) ??
      (mac?.toLowerCase().startsWith("fe:") ? nics.find((n) => sameMac(n.mac.slice(3), mac.slice(3))) : undefined);
    return hit ? { domain: hit.domain, mac: hit.mac } : null;
  };
}

function linuxPort(l: Link, v: PortVlans | undefined, floodRemotes: string[] | undefined, attach: Attach): BridgePort {
  const attached = l.kind === "tap" ? attach(l.name, l.mac) : null;
  const base = { name: l.name, mtu: l.mtu, up: l.up, attached, vxlan: null, vlan: vlanOrNull(v?.pvid ?? l.vlanId), trunks: [] as number[] };
  if (l.vxlan) return { ...base, mode: "vxlan", vxlan: vxlanEndpoint(l.vxlan.id, l.vxlan.local, l.vxlan.remote ?? floodRemotes?.[0] ?? null, l.vxlan.port) };
  if (l.kind === "tap") return { ...base, mode: "vm" };
  if (v && v.tagged.length > 0) return { ...base, mode: "trunk", trunks: vlans(v.tagged) };
  if (v?.pvid != null && l.kind !== "physical") return { ...base, mode: "access" };
  return { ...base, mode: "uplink" };
}

function ovsPort(port: OvsPort, ifaces: OvsInterface[], attach: Attach): BridgePort {
  const first = ifaces[0];
  const vlan = vlanOrNull(port.tag);
  const trunks = vlans(port.trunks);
  // A tunnel whose egress interface lost carrier still says link_state "up" on some datapaths;
  // OVS's status map tells (tunnel_egress_iface_carrier), so such a tunnel counts as down.
  const up = ifaces.length > 0 && ifaces.every((i) => i.linkState === "up" && i.status.tunnel_egress_iface_carrier !== "down");
  const attached = first && first.type !== "internal" ? attach(first.name, null, first.externalIds) : null;
  const base = { name: port.name, mtu: mtuOrNull(first?.mtu), up, attached, vlan, trunks, vxlan: null };
  if (first?.type === "vxlan") {
    const o = first.options;
    // key=flow (the VNI set per packet) or a key that is not a number has no fixed endpoint.
    const vni = integer(o.key) ?? 0;
    const port_ = o.dst_port === undefined ? 4789 : (integer(o.dst_port) ?? 4789);
    return { ...base, mode: "vxlan", vxlan: vxlanEndpoint(vni, ip(o.local_ip), ip(o.remote_ip), port_) };
  }
  if (first?.type === "internal") return { ...base, mode: "internal" };
  if (attached) return { ...base, mode: "vm" };
  if (vlan !== null && port.vlanMode !== "trunk") return { ...base, mode: "access" };
  if (trunks.length > 0 || port.vlanMode === "trunk") return { ...base, mode: "trunk" };
  return { ...base, mode: "uplink" };
}

/** OVS tunnel options may say "flow" (set per packet by flows) instead of an address. */
const ip = (v: string | undefined) => (v && v !== "flow" ? v : null);

/** A VXLAN whose VNI is chosen by flows (key=flow) or unset has no fixed endpoint to show. */
function vxlanEndpoint(vni: number, local: string | null, remote: string | null, dstPort: number): VxlanEndpoint | null {
  return Vni.safeParse(vni).success ? { vni, local, remote, dstPort: Number.isFinite(dstPort) ? dstPort : 4789 } : null;
}
