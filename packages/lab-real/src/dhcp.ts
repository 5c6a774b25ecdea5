import type { NodeExec } from "./exec.js";
import { nsenterArgs } from "./exec.js";
import type { Layout } from "./layout.js";
import { startDaemon } from "./procs.js";
import { accessPrefix, mgmtAddress, tenants, type LabNode } from "./topology.js";
import { waitFor } from "./wait.js";

/**
 * The tenants' router: guests Nimbus creates get their address by DHCP on their tenant's VLAN and
 * reach the storage VIP through it. One hypervisor (kvm1) serves every tenant VLAN from its OVS
 * access port (`acc<VLAN>`, 172.16.<VLAN>.11): dnsmasq (DHCP only, no DNS) hands out
 * 172.16.<VLAN>.100-199 with itself as the router, kvm1 forwards to the management network, and
 * each NFS server routes the tenant subnets back through kvm1. A guest on kvm2 reaches the same
 * server over its tenant's VXLAN. libvirt learns a guest's address from kvm1's ARP table
 * (`virsh domifaddr --source arp`), filled as soon as the guest talks to its router.
 */

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
    ...tenants.map((t) => {
      const r = dhcpRange(t.vlan);
      return `--dhcp-range=${r.first},${r.last},255.255.255.0,12h`;
    }),
    "--dhcp-authoritative",
    `--dhcp-leasefile=${leaseFile}`,
    // The lab runs as root and writes the lease file in the node's directory.
    "--user=root",
    "--group=root",
    "--pid-file=",
  ];
}

/** Starts the tenants' router on `router` and routes the tenant subnets back from the storage nodes. */
export async function startTenantRouter(router: LabNode, l: Layout, holderPid: number, exec: NodeExec, storage: { node: LabNode; exec: NodeExec }[]): Promise<void> {
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
  for (const s of storage)
    for (const t of tenants) await s.exec("ip", ["route", "replace", tenantSubnet(t.vlan), "via", mgmtAddress(router)]);
}
