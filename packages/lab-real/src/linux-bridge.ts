import type { NodeExec } from "./exec.js";
import { BR0_PREFIX, BR0_VNI, OVERLAY_MTU, mgmtAddress, peerHypervisor, type LabNode } from "./topology.js";

/**
 * The hypervisors' Linux bridge br0 with a kernel VXLAN device to the other hypervisor over
 * the management link: the L2-only bridge of the design. (802.1Q sub-interfaces and bridge
 * VLAN filtering do not exist in this kernel: VLANs live on Open vSwitch.)
 * The VXLAN gets the overlay MTU explicitly: the kernel would default it to eth0's MTU - 50
 * (1550 on the lab's underlay) and br0 takes the smallest MTU of its ports.
 */
export async function buildLinuxBridge(node: LabNode, exec: NodeExec): Promise<void> {
  const vx = `vxlan${BR0_VNI}`;
  const peer = peerHypervisor(node);
  await exec("ip", ["link", "add", "br0", "type", "bridge"]);
  await exec("ip", ["link", "add", vx, "mtu", String(OVERLAY_MTU), "type", "vxlan", "id", String(BR0_VNI), "local", mgmtAddress(node), "remote", mgmtAddress(peer), "dstport", "4789", "dev", "eth0"]);
  await exec("ip", ["link", "set", vx, "master", "br0"]);
  await exec("ip", ["addr", "add", `${BR0_PREFIX}.${node.octet}/24`, "dev", "br0"]);
  await exec("ip", ["link", "set", vx, "up"]);
  await exec("ip", ["link", "set", "br0", "up"]);
}
