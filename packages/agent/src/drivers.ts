import type {
  AgentPreflightParams,
  CreateInstanceParams,
  CreateProgress,
  DeleteInstanceParams,
  DeleteProgress,
  ImageDeleteRequest,
  ImageEntry,
  ImageImportRequest,
  ImageBuildParams,
  ImageBuildProgress,
  ImageImportParams,
  ImageImportProgress,
  MigrateParams,
  MoveDiskParams,
  PreflightCheck,
  StorageMoveProgress,
  MigrationProgress,
  NodeFacts,
  NetSection,
  ScaleParams,
  ScaleProgress,
  StackDeployParams,
  StackDeployProgress,
  StackRemoveParams,
  StackRemoveProgress,
  Snapshot,
  SnapshotCreateParams,
  SnapshotListResult,
  SnapshotTarget,
  StorageSection,
  SwarmSection,
  SwarmNodeUpdateParams,
  ServiceRollbackParams,
  ServiceRollbackProgress,
  ServiceUpdateParams,
  ServiceUpdateProgress,
  TunnelParams,
  TunnelResult,
  VirtSection,
} from "@nimbus/domain";
import type { CheckSpec, ChecksSection, LbApplyInput, LbRuntime, LbSection, StatsCounters } from "@nimbus/domain";
import type { StartLogs } from "./swarm-logs.js";
import type { ConsoleDriver } from "./console.js";

/**
 * The agent's capabilities, each behind one interface. The real drivers run host tools
 * (virsh, ip, ovs-vsctl, docker, showmount); the lab's drivers read one simulated world. The
 * agent core and the server cannot tell them apart.
 */
export interface SectionSource<T> {
  snapshot(): Promise<T>;
  /** Calls `onChange` whenever the section may have changed; returns an unsubscribe. */
  watch(onChange: () => void): () => void;
}

export interface JobContext<P> {
  report(progress: P): void;
  /** Aborted when the server cancels the job. */
  signal: AbortSignal;
}

export interface NodeDriver extends SectionSource<NodeFacts> {}

export interface VirtDriver extends SectionSource<VirtSection> {
  /** Resolves when the VM runs on the destination; rejects (VM still on the source) otherwise. */
  migrate(params: MigrateParams, ctx: JobContext<MigrationProgress>): Promise<{ downtimeMs: number | null }>;
  power(domain: string, action: "start" | "shutdown" | "reboot" | "destroy"): Promise<void>;
  /**
   * Answers `virt.preflight`: the checks as this host sees them right now (the rules are
   * @nimbus/domain's sourceAgentChecks / destinationAgentChecks; a driver only observes).
   */
  preflight?(params: AgentPreflightParams): Promise<PreflightCheck[]>;
  /**
   * Copies one disk to another datastore, verifies the copy, switches the domain to it and only
   * then removes the old copy. Rejects with the domain still on the old copy (and the partial new
   * copy removed) on any failure or cancel.
   */
  moveDisk?(params: MoveDiskParams, ctx: JobContext<StorageMoveProgress>): Promise<void>;
  /**
   * Creates an instance step by step (createSteps), reporting the steps whole as they change.
   * On a failure or cancel it runs cleanupPlan for the step it was in and rejects with the
   * failed step named; the last report says what was undone.
   */
  create?(params: CreateInstanceParams, ctx: JobContext<CreateProgress>): Promise<CreateProgress>;
  /** Runs the delete's actions in order, each idempotent (what is already gone is skipped). */
  delete?(params: DeleteInstanceParams, ctx: JobContext<DeleteProgress>): Promise<DeleteProgress>;
  /** Snapshots of a VM where its datastore allows them (qcow2 disks: see snapshotsAllowed). */
  snapshots?: SnapshotDriver;
  /** The VMs' serial consoles (console.ts: one attachment per domain, shared by its sessions). */
  console?: ConsoleDriver;
}

/** Internal snapshots of one VM: listed with the rule's verdict; create refuses up front what the rule refuses. */
export interface SnapshotDriver {
  list(domain: string): Promise<SnapshotListResult>;
  create(params: SnapshotCreateParams): Promise<Snapshot>;
  revert(params: SnapshotTarget): Promise<void>;
  delete(params: SnapshotTarget): Promise<void>;
}

