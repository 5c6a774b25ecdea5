import { run } from "./exec.js";
import { FABRIC_BRIDGE, FABRIC_NS, NS_PREFIX, UNDERLAY_MTU, mgmtAddress, nsName, type LabNode } from "./topology.js";

/**
 * The underlay: a Linux bridge in its own namespace, and veths from it to each node's
 * namespace. Both ends of every veth are created directly inside lab namespaces, so nothing
 * ever appears in the host's own network namespace.
 */

export const ip = (ns: string, args: string[]) => run("ip", ["-n", ns, ...args], { node: ns });

export async function listLabNamespaces(): Promise<string[]> {
  const { stdout } = await run("ip", ["-j", "netns", "list"]);
  const list = stdout.trim() ? (JSON.parse(stdout) as { name: string }[]) : [];
  return list.map((n) => n.name).filter((n) => n.startsWith(NS_PREFIX));
}

export async function createFabric(): Promise<void> {
  await run("ip", ["netns", "add", FABRIC_NS]);
  await ip(FABRIC_NS, ["link", "set", "lo", "up"]);
  await ip(FABRIC_NS, ["link", "add", FABRIC_BRIDGE, "mtu", String(UNDERLAY_MTU), "type", "bridge"]);
  // VRRP adverts are multicast; snooping without a querier would drop them after a while.
  await ip(FABRIC_NS, ["link", "set", FABRIC_BRIDGE, "type", "bridge", "mcast_snooping", "0"]);
  await ip(FABRIC_NS, ["link", "set", FABRIC_BRIDGE, "up"]);
}

/** Fabric-side name of a node's link, e.g. kvm1-e0 (15 characters at most). */
export const fabricPort = (node: string, link: string) => `${node}-${link.replace("eth", "e")}`;

/**
 * A veth from the node's namespace (`link`) to the fabric bridge, with the underlay MTU (every
 * link of the fabric: one L2 segment has one MTU) and TX offload off on both ends.
 */
export async function plugIntoFabric(node: LabNode, link: string): Promise<void> {
  const ns = nsName(node.name);
  const peer = fabricPort(node.name, link);
  const mtu = String(UNDERLAY_MTU);
  await ip(ns, ["link", "add", link, "mtu", mtu, "type", "veth", "peer", "name", peer, "mtu", mtu, "netns", FABRIC_NS]);
  await ip(FABRIC_NS, ["link", "set", peer, "master", FABRIC_BRIDGE, "up"]);
  await ip(ns, ["link", "set", link, "up"]);
  // Partial checksums from veth offload make OVS drop tunnel packets (datapath_drop_tunnel_pop_error).
  await run("ip", ["netns", "exec", FABRIC_NS, "ethtool", "-K", peer, "tx", "off"], { node: FABRIC_NS });
  await run("ip", ["netns", "exec", ns, "ethtool", "-K", link, "tx", "off"], { node: node.name });
}

export async function createNodeNamespace(node: LabNode): Promise<void> {
  const ns = nsName(node.name);
  await run("ip", ["netns", "add", ns]);
  await ip(ns, ["link", "set", "lo", "up"]);
  await plugIntoFabric(node, "eth0");
  await ip(ns, ["addr", "add", `${mgmtAddress(node)}/24`, "dev", "eth0"]);
}

export async function deleteNamespace(ns: string): Promise<void> {
  await run("ip", ["netns", "delete", ns], { check: false });
}
