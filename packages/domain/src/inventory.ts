import { z } from "zod";
import { ImageEntry } from "./provision/image.js";
import { LIMITS, boundedList, boundedName, boundedPath, boundedText, cutText } from "./bounds.js";
import { Mtu, TenantSlug, VlanId, Vni } from "./names.js";
import { ChecksSection } from "./checks/spec.js";
import { ServiceHttpCheck } from "./checks/http.js";
import { LbSection } from "./lb/spec.js";
import { OVERLAY_LIMITS, OverlayNetwork } from "./swarm/overlay.js";
import { NodePortReport } from "./swarm/ports.js";
import { ServiceUpdateStatus } from "./swarm/service-update.js";

/**
 * What one host reports about itself, in independent sections. An agent pushes a whole section
 * whenever anything in it changes; the server replaces that section in its in-memory inventory.
 * Sections are small (a few KB), so "replace the section" is cheaper to reason about than diffs.
 * Every string and list is bounded (bounds.ts): what a host sends is not trusted to be sane.
 */
export { LIMITS, cutText } from "./bounds.js";
const name = boundedName;
const path = boundedPath;
const list = boundedList;

export const NodeFacts = z.object({
  hostname: name(),
  os: name(),
  kernel: name(),
  cpuModel: name(),
  cpuFeatures: list(name(), LIMITS.cpuFeatures).default([]),
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
  target: name(),
  path: path(),
  pool: name().nullable(),
  capacityBytes: z.number().nonnegative().nullable(),
});
export type DomainDisk = z.infer<typeof DomainDisk>;

export const DomainNic = z.object({
  mac: name(),
  /** Bridge the NIC is plugged into (Linux bridge or OVS bridge). */
  bridge: name(),
  bridgeType: z.enum(["linux", "ovs"]),
  /** Host-side device (vnetN / tap). */
  device: name().nullable(),
  /** VLAN tag from the domain XML (OVS access port) or null when untagged. */
  vlan: VlanId.nullable(),
  model: name().nullable(),
  ipAddresses: list(name(), LIMITS.addressesPerNic).default([]),
});
export type DomainNic = z.infer<typeof DomainNic>;

/**
 * A domain's internal snapshots as its host reports them in the virt section (read again only
 * when its list of snapshot names changes or Nimbus took, reverted or deleted one), so the
 * Snapshots panel reads memory and the live channel, not the host. The newest
 * `DOMAIN_SNAPSHOTS_MAX` are listed; `total` counts them all. snapshots.ts has the rule and the requests.
 */
export const DOMAIN_SNAPSHOTS_MAX = 64;
export const SNAPSHOT_DESCRIPTION_MAX = 500;
export const Snapshot = z.object({
  name: name(),
  /** ISO 8601, from libvirt's creationTime. */
  createdAt: name(),
  /** The VM's state when the snapshot was taken (a running VM's snapshot holds its memory). */
  state: DomainState,
  description: z.string().transform((s) => cutText(s, SNAPSHOT_DESCRIPTION_MAX)),
  /** libvirt's current snapshot: the one the VM was last taken at or reverted to. */
  current: z.boolean(),
});
export type Snapshot = z.infer<typeof Snapshot>;
export const SnapshotsAllowed = z.union([z.object({ ok: z.literal(true) }), z.object({ ok: z.literal(false), reason: z.string().max(LIMITS.text) })]);
export type SnapshotsAllowed = z.infer<typeof SnapshotsAllowed>;
export const DomainSnapshots = z.object({
  allowed: SnapshotsAllowed,
  /** Oldest first, the newest DOMAIN_SNAPSHOTS_MAX. */
  items: z.array(Snapshot).max(DOMAIN_SNAPSHOTS_MAX),
  total: z.number().int().nonnegative(),
});
export type DomainSnapshots = z.infer<typeof DomainSnapshots>;