export interface NetDriver extends SectionSource<NetSection> {
  /** A VXLAN port back to a host that joined a VNI this host carries (idempotent). */
  ensureTunnel?(params: TunnelParams): Promise<TunnelResult>;
  /** Removes this host's port(s) of the VNI to that remote (idempotent). */
  releaseTunnel?(params: TunnelParams): Promise<TunnelResult>;
}

export interface SwarmDriver extends SectionSource<SwarmSection> {
  scale(params: ScaleParams, ctx: JobContext<ScaleProgress>): Promise<void>;
  /** docker service update --image / rollback, followed until docker's update ends (swarm-update). */
  serviceUpdate?(params: ServiceUpdateParams, ctx: JobContext<ServiceUpdateProgress>): Promise<ServiceUpdateProgress>;
  serviceRollback?(params: ServiceRollbackParams, ctx: JobContext<ServiceRollbackProgress>): Promise<ServiceRollbackProgress>;
  /** Streams a service's log lines into the sink; returns the stop function (swarm-logs.ts). */
  logs?: StartLogs;
  /** docker stack deploy / rm, followed until the stack converges or is gone (swarm-stacks.ts). */
  stackDeploy?(params: StackDeployParams, ctx: JobContext<StackDeployProgress>): Promise<StackDeployProgress>;
  stackRemove?(params: StackRemoveParams, ctx: JobContext<StackRemoveProgress>): Promise<StackRemoveProgress>;
  setAvailability(node: string, availability: "active" | "pause" | "drain"): Promise<void>;
  joinTokens(): Promise<{ worker: string; manager: string }>;
  /** Node changes on a manager and leaving on the node itself (swarm-nodes). */
  nodes?: SwarmNodesDriver;
}

/** `docker node update/promote/demote/rm`, `docker swarm join-token --rotate`, `docker swarm leave`. */
export interface SwarmNodesDriver {
  update(params: SwarmNodeUpdateParams): Promise<void>;
  rotateToken(role: "worker" | "manager"): Promise<void>;
  leave(): Promise<void>;
}

export interface StorageDriver extends SectionSource<StorageSection> {
  /** A storage server's image repository: import (fetched by this host, checksum verified) and delete, each rewriting catalog and index. */
  imageRepository?: ImageDriver;
}

export interface ImageDriver {
  import(req: ImageImportRequest): Promise<ImageEntry>;
  delete(req: ImageDeleteRequest): Promise<void>;
  /** storage.imageImport as a job: fetch (bytes reported), verify, publish; the signal cancels. */
  importJob?(params: ImageImportParams, ctx: JobContext<ImageImportProgress>): Promise<ImageImportProgress>;
  /** Builds a base image into a datastore's repository (storage.imageBuild), steps reported as progress. */
  build?(params: ImageBuildParams, ctx: JobContext<ImageBuildProgress>): Promise<ImageBuildProgress>;
}

/** Active checks on a schedule (checks.ts runs them for real and lab hosts alike; only the probe differs). */
export interface ChecksDriver extends SectionSource<ChecksSection> {
  configure(specs: CheckSpec[]): void;
}

/** The HAProxy load balancers on this host: lb-apply's steps, `show stat`, and the `lb` section. */
export interface LbDriver extends SectionSource<LbSection> {
  write(params: LbApplyInput): Promise<{ path: string; bytes: number; configHash: string }>;
  validate(name: string): Promise<{ ok: true; output: string }>;
  reload(name: string): Promise<{ pid: number; how: "started" | "reloaded" }>;
  stat(name: string): Promise<LbRuntime>;
  remove(name: string): Promise<void>;
}

/** Counters for metric history, read when the session's timer asks (real: /proc/stat, `ip -s -d -j link`, `virsh domstats`). */
export interface StatsDriver {
  read(): Promise<StatsCounters>;
}

export interface AgentDrivers {
  hostname: string;
  node: NodeDriver;
  stats?: StatsDriver;
  checks?: ChecksDriver;
  lb?: LbDriver;
  virt?: VirtDriver;
  net?: NetDriver;
  swarm?: SwarmDriver;
  storage?: StorageDriver;
}
