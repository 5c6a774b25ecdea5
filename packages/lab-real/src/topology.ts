/**
 * The datacenter the real lab builds, as plain data. Every other module reads this plan;
 * nothing here touches the machine.
 *
 * All addresses live only inside network namespaces the lab creates (prefix `nb-`); the root
 * namespace sees each node only through a loopback port forwarded to the node's sshd.
 */

export const NS_PREFIX = "nb-";
export const FABRIC_NS = `${NS_PREFIX}fabric`;
/** The Linux bridge inside the fabric namespace that every node's veths plug into. */
export const FABRIC_BRIDGE = "fab0";

export const MGMT_PREFIX = "10.77.0";
/** OVS userspace tunnels need their endpoint on an OVS bridge, so they get their own link. */
export const TUNNEL_PREFIX = "10.77.1";
/**
 * VXLAN adds 50 bytes (outer IPv4 + UDP + VXLAN + inner Ethernet): the underlay (fabric veths,
 * fab0, br-phy, eth0 under br0's VXLAN) carries 1600 so the tenants' overlay keeps a full 1500.
 */
export const UNDERLAY_MTU = 1600;
export const OVERLAY_MTU = 1500;
/** ICMP payload of a full OVERLAY_MTU IPv4 packet (minus IPv4 and ICMP headers), for `ping -M do -s`. */
export const FULL_SIZE_PING_PAYLOAD = OVERLAY_MTU - 20 - 8;
export const SSH_USER = "nimbus";
export const SSH_LOOPBACK = "127.0.0.1";

export type NodeRole = "hypervisor" | "swarm-manager" | "swarm-worker" | "nfs";

export interface LabNode {
  name: string;
  role: NodeRole;
  /** Last octet of the node's addresses (management and, for hypervisors, tunnel). */
  octet: number;
}

export const nodes: readonly LabNode[] = [
  { name: "kvm1", role: "hypervisor", octet: 11 },
  { name: "kvm2", role: "hypervisor", octet: 12 },
  { name: "swarm1", role: "swarm-manager", octet: 21 },
  { name: "swarm2", role: "swarm-worker", octet: 22 },
  { name: "swarm3", role: "swarm-worker", octet: 23 },
  { name: "nfs1", role: "nfs", octet: 31 },
  { name: "nfs2", role: "nfs", octet: 32 },
];

export interface Tenant {
  slug: string;
  name: string;
  vni: number;
  /** VLAN the tenant's VM ports use on every hypervisor's br-ovs (local meaning only). */
  vlan: number;
}

export const tenants: readonly Tenant[] = [
  { slug: "acme", name: "Acme Corp", vni: 5001, vlan: 10 },
  { slug: "globex", name: "Globex", vni: 5002, vlan: 20 },
  { slug: "initech", name: "Initech", vni: 5003, vlan: 30 },
];

/** Kernel VXLAN behind the Linux bridge br0 on the hypervisors (infrastructure, no tenant). */
export const BR0_VNI = 100;
export const BR0_PREFIX = "192.168.100";
/** Address prefix of the tenant access ports (acc10/20/30), e.g. 172.16.10.11 on kvm1. */
export const accessPrefix = (vlan: number) => `172.16.${vlan}`;
export const TRUNK_VLANS = [10, 20, 30] as const;

export const NFS_VIP = `${MGMT_PREFIX}.30`;
export const NFS_VRID = 77;
export const EXPORT_PATH = "/instance";
/** keepalived priorities: nfs1 is master; a failed NFS check lowers it below nfs2. */
export const VRRP_PRIORITY: Record<string, number> = { nfs1: 150, nfs2: 100 };
export const VRRP_CHECK_WEIGHT = -60;

export interface LabVm {
  name: string;
  host: string;
  tenant: string;
  role: string;
  memoryMiB: number;
}

export const vms: readonly LabVm[] = [
  { name: "acme-web1", host: "kvm1", tenant: "acme", role: "web", memoryMiB: 64 },
  { name: "globex-db1", host: "kvm1", tenant: "globex", role: "db", memoryMiB: 64 },
  { name: "initech-app1", host: "kvm2", tenant: "initech", role: "app", memoryMiB: 64 },
];

export const IMAGE = "nimbus/busybox:lab";

export interface LabService {
  name: string;
  tenant: string;
  replicas: number;
  /** Published in host mode (the routing mesh needs IPVS, which this kernel lacks). */
  port: number | null;
  stack: string | null;
  command: string[];
}

export const services: readonly LabService[] = [
  { name: "acme-web", tenant: "acme", replicas: 2, port: 8080, stack: "acme", command: ["httpd", "-f", "-p", "8080", "-h", "/"] },
  { name: "globex-api", tenant: "globex", replicas: 1, port: 8081, stack: null, command: ["httpd", "-f", "-p", "8081", "-h", "/"] },
  { name: "initech-worker", tenant: "initech", replicas: 3, port: null, stack: null, command: ["sleep", "1000000"] },
];

export const nsName = (node: string) => `${NS_PREFIX}${node}`;
export const mgmtAddress = (n: LabNode) => `${MGMT_PREFIX}.${n.octet}`;
export const tunnelAddress = (n: LabNode) => `${TUNNEL_PREFIX}.${n.octet}`;
/** Loopback port in the root namespace that reaches the node's sshd. */
export const sshPort = (n: LabNode) => 2200 + n.octet;
export const migrationUri = (n: LabNode) => `qemu+tcp://${mgmtAddress(n)}/system`;

export const nodeByName = (name: string): LabNode => {
  const n = nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no lab node named ${name}`);
  return n;
};
export const nodesWithRole = (...roles: NodeRole[]) => nodes.filter((n) => roles.includes(n.role));
export const hypervisors = () => nodesWithRole("hypervisor");
export const swarmNodes = () => nodesWithRole("swarm-manager", "swarm-worker");
export const nfsNodes = () => nodesWithRole("nfs");
export const swarmManager = () => nodesWithRole("swarm-manager")[0]!;
export const tenantBySlug = (slug: string): Tenant => {
  const t = tenants.find((x) => x.slug === slug);
  if (!t) throw new Error(`no lab tenant ${slug}`);
  return t;
};
/** The other hypervisor: tunnels and the kernel VXLAN are point-to-point between the two. */
export const peerHypervisor = (n: LabNode): LabNode => {
  const peer = hypervisors().find((h) => h.name !== n.name);
  if (!peer) throw new Error(`${n.name} has no peer hypervisor`);
  return peer;
};
/** Deterministic MAC per VM so re-created labs look the same. */
export const vmMac = (vm: LabVm) => {
  const i = vms.indexOf(vm) + 1;
  const vlan = tenantBySlug(vm.tenant).vlan;
  return `52:54:00:77:${vlan.toString(16).padStart(2, "0")}:${i.toString(16).padStart(2, "0")}`;
};
