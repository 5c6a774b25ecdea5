import type { DomainState, ProbeState, Snapshot } from "@nimbus/domain";
import type { Hardware, ScenarioHypervisor, ScenarioMount, ScenarioService, ScenarioVm } from "../scenario/schema.js";
import type { ServiceUpdateStatus } from "@nimbus/domain";

/** The mutable state of the simulated datacenter. Section builders read it; world rules change it. */

export type HostKind = "hypervisor" | "storage" | "swarm-vm";

/** Anything with its own SSH endpoint. */
export interface LabHost {
  name: string;
  kind: HostKind;
  /** In-world address (underlay / VM IP), not the loopback address its endpoint listens on. */
  address: string;
  /** Hypervisors and storage servers; a swarm VM's power is its domain's state. */
  powered: boolean;
  /** cutLink: the management path (SSH, migration over ssh) is gone; the machine runs on. */
  linkCut: boolean;
  bootId: string;
  /** Wall-clock ms of the last boot, for uptime. */
  bootedAt: number;
  cpuUsagePct: number;
}

export interface VmState {
  spec: ScenarioVm;
  uuid: string;
  macs: string[];
  /** Hypervisor the domain is defined on. */
  host: string;
  state: DomainState;
  /** Host-side tap device per NIC while running (vnetN), null otherwise. */
  devices: (string | null)[];
  migrating: boolean;
  /** Where its disk (vda) lives now; a storage move changes it. */
  diskPath: string;
  /** A disk copy (block copy or offline copy) runs on it. */
  diskJob: boolean;
  /** The guest OS answers (SSH up): false while it boots or reboots. */
  guestReady: boolean;
  /** Cancels a pending transition (guest shutdown, boot) when another action overrides it. */
  pending: (() => void) | null;
  /** A created instance reports its address only once its first boot is done; scenario VMs always do while running. */
  addressed?: boolean;
  /** Internal snapshots, oldest first (world/snapshots.ts). */
  snapshots?: Snapshot[];
  /** The image a created instance's disk was built from (its tenant metadata). */
  image?: string;
  /** A created instance's first-boot commands (the lab runs a swarm join among them: world/swarm-nodes.ts). */
  firstBoot?: string[];
}

export interface HypervisorState {
  name: string;
  spec: ScenarioHypervisor;
  hardware: Hardware;
  libvirtdUp: boolean;
  /** Current MTU per interface name (setMtu changes it). */
  mtus: Map<string, number>;
  /** VLANs the OVS trunk port carries. */
  trunkVlans: Set<number>;
  /** VNIs whose VXLAN ports were removed (breakTunnel). */
  brokenVnis: Set<number>;
  nextVnet: number;
  domains: Map<string, VmState>;
  /** NFS mounts now (unmountDatastore removes one). */
  mounts: ScenarioMount[];
}

export interface DatastoreState {
  path: string;
  clients: string[];
  totalBytes: number;
  usedBytes: number;
  initialUsedBytes: number;
  /** breakDatastore: reads and writes on it fail with I/O errors. */
  broken: boolean;
}

export interface StorageServerState {
  name: string;
  address: string;
  priority: number;
  hardware: Hardware;
  /** The NFS daemon (nfs-ganesha) runs. */
  nfsRunning: boolean;
  /** keepalived's vrrp_script check of the NFS daemon, with rise/fall. */
  check: ProbeState;
}

export interface NfsClusterState {
  vip: string;
  /** Server holding the VIP, or null while nobody does. */
  master: string | null;
  servers: StorageServerState[];
  datastores: DatastoreState[];
}

export interface SwarmNodeState {
  id: string;
  hostname: string;
  role: "manager" | "worker";
  availability: "active" | "pause" | "drain";
  /** dockerd runs (swarmNodeDown stops it). */
  engineUp: boolean;
  /** Lab ms since the node stopped answering heartbeats; null while it answers. */
  silentSince: number | null;
  /** What the manager believes, after the heartbeat timeout. */
  status: "ready" | "down";
  address: string;
}

export interface ServiceState {
  id: string;
  spec: ScenarioService;
  desired: number;
  updatedAt: string;
  /** failServiceHealth: every health probe of this service's tasks fails. */
  healthFault: boolean;
  /** Lab ms before which the scheduler leaves this service alone (one task at a time). */
  nextStepAt: number;
  /** The image after an update (spec.image until then), the one before it, docker's UpdateStatus (swarm-services.ts). */
  image?: string;
  previousImage?: string | null;
  update?: ServiceUpdateStatus | null;
}

export interface TaskState {
  id: string;
  service: string;
  slot: number | null;
  node: string;
  desiredState: "running" | "shutdown";
  state: "starting" | "running" | "failed" | "shutdown" | "orphaned" | "rejected";
  /** The image it runs (the service's at the time) and when it entered its state (swarm-services.ts). */
  image?: string;
  since?: string;
  error: string | null;
  /** Health probe with rise/fall; a starting task becomes running after `rise` passes. */
  probe: ProbeState;
  /** Lab ms when the container is up and health probes start. */
  probesFrom: number;
  createdAt: number;
}

export interface SwarmState {
  clusterId: string;
  engineVersion: string;
  tokens: { worker: string; manager: string };
  nodes: Map<string, SwarmNodeState>;
  services: Map<string, ServiceState>;
  tasks: TaskState[];
}
