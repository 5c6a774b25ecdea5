import { z } from "zod";
import { JobProgress, MigrateOptions } from "./jobs.js";
import { TenantSlug } from "./names.js";

/** Long work as the server records it: created at once, settled by pushed job updates. */
export const OperationKind = z.enum(["migrate", "scale", "power", "maintenance"]);
export type OperationKind = z.infer<typeof OperationKind>;

export const OperationState = z.enum(["pending", "running", "succeeded", "failed", "cancelled"]);
export type OperationState = z.infer<typeof OperationState>;
export const isFinal = (s: OperationState) => s === "succeeded" || s === "failed" || s === "cancelled";

export const OperationTarget = z.object({
  type: z.enum(["instance", "service", "host"]),
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
