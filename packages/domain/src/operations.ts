import { z } from "zod";
import { JobProgress, MigrateOptions } from "./jobs.js";
import { DomainName, HostName, TenantSlug } from "./names.js";
import { OperationStep } from "./provision/steps.js";

/** Long work as the server records it: created at once, settled by pushed job updates. */
export const OperationKind = z.enum([
  "migrate",
  "scale",
  "power",
  "maintenance",
  "storage-move",
  "create",
  "delete",
  // images (issue 13)
  "image-build",
  "image-import",
  // the swarm on demand (issue 14)
  "swarm-create",
  "swarm-add-worker",
  "swarm-remove-worker",
  "stack-deploy",
  "stack-remove",
  "service-update",
  "service-rollback",
  // load balancers (issue 15)
  "lb-apply",
]);
export type OperationKind = z.infer<typeof OperationKind>;

export const OperationState = z.enum(["pending", "running", "succeeded", "failed", "cancelled"]);
export type OperationState = z.infer<typeof OperationState>;
export const isFinal = (s: OperationState) => s === "succeeded" || s === "failed" || s === "cancelled";

export const OperationTarget = z.object({
  type: z.enum(["instance", "service", "host", "image", "stack", "swarm", "node", "load-balancer"]),
  name: z.string(),
});

export const Operation = z.object({
  id: z.string(),
  kind: OperationKind,
  state: OperationState,
  target: OperationTarget,
  /** Host whose agent runs the job. */
  host: z.string(),
  /** Tenant the target belongs to, for visibility. */
  tenant: TenantSlug.nullable(),
  requestedBy: z.string(),
  summary: z.string(),
  params: z.record(z.string(), z.unknown()),
  progress: JobProgress.nullable(),
  /** The task view: a create's or delete's steps with their times and log lines; empty for other kinds. */
  steps: z.array(OperationStep).default([]),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type Operation = z.infer<typeof Operation>;

export const MigrateRequest = z.object({
  instance: z.string(),
  destination: z.string(),
  options: MigrateOptions.default({ bandwidthMiBps: null, maxDowntimeMs: null, autoConverge: false, postCopy: false }),
});
export type MigrateRequest = z.infer<typeof MigrateRequest>;

/** Evacuate a host: run its dry-run plan with at most `parallelism` migrations at a time. */
export const MaintenanceRequest = z.object({
  host: HostName,
  parallelism: z.number().int().min(1).max(8).default(2),
  options: MigrateOptions.default({ bandwidthMiBps: null, maxDowntimeMs: null, autoConverge: false, postCopy: false }),
});
export type MaintenanceRequest = z.infer<typeof MaintenanceRequest>;

/** Move one disk of a VM to another datastore (by its export path, e.g. /instance2). */
export const MoveDiskRequest = z.object({
  instance: DomainName,
  disk: z.string().regex(/^[a-z]{2,3}[a-z0-9]{1,4}$/, "disk targets look like vda, sdb, hdc"),
  datastore: z.string().max(512).regex(/^\/[A-Za-z0-9_./-]*$/, "a datastore is an export path such as /instance2"),
  /** MiB/s; storage moves are slow and compete with running VMs, so a limit is the default. */
  bandwidthMiBps: z.number().int().positive().max(100_000).nullable().default(100),
});
export type MoveDiskRequest = z.infer<typeof MoveDiskRequest>;