export const Domain = z.object({
  name: name(),
  uuid: name(),
  state: DomainState,
  vcpus: z.number().int().positive(),
  memoryMiB: z.number().positive(),
  /** Tenant label from the domain's metadata; null for infrastructure VMs. */
  tenant: TenantSlug.nullable(),
  /** Free-form role label from metadata, e.g. "swarm-manager". */
  role: name().nullable(),
  /** Image the disk was built from (metadata); absent for VMs Nimbus did not create. */
  image: name().nullable().optional(),
  cpuModel: name().nullable(),
  cpuFeatures: list(name(), LIMITS.cpuFeatures).default([]),
  disks: list(DomainDisk, LIMITS.disksPerDomain),
  nics: list(DomainNic, LIMITS.nicsPerDomain),
  persistent: z.boolean(),
  autostart: z.boolean(),
  /** Absent from agents that predate it (the panel then asks the host). */
  snapshots: DomainSnapshots.nullish(),
});
export type Domain = z.infer<typeof Domain>;

export const VirtSection = z.object({
  hypervisor: name(),
  domains: list(Domain, LIMITS.domains),
});
export type VirtSection = z.infer<typeof VirtSection>;

export const VxlanEndpoint = z.object({
  vni: Vni,
  local: name().nullable(),
  remote: name().nullable(),
  dstPort: z.number().int(),
});
export type VxlanEndpoint = z.infer<typeof VxlanEndpoint>;

export const PortMode = z.enum(["access", "trunk", "vxlan", "uplink", "internal", "vm"]);
export type PortMode = z.infer<typeof PortMode>;

export const BridgePort = z.object({
  name: name(),
  mode: PortMode,
  /** Access VLAN (access ports, VM ports with a tag). */
  vlan: VlanId.nullable(),
  /** Trunked VLANs; empty on a trunk means "all". */
  trunks: list(VlanId, 4094),
  vxlan: VxlanEndpoint.nullable(),
  mtu: Mtu.nullable(),
  up: z.boolean(),
  /** The VM NIC plugged into this port, when there is one. */
  attached: z.object({ domain: name(), mac: name() }).nullable(),
});
export type BridgePort = z.infer<typeof BridgePort>;

export const Bridge = z.object({
  name: name(),
  type: z.enum(["linux", "ovs"]),
  mtu: Mtu.nullable(),
  ports: list(BridgePort, LIMITS.portsPerBridge),
});
export type Bridge = z.infer<typeof Bridge>;

export const NetInterface = z.object({
  name: name(),
  kind: z.enum(["physical", "bridge", "vxlan", "veth", "tap", "vlan", "loopback", "ovs-internal", "other"]),
  mtu: Mtu.nullable(),
  mac: name().nullable(),
  up: z.boolean(),
  master: name().nullable(),
  addresses: list(name(), LIMITS.addressesPerInterface),
});
export type NetInterface = z.infer<typeof NetInterface>;

export const NetSection = z.object({
  interfaces: list(NetInterface, LIMITS.interfaces),
  bridges: list(Bridge, LIMITS.bridges),
});
export type NetSection = z.infer<typeof NetSection>;

export const SwarmNode = z.object({
  id: name(),
  hostname: name(),
  role: z.enum(["manager", "worker"]),
  availability: z.enum(["active", "pause", "drain"]),
  status: z.enum(["ready", "down", "unknown", "disconnected"]),
  leader: z.boolean(),
  engineVersion: name().nullable(),
  address: name().nullable(),
});
export type SwarmNode = z.infer<typeof SwarmNode>;

export const SwarmPort = z.object({
  published: z.number().int(),
  target: z.number().int(),
  protocol: z.enum(["tcp", "udp", "sctp"]),
  mode: z.enum(["ingress", "host"]),
});

