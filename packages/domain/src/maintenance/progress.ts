import { z } from "zod";

/**
 * Progress of a host evacuation ("enter maintenance"): one item per VM on the host, each moved by
 * its own migrate operation, and the swarm nodes drained on the way. The server runs it, not an
 * agent, so this lives beside the job progress shapes only to travel in `Operation.progress`.
 */
export const MaintenanceItemState = z.enum([
  "pending",
  /** Its swarm node is being drained before the VM moves. */
  "draining",
  "migrating",
  "succeeded",
  "failed",
  /** The dry-run found no destination: it stays, with the failing check as the reason. */
  "blocked",
  "cancelled",
]);
export type MaintenanceItemState = z.infer<typeof MaintenanceItemState>;

export const MaintenanceItem = z.object({
  instance: z.string(),
  destination: z.string().nullable(),
  state: MaintenanceItemState,
  /** The migrate operation moving it, once started. */
  operationId: z.string().nullable(),
  /** Its migration's percent while it runs. */
  percent: z.number().min(0).max(100).nullable(),
  /** Why it is blocked or failed; why this destination while it is pending. */
  reason: z.string().nullable(),
  /** Swarm node (the VM itself) drained before the move, when it is one. */
  swarmNode: z.string().nullable(),
});
export type MaintenanceItem = z.infer<typeof MaintenanceItem>;

export const DrainState = z.enum(["pending", "drained", "restored", "failed"]);
export const MaintenanceDrain = z.object({
  node: z.string(),
  state: DrainState,
  /** Availability to give back once the VM runs elsewhere; null when it stays drained. */
  restoreTo: z.enum(["active", "pause"]).nullable(),
  error: z.string().nullable(),
});
export type MaintenanceDrain = z.infer<typeof MaintenanceDrain>;

export const MaintenanceProgress = z.object({
  kind: z.literal("maintenance"),
  parallelism: z.number().int().positive(),
  /** VMs that had a destination in the plan. */
  total: z.number().int().nonnegative(),
  moved: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  blocked: z.number().int().nonnegative(),
  /** Monotonic 0-100 over the movable VMs. */
  percent: z.number().min(0).max(100),
  items: z.array(MaintenanceItem),
  drains: z.array(MaintenanceDrain),
});
export type MaintenanceProgress = z.infer<typeof MaintenanceProgress>;
