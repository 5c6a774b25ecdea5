import { z } from "zod";
import { Mtu, TenantSlug, VlanId, Vni } from "./names.js";

/**
 * What one host reports about itself, in independent sections. An agent pushes a whole section
 * whenever anything in it changes; the server replaces that section in its in-memory inventory.
 * Sections are small (a few KB), so "replace the section" is cheaper to reason about than diffs.
 */

export const NodeFacts = z.object({
  hostname: z.string(),
  os: z.string(),
  kernel: z.string(),
  cpuModel: z.string(),
  cpuFeatures: z.array(z.string()).default([]),
  cpuCount: z.number().int().nonnegative(),
  /** 0-100, averaged over the agent's last sample window. */
  cpuUsagePct: z.number().min(0).max(100),
  memoryTotalMiB: z.number().nonnegative(),
  memoryUsedMiB: z.number().nonnegative(),
  diskTotalBytes: z.number().nonnegative(),
  diskUsedBytes: z.number().nonnegative(),
  uptimeSeconds: z.number().nonnegative(),
});
export type NodeFacts = z.infer<typeof NodeFacts>;

export const DomainState = z.enum(["running", "paused", "shutoff", "crashed", "suspended", "other"]);
export type DomainState = z.infer<typeof DomainState>;

export const DomainDisk = z.object({
  target: z.string(),
  path: z.string(),
  pool: z.string().nullable(),
  capacityBytes: z.number().nonnegative().nullable(),
});
export type DomainDisk = z.infer<typeof DomainDisk>;

export const DomainNic = z.object({
  mac: z.string(),
  /** Bridge the NIC is plugged into (Linux bridge or OVS bridge). */
  bridge: z.string(),
  bridgeType: z.enum(["linux", "ovs"]),
  /** Host-side device (vnetN / tap). */
  device: z.string().nullable(),
  /** VLAN tag from the domain XML (OVS access port) or null when untagged. */
  vlan: VlanId.nullable(),
  model: z.string().nullable(),
  ipAddresses: z.array(z.string()).default([]),
});
export type DomainNic = z.infer<typeof DomainNic>;

export const Domain = z.object({
  name: z.string(),
  uuid: z.string(),
  state: DomainState,
  vcpus: z.number().int().positive(),
  memoryMiB: z.number().positive(),
  /** Tenant label from the domain's metadata; null for infrastructure VMs. */
  tenant: TenantSlug.nullable(),
  /** Free-form role label from metadata, e.g. "swarm-manager". */
  role: z.string().nullable(),
  cpuModel: z.string().nullable(),
  cpuFeatures: z.array(z.string()).default([]),
  disks: z.array(DomainDisk),
  nics: z.array(DomainNic),
  persistent: z.boolean(),
  autostart: z.boolean(),
});
export type Domain = z.infer<typeof Domain>;

export const VirtSection = z.object({
  hypervisor: z.string(),
  domains: z.array(Domain),
});
export type VirtSection = z.infer<typeof VirtSection>;

export const VxlanEndpoint = z.object({
  vni: Vni,
  local: z.string().nullable(),
  remote: z.string().nullable(),
  dstPort: z.number().int(),
});
export type VxlanEndpoint = z.infer<typeof VxlanEndpoint>;

export const PortMode = z.enum(["access", "trunk", "vxlan", "uplink", "internal", "vm"]);
export type PortMode = z.infer<typeof PortMode>;

export const BridgePort = z.object({
  name: z.string(),
  mode: PortMode,
  /** Access VLAN (access ports, VM ports with a tag). */
  vlan: VlanId.nullable(),
  /** Trunked VLANs; empty on a trunk means "all". */
  trunks: z.array(VlanId),
  vxlan: VxlanEndpoint.nullable(),
  mtu: Mtu.nullable(),
  up: z.boolean(),
  /** The VM NIC plugged into this port, when there is one. */
  attached: z.object({ domain: z.string(), mac: z.string() }).nullable(),
});
export type BridgePort = z.infer<typeof BridgePort>;

export const Bridge = z.object({
  name: z.string(),
  type: z.enum(["linux", "ovs"]),
  mtu: Mtu.nullable(),
  ports: z.array(BridgePort),
});
export type Bridge = z.infer<typeof Bridge>;

