import type { BridgePort, NetInterface, NetSection } from "@nimbus/domain";
import { stableMac } from "../ids.js";
import type { HypervisorState } from "../model.js";
import type { World } from "../world.js";

export const VXLAN_PORT = 4789;
const SUBNET_BITS = 24;

/** Interfaces and bridges of one lab host, as `ip -j -d link` + `ovs-vsctl` would show them. */
export function netSection(world: World, name: string): NetSection {
  const h = world.host(name);
  if (h.kind === "hypervisor") return hypervisorNet(world, world.hypervisor(name));
  const addresses = [`${h.address}/${SUBNET_BITS}`];
  if (h.kind === "storage" && world.nfs.master === name) addresses.push(`${world.nfs.vip}/32`);
  const interfaces: NetInterface[] = [loopback(), iface(name, "eth0", "physical", 1500, null, addresses)];
  if (h.kind === "swarm-vm")
    interfaces.push(
      { ...iface(name, "docker0", "bridge", 1500, null, ["172.17.0.1/16"]), up: false },
      iface(name, "docker_gwbridge", "bridge", 1500, null, ["172.18.0.1/16"]),
    );
  return { interfaces, bridges: [] };
}

/** The VXLAN ports a hypervisor has: one per tenant VNI and tunnel peer (or one per VNI, flow-based), minus broken ones. */
export function vxlanPorts(world: World, hv: HypervisorState): BridgePort[] {
  const local = world.host(hv.name).address;
  const { tunnelPeers, flowTunnels } = hv.spec.network;
  // Tenants that reached this host through a create: a mesh of the hosts that carry them now.
  const created = [...world.tunnels.entries()]
    .filter(([vni, t]) => (t.hosts.has(hv.name) || t.ports.has(hv.name)) && !world.tenants.some((s) => s.vni === vni))
    .map(([vni, t]) => ({ vni, vlan: t.vlan, peers: [...(t.flow.has(hv.name) ? [null] : []), ...[...(t.ports.get(hv.name) ?? [])].sort()] }));
  return [...world.tenants.map((t) => ({ vni: t.vni, vlan: t.vlan, peers: tunnelPeers as (string | null)[] })), ...created]
    .filter((t) => !hv.brokenVnis.has(t.vni))
    .flatMap((t) =>
      (flowTunnels ? [null] : t.peers).map((peer) => ({
        name: (peer ? `vx${t.vni}-${peer}` : `vx${t.vni}`).slice(0, 15),
        mode: "vxlan" as const,
        // The port is an access port of the tenant's VLAN: VLAN <-> VNI mapping on this host.
        vlan: t.vlan,
        trunks: [],
        vxlan: { vni: t.vni, local, remote: peer ? world.host(peer).address : null, dstPort: VXLAN_PORT },
        mtu: null,
        up: true,
        attached: null,
      })),
    );
}

function hypervisorNet(world: World, hv: HypervisorState): NetSection {
  const { uplink, linuxBridge, ovsBridge } = hv.spec.network;
  const mtu = (ifname: string) => hv.mtus.get(ifname) ?? 1500;
  const address = world.host(hv.name).address;
  const interfaces: NetInterface[] = [
    loopback(),
    iface(hv.name, uplink.name, "physical", mtu(uplink.name), linuxBridge.name, []),
    iface(hv.name, linuxBridge.name, "bridge", mtu(linuxBridge.name), null, [`${address}/${SUBNET_BITS}`]),
    iface(hv.name, "veth-br0", "veth", mtu(linuxBridge.name), linuxBridge.name, []),
    iface(hv.name, ovsBridge.trunkPort, "veth", mtu(ovsBridge.trunkPort), "ovs-system", []),
    { ...iface(hv.name, "ovs-system", "other", 1500, null, []), up: false },
    iface(hv.name, ovsBridge.name, "ovs-internal", mtu(ovsBridge.name), "ovs-system", []),
    iface(hv.name, `vxlan_sys_${VXLAN_PORT}`, "vxlan", 65_000, "ovs-system", []),
  ];
  const linuxPorts: BridgePort[] = [
    port(uplink.name, "uplink", { mtu: mtu(uplink.name) }),
    port("veth-br0", "trunk", { mtu: mtu(linuxBridge.name) }),
  ];
  const ovsPorts: BridgePort[] = [
    // Removing the last VLAN is refused by the fault (an empty trunk list means "all" in OVS).
    port(ovsBridge.trunkPort, "uplink", { trunks: [...hv.trunkVlans].sort((a, b) => a - b), mtu: mtu(ovsBridge.trunkPort) }),
    ...vxlanPorts(world, hv),
  ];
  for (const vm of hv.domains.values()) {
    vm.spec.nics.forEach((nic, i) => {
      const device = vm.devices[i];
      if (!device) return;
      const onOvs = nic.bridge === ovsBridge.name;
      const bridgeMtu = mtu(nic.bridge);
      interfaces.push(iface(hv.name, device, "tap", bridgeMtu, onOvs ? "ovs-system" : nic.bridge, []));
      (onOvs ? ovsPorts : linuxPorts).push(
        port(device, "vm", { vlan: nic.vlan, mtu: bridgeMtu, up: vm.state === "running", attached: { domain: vm.spec.name, mac: vm.macs[i]! } }),
      );
    });
  }
  return {
    interfaces,
    bridges: [
      { name: linuxBridge.name, type: "linux", mtu: mtu(linuxBridge.name), ports: linuxPorts },
      { name: ovsBridge.name, type: "ovs", mtu: mtu(ovsBridge.name), ports: ovsPorts },
    ],
  };
}

function loopback(): NetInterface {
  // Linux reports 65536 for lo, past the schema's MTU range; the real agent reports it as unknown too.
  return { name: "lo", kind: "loopback", mtu: null, mac: "00:00:00:00:00:00", up: true, master: null, addresses: ["127.0.0.1/8"] };
}

function iface(host: string, name: string, kind: NetInterface["kind"], mtu: number, master: string | null, addresses: string[]): NetInterface {
  return { name, kind, mtu, mac: stableMac(`${host}/${name}`), up: true, master, addresses };
}

function port(name: string, mode: BridgePort["mode"], rest: Partial<BridgePort>): BridgePort {
  return { name, mode, vlan: null, trunks: [], vxlan: null, mtu: null, up: true, attached: null, ...rest };
}
