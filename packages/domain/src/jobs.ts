import { z } from "zod";
import { boundedName, boundedText } from "./bounds.js";
import { MaintenanceProgress } from "./maintenance/progress.js";
import { OperationStep } from "./provision/steps.js";
import { ImageBuildProgress, ImageImportProgress } from "./provision/image-build-job.js";
import { DomainName, HostName, ServiceName } from "./names.js";
import { StackDeployProgress, StackRemoveProgress } from "./swarm/stack.js";
import { ServiceRollbackProgress, ServiceUpdateProgress } from "./swarm/service-update.js";

/**
 * A job is long work an agent does for the server (a migration, a scale). The server names it
 * with its operation id so that, after a reconnect or a server restart, `job.list` on the agent
 * tells the server how each operation ended.
 */
export const JobState = z.enum(["running", "succeeded", "failed", "cancelled"]);
export type JobState = z.infer<typeof JobState>;

export const MigrationPhase = z.enum(["preparing", "copying", "switchover", "finishing", "done"]);

export const MigrationProgress = z.object({
  kind: z.literal("migrate"),
  phase: MigrationPhase,
  memoryTotalBytes: z.number().nonnegative(),
  memoryProcessedBytes: z.number().nonnegative(),
  memoryRemainingBytes: z.number().nonnegative(),
  bandwidthBytesPerSec: z.number().nonnegative(),
  dirtyRateBytesPerSec: z.number().nonnegative(),
  iteration: z.number().int().nonnegative(),
  expectedDowntimeMs: z.number().nonnegative().nullable(),
  /** Monotonic 0-100: re-sent dirty pages raise the iteration, never lower this. */
  percent: z.number().min(0).max(100),
  /** Measured at the end, when the tool reports it. */
  downtimeMs: z.number().nonnegative().nullable(),
});
export type MigrationProgress = z.infer<typeof MigrationProgress>;

export const ScaleProgress = z.object({
  kind: z.literal("scale"),
  service: boundedName(),
  desired: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
});
export type ScaleProgress = z.infer<typeof ScaleProgress>;

export const StorageMovePhase = z.enum(["preparing", "copying", "verifying", "switchover", "cleanup", "done"]);

/** A disk copied to another datastore: block copy while the VM runs, a plain copy while it is off. */
export const StorageMoveProgress = z.object({
  kind: z.literal("storage-move"),
  phase: StorageMovePhase,
  mode: z.enum(["live", "offline"]),
  bytesTotal: z.number().nonnegative(),
  bytesCopied: z.number().nonnegative(),
  bandwidthBytesPerSec: z.number().nonnegative(),
  /** Monotonic 0-100, like a migration's. */
  percent: z.number().min(0).max(100),
});
export type StorageMoveProgress = z.infer<typeof StorageMoveProgress>;

/**
 * A create or delete reports its steps whole (state, times, the tool's last lines), so the
 * operation's task view is the agent's own record; `undone` says what a failure or cancel
 * cleaned up, in words.
 */
export const CreateProgress = z.object({
  kind: z.literal("create"),
  steps: z.array(OperationStep).max(16),
  /** The guest's first address once it reports one. */
  address: z.string().max(64).nullable(),
  undone: z.array(boundedText()).max(16),
});
export type CreateProgress = z.infer<typeof CreateProgress>;

export const DeleteProgress = z.object({
  kind: z.literal("delete"),
  steps: z.array(OperationStep).max(64),
  /** Volumes left in place because they are not on a datastore (a local image, a device). */
  kept: z.array(boundedText()).max(64),
});
export type DeleteProgress = z.infer<typeof DeleteProgress>;

export const JobProgress = z.discriminatedUnion("kind", [MigrationProgress, ScaleProgress, StorageMoveProgress, MaintenanceProgress, CreateProgress, DeleteProgress, ServiceUpdateProgress, ServiceRollbackProgress, StackDeployProgress, StackRemoveProgress, ImageBuildProgress, ImageImportProgress]);
export type JobProgress = z.infer<typeof JobProgress>;

export const Job = z
  .object({
    id: boundedName(),
    kind: z.enum(["migrate", "scale", "storage-move", "create", "delete", "service-update", "service-rollback", "stack-deploy", "stack-remove", "image-build", "image-import"]),
    state: JobState,
    progress: JobProgress.nullable(),
    error: boundedText().nullable(),
    startedAt: boundedName(),
    finishedAt: boundedName().nullable(),
  })
  // An agent reports its own kinds of progress only (an evacuation's is the server's).
  .refine((j) => !j.progress || j.progress.kind === j.kind, { message: "progress of another kind of job", path: ["progress"] });
export type Job = z.infer<typeof Job>;

export const MigrateOptions = z.object({
  /** MiB/s; null means unlimited. */
  bandwidthMiBps: z.number().int().positive().max(100_000).nullable().default(null),
  maxDowntimeMs: z.number().int().positive().max(60_000).nullable().default(null),
  autoConverge: z.boolean().default(false),
  postCopy: z.boolean().default(false),
});
export type MigrateOptions = z.infer<typeof MigrateOptions>;

export const MigrateParams = z.object({
  jobId: z.string().min(1).max(64),
  domain: DomainName,
  destination: z.object({
    host: HostName,
    /** libvirt URI the source's virsh connects to, e.g. qemu+ssh://kvm2/system. */
    uri: z.string().max(512),
  }),
  options: MigrateOptions,
});
export type MigrateParams = z.infer<typeof MigrateParams>;

export const ScaleParams = z.object({
  jobId: z.string().min(1).max(64),
  service: ServiceName,
  replicas: z.number().int().min(0).max(1000),
});
export type ScaleParams = z.infer<typeof ScaleParams>;

export const MoveDiskParams = z.object({
  jobId: z.string().min(1).max(64),
  domain: DomainName,
  /** Target device of the disk in the domain, e.g. vda. */
  disk: z.string().regex(/^[a-z]{2,3}[a-z0-9]{1,4}$/, "disk targets look like vda, sdb, hdc"),
  /** Absolute path of the new copy on the destination datastore's mount. */
  destinationPath: z
    .string()
    .max(1024)
    .regex(/^\/(?:[A-Za-z0-9_.-]+\/)*[A-Za-z0-9_][A-Za-z0-9_.-]*$/, "an absolute path of plain names")
    .refine((p) => !p.split("/").includes(".."), "no '..' in the path"),
  /** MiB/s; null means unlimited (not advised: it competes with every VM on the datastore). */
  bandwidthMiBps: z.number().int().positive().max(100_000).nullable(),
});
export type MoveDiskParams = z.infer<typeof MoveDiskParams>;
