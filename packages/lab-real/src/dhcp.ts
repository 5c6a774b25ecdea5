import type { NodeExec } from "./exec.js";
import { nsenterArgs } from "./exec.js";
import type { Layout } from "./layout.js";
import { startDaemon } from "./procs.js";
import { BR0_PREFIX, accessPrefix, mgmtAddress, tenants, type LabNode } from "./topology.js";
import { waitFor } from "./wait.js";

/**
 * The tenants' router: guests Nimbus creates get their address by DHCP on their tenant's VLAN and
 * reach the storage VIP through it. One hypervisor (kvm1) serves every tenant VLAN from its OVS
 * access port (`acc<VLAN>`, 172.16.<VLAN>.11): dnsmasq (DHCP only, no DNS) hands out
 * 172.16.<VLAN>.100-199 with itself as the router, kvm1 forwards to the management network, and
 * each NFS server routes the tenant subnets back through kvm1. A guest on kvm2 reaches the same
 * server over its tenant's VXLAN. libvirt learns a guest's address from kvm1's ARP table
 * (`virsh domifaddr --source arp`), filled as soon as the guest talks to its router.
 *
 * The same router serves the swarm's VMs: workers Nimbus adds live on br0 (the hypervisors'
 * untagged Linux bridge, one L2 across both over the kernel VXLAN 100), get
 * 192.168.100.100-199 from kvm1 (192.168.100.11, their router), and the swarm nodes and the
 * storage servers route 192.168.100.0/24 back through kvm1: so a worker VM reaches the
 * namespace manager's 2377/tcp, its peers' 7946 and 4789, and the storage VIP, all routed, no NAT.
 */

/** The swarm VMs' network: br0 on the hypervisors, DHCP and routing from the tenants' router. */
export const SWARM_VM_BRIDGE = "br0";
export const SWARM_VM_SUBNET = `${BR0_PREFIX}.0/24`;
export const swarmVmRange = () => ({ first: `${BR0_PREFIX}.${DHCP_FIRST}`, last: `${BR0_PREFIX}.${DHCP_LAST}` });

export const DHCP_FIRST = 100;
export const DHCP_LAST = 199;
export const dhcpRange = (vlan: number) => ({ first: `${accessPrefix(vlan)}.${DHCP_FIRST}`, last: `${accessPrefix(vlan)}.${DHCP_LAST}` });
export const tenantSubnet = (vlan: number) => `${accessPrefix(vlan)}.0/24`;

/** dnsmasq's command line (run inside the router node); every path is the node's own. */
export function dnsmasqArgs(leaseFile: string): string[] {
  return [
    "--keep-in-foreground",
    "--log-facility=-",
    "--log-dhcp",
    // DHCP only: no DNS server, no /etc/hosts or resolv.conf read.
    "--port=0",
    "--no-resolv",
    "--no-hosts",
    "--bind-interfaces",
    "--except-interface=lo",
    ...tenants.map((t) => `--interface=acc${t.vlan}`),
    `--interface=${SWARM_VM_BRIDGE}`,
    ...[...tenants.map((t) => dhcpRange(t.vlan)), swarmVmRange()].map((r) => `--dhcp-range=${r.first},${r.last},255.255.255.0,12h`),
    "--dhcp-authoritative",
    `--dhcp-leasefile=${leaseFile}`,
    // The lab runs as root and writes the lease file in the node's directory.
    "--user=root",
    "--group=root",
    "--pid-file=",
  ];
}

/**
 * The subnets behind the router a node routes through it. Pure. Storage servers answer every
 * guest (tenants' instances and swarm VMs mount the export through the VIP); swarm nodes only
 * the swarm's VMs.
 */
export const routedSubnets = (role: LabNode["role"]): string[] =>
  role === "nfs" ? [...tenants.map((t) => tenantSubnet(t.vlan)), SWARM_VM_SUBNET] : role === "swarm-manager" || role === "swarm-worker" ? [SWARM_VM_SUBNET] : [];

/**
 * Starts the tenants' router on `router` and routes the guests' subnets back through it from
 * `others` (the storage servers and the swarm nodes: `routedSubnets`).
 */
export async function startTenantRouter(router: LabNode, l: Layout, holderPid: number, exec: NodeExec, others: { node: LabNode; exec: NodeExec }[]): Promise<void> {
  await exec("sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
  const n = l.node(router.name);
  await startDaemon(l.pids, {
    id: `${router.name}.dnsmasq`,
    argv: ["nsenter", ...nsenterArgs(holderPid), "/usr/sbin/dnsmasq", ...dnsmasqArgs(`${n.dir}/dnsmasq.leases`)],
    log: n.log("dnsmasq"),
  });
  await waitFor(`${router.name}'s dnsmasq to listen for DHCP`, async () => {
    const { stdout } = await exec("ss", ["-Hlun", "sport = :67"], { check: false });
    return stdout.trim() !== "";
  }, { timeoutMs: 10_000 });
  await Promise.all(others.map(async (o) => {
    for (const subnet of routedSubnets(o.node.role)) await o.exec("ip", ["route", "replace", subnet, "via", mgmtAddress(router)]);
  }));
}
