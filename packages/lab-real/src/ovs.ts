import { nsenterArgs, type NodeExec } from "./exec.js";
import type { Layout } from "./layout.js";
import { startDaemon } from "./procs.js";
import { TRUNK_VLANS, UNDERLAY_MTU, accessPrefix, peerHypervisor, tenants, tunnelAddress, TUNNEL_PREFIX, type LabNode } from "./topology.js";
import { waitFor } from "./wait.js";

/**
 * Open vSwitch with the userspace datapath (no kernel module here): ovsdb-server and
 * ovs-vswitchd per hypervisor, run directory /run/openvswitch inside the node.
 *
 * Bridges:
 *   br-phy  (netdev) the tunnel underlay: port eth1, tunnel endpoint address on its local port.
 *           Userspace tunnels must leave through an OVS bridge, so this link is OVS's alone.
 *           Both carry UNDERLAY_MTU (mtu_request: OVS would otherwise give its local port the
 *           smallest MTU of its ports, and 1500 leaves no room for the VXLAN header).
 *   br-ovs  (netdev) access ports acc10/20/30 (internal, tagged), trunk0 (trunks 10,20,30),
 *           one VXLAN port per tenant (access port on the tenant's VLAN, key = the tenant's VNI,
 *           to the other hypervisor), and the VMs' ports that libvirt adds.
 */

const RUN = "/run/openvswitch";

export async function startOvs(node: LabNode, l: Layout, holderPid: number, exec: NodeExec): Promise<void> {
  const n = l.node(node.name);
  const db = "/etc/openvswitch/conf.db";
  await exec("ovsdb-tool", ["create", db, "/usr/share/openvswitch/vswitch.ovsschema"]);
  const enter = ["nsenter", ...nsenterArgs(holderPid)];
  await startDaemon(l.pids, {
    id: `${node.name}.ovsdb-server`,
    argv: [...enter, "ovsdb-server", db, `--remote=punix:${RUN}/db.sock`, `--pidfile=${RUN}/ovsdb-server.pid`,
      `--unixctl=${RUN}/ovsdb-server.ctl`, `--log-file=${n.log("ovsdb-server")}`],
    log: n.log("ovsdb-server.stdio"),
  });
  await waitFor(`${node.name}'s ovsdb-server`, async () => (await exec("ovs-vsctl", ["--no-wait", "init"], { check: false })).code === 0);
  // A guest's virtio NIC hands its TCP packets to the tap with the checksum left to the host
  // (VIRTIO_NET_F_CSUM). The userspace datapath reads them off the tap as raw frames and, unless
  // it reads virtio-net headers too, forwards them with a half-filled checksum that every
  // receiver drops: ICMP works, TCP (NFS, SSH) does not. With userspace TSO on, OVS reads and
  // writes those headers on system and tap ports. Read once at start: set before ovs-vswitchd.
  await exec("ovs-vsctl", ["--no-wait", "set", "Open_vSwitch", ".", "other_config:userspace-tso-enable=true"]);
  await startDaemon(l.pids, {
    id: `${node.name}.ovs-vswitchd`,
    argv: [...enter, "ovs-vswitchd", `unix:${RUN}/db.sock`, `--pidfile=${RUN}/ovs-vswitchd.pid`, `--log-file=${n.log("ovs-vswitchd")}`],
    log: n.log("ovs-vswitchd.stdio"),
  });
  await waitFor(`${node.name}'s ovs-vswitchd`, async () => (await exec("ovs-appctl", ["-t", "ovs-vswitchd", "version"], { check: false })).code === 0);
  // The agent runs as the lab's ssh user; OVS makes its sockets root-only.
  const ctl = (await exec("ls", [RUN])).stdout.split("\n").filter((f) => f.startsWith("ovs-vswitchd.") && f.endsWith(".ctl"));
  await exec("chmod", ["0777", `${RUN}/db.sock`, ...ctl.map((f) => `${RUN}/${f}`)]);
}

/** ovs-vsctl commands that build the node's bridges, one argument array per call. Pure. */
export function ovsTopology(node: LabNode): string[][] {
  const peer = peerHypervisor(node);
  const cmds: string[][] = [
    ["add-br", "br-phy", "--", "set", "bridge", "br-phy", "datapath_type=netdev", "--", "set", "interface", "br-phy", `mtu_request=${UNDERLAY_MTU}`],
    ["add-port", "br-phy", "eth1", "--", "set", "interface", "eth1", `mtu_request=${UNDERLAY_MTU}`],
    ["add-br", "br-ovs", "--", "set", "bridge", "br-ovs", "datapath_type=netdev"],
    ["add-port", "br-ovs", "trunk0", `trunks=${TRUNK_VLANS.join(",")}`],
  ];
  for (const t of tenants) {
    cmds.push(["add-port", "br-ovs", `acc${t.vlan}`, `tag=${t.vlan}`, "--", "set", "interface", `acc${t.vlan}`, "type=internal"]);
    cmds.push([
      "add-port", "br-ovs", `vx${t.vni}`, `tag=${t.vlan}`, "--", "set", "interface", `vx${t.vni}`, "type=vxlan",
      `options:remote_ip=${tunnelAddress(peer)}`, `options:local_ip=${tunnelAddress(node)}`, `options:key=${t.vni}`,
    ]);
  }
  return cmds;
}

export async function buildOvsTopology(node: LabNode, exec: NodeExec): Promise<void> {
  // trunk0's far end stays in the node: the trunk exists to be seen (and later, to plug a router).
  await exec("ip", ["link", "add", "trunk0", "type", "veth", "peer", "name", "trunk0-peer"]);
  await exec("ip", ["link", "set", "trunk0", "up"]);
  await exec("ip", ["link", "set", "trunk0-peer", "up"]);
  for (const args of ovsTopology(node)) await exec("ovs-vsctl", ["--timeout=20", ...args]);
  await exec("ip", ["addr", "add", `${tunnelAddress(node)}/24`, "dev", "br-phy"]);
  await exec("ip", ["link", "set", "br-phy", "up"]);
  await exec("ovs-appctl", ["ovs/route/add", `${TUNNEL_PREFIX}.0/24`, "br-phy"]);
  for (const t of tenants) {
    await exec("ip", ["addr", "add", `${accessPrefix(t.vlan)}.${node.octet}/24`, "dev", `acc${t.vlan}`]);
    await exec("ip", ["link", "set", `acc${t.vlan}`, "up"]);
  }
}