export const SwarmService = z.object({
  id: name(),
  name: name(),
  mode: z.enum(["replicated", "global"]),
  replicasDesired: z.number().int().nonnegative(),
  replicasRunning: z.number().int().nonnegative(),
  image: path(),
  ports: list(SwarmPort, LIMITS.portsPerService),
  tenant: TenantSlug.nullable(),
  stack: name().nullable(),
  updatedAt: name().nullable(),
  /** Digest of the service's environment (`envDigest`: sorted KEY=value lines), so a stack diff says "changed" without a value. */
  envDigest: name().nullish(),
  /** The last update (docker's UpdateStatus); absent from agents that predate it. */
  update: ServiceUpdateStatus.nullish(),
  /** Ids of the networks the service is attached to. */
  networks: list(name(), OVERLAY_LIMITS.networks).nullish(),
  /** The HTTP check its labels ask for (`nimbus.check.http…`, checks/http.ts); absent: TCP checks. */
  httpCheck: ServiceHttpCheck.nullish(),
});
export type SwarmService = z.infer<typeof SwarmService>;

export const SwarmTask = z.object({
  id: name(),
  serviceId: name(),
  serviceName: name(),
  slot: z.number().int().nullable(),
  node: name().nullable(),
  desiredState: name(),
  state: name(),
  error: boundedText().nullable(),
  /** When the task entered its current state (RFC 3339), and the image it runs. */
  since: name().nullish(),
  image: path().nullish(),
});
export type SwarmTask = z.infer<typeof SwarmTask>;

export const SwarmSection = z.object({
  /** This engine's view of itself. */
  nodeId: name(),
  role: z.enum(["manager", "worker"]),
  clusterId: name().nullable(),
  /** Only managers can list the cluster; workers report empty lists. */
  nodes: list(SwarmNode, LIMITS.swarmNodes),
  services: list(SwarmService, LIMITS.swarmServices),
  tasks: list(SwarmTask, LIMITS.swarmTasks),
  /** Images this engine has (`repository:tag`), for the stack check "no node has the image"; every node reports its own. */
  images: list(name(), LIMITS.images).nullish(),
  /** Overlay networks (managers only). */
  networks: list(OverlayNetwork, OVERLAY_LIMITS.networks).nullish(),
  /** This node's checks of the ports the swarm needs (every node, workers too). */
  ports: NodePortReport.nullish(),
});
export type SwarmSection = z.infer<typeof SwarmSection>;

export const NfsExport = z.object({ path: path(), clients: list(name(), LIMITS.clientsPerExport) });
export const Datastore = z.object({
  /** Export path as clients mount it, e.g. /instance. */
  path: path(),
  totalBytes: z.number().nonnegative(),
  usedBytes: z.number().nonnegative(),
});
export type Datastore = z.infer<typeof Datastore>;
export const Mount = z.object({ source: path(), target: path(), fstype: name() });
export type Mount = z.infer<typeof Mount>;

export const StorageSection = z.object({
  /** Present on NFS servers. */
  nfs: z
    .object({
      serverRunning: z.boolean(),
      exports: list(NfsExport, LIMITS.exports),
      datastores: list(Datastore, LIMITS.datastores),
      vip: z.object({ address: name(), heldHere: z.boolean() }).nullable(),
      keepalivedState: z.enum(["master", "backup", "fault", "stopped"]).nullable(),
      /** The image catalogs of the exports (`.nimbus-images/catalog.json`); absent from agents that predate images. */
      images: list(ImageEntry, LIMITS.images).optional(),
    })
    .nullable(),
  /** NFS mounts seen on this host (hypervisors mount the datastore at the disk path). */
  mounts: list(Mount, LIMITS.mounts),
});
export type StorageSection = z.infer<typeof StorageSection>;

export const HostInventory = z.object({
  node: NodeFacts.nullable(),
  virt: VirtSection.nullable(),
  net: NetSection.nullable(),
  swarm: SwarmSection.nullable(),
  storage: StorageSection.nullable(),
  /** Active checks this agent runs (checks.configure) and their states; absent from agents that predate them. */
  checks: ChecksSection.nullish(),
  /** The HAProxy load balancers on this host and their servers' states (`show stat`). */
  lb: LbSection.nullish(),
});
export type HostInventory = z.infer<typeof HostInventory>;

export const SectionName = z.enum(["node", "virt", "net", "swarm", "storage", "checks", "lb"]);
export type SectionName = z.infer<typeof SectionName>;

export const emptyInventory = (): HostInventory => ({ node: null, virt: null, net: null, swarm: null, storage: null });