export const NetInterface = z.object({
  name: z.string(),
  kind: z.enum(["physical", "bridge", "vxlan", "veth", "tap", "vlan", "loopback", "ovs-internal", "other"]),
  mtu: Mtu.nullable(),
  mac: z.string().nullable(),
  up: z.boolean(),
  master: z.string().nullable(),
  addresses: z.array(z.string()),
});
export type NetInterface = z.infer<typeof NetInterface>;

export const NetSection = z.object({
  interfaces: z.array(NetInterface),
  bridges: z.array(Bridge),
});
export type NetSection = z.infer<typeof NetSection>;

export const SwarmNode = z.object({
  id: z.string(),
  hostname: z.string(),
  role: z.enum(["manager", "worker"]),
  availability: z.enum(["active", "pause", "drain"]),
  status: z.enum(["ready", "down", "unknown", "disconnected"]),
  leader: z.boolean(),
  engineVersion: z.string().nullable(),
  address: z.string().nullable(),
});
export type SwarmNode = z.infer<typeof SwarmNode>;

export const SwarmPort = z.object({
  published: z.number().int(),
  target: z.number().int(),
  protocol: z.enum(["tcp", "udp", "sctp"]),
  mode: z.enum(["ingress", "host"]),
});

export const SwarmService = z.object({
  id: z.string(),
  name: z.string(),
  mode: z.enum(["replicated", "global"]),
  replicasDesired: z.number().int().nonnegative(),
  replicasRunning: z.number().int().nonnegative(),
  image: z.string(),
  ports: z.array(SwarmPort),
  tenant: TenantSlug.nullable(),
  stack: z.string().nullable(),
  updatedAt: z.string().nullable(),
});
export type SwarmService = z.infer<typeof SwarmService>;

export const SwarmTask = z.object({
  id: z.string(),
  serviceId: z.string(),
  serviceName: z.string(),
  slot: z.number().int().nullable(),
  node: z.string().nullable(),
  desiredState: z.string(),
  state: z.string(),
  error: z.string().nullable(),
});
export type SwarmTask = z.infer<typeof SwarmTask>;

export const SwarmSection = z.object({
  /** This engine's view of itself. */
  nodeId: z.string(),
  role: z.enum(["manager", "worker"]),
  clusterId: z.string().nullable(),
  /** Only managers can list the cluster; workers report empty lists. */
  nodes: z.array(SwarmNode),
  services: z.array(SwarmService),
  tasks: z.array(SwarmTask),
});
export type SwarmSection = z.infer<typeof SwarmSection>;

export const NfsExport = z.object({ path: z.string(), clients: z.array(z.string()) });
export const Datastore = z.object({
  /** Export path as clients mount it, e.g. /instance. */
  path: z.string(),
  totalBytes: z.number().nonnegative(),
  usedBytes: z.number().nonnegative(),
});
export type Datastore = z.infer<typeof Datastore>;
export const Mount = z.object({ source: z.string(), target: z.string(), fstype: z.string() });
export type Mount = z.infer<typeof Mount>;

export const StorageSection = z.object({
  /** Present on NFS servers. */
  nfs: z
    .object({
      serverRunning: z.boolean(),
      exports: z.array(NfsExport),
      datastores: z.array(Datastore),
      vip: z.object({ address: z.string(), heldHere: z.boolean() }).nullable(),
      keepalivedState: z.enum(["master", "backup", "fault", "stopped"]).nullable(),
    })
    .nullable(),
  /** NFS mounts seen on this host (hypervisors mount the datastore at the disk path). */
  mounts: z.array(Mount),
});
export type StorageSection = z.infer<typeof StorageSection>;

export const HostInventory = z.object({
  node: NodeFacts.nullable(),
  virt: VirtSection.nullable(),
  net: NetSection.nullable(),
  swarm: SwarmSection.nullable(),
  storage: StorageSection.nullable(),
});
export type HostInventory = z.infer<typeof HostInventory>;

export const SectionName = z.enum(["node", "virt", "net", "swarm", "storage"]);
export type SectionName = z.infer<typeof SectionName>;

export const emptyInventory = (): HostInventory => ({ node: null, virt: null, net: null, swarm: null, storage: null });
