import { z } from "zod";
import { boundedName, boundedText } from "../bounds.js";
import { ServiceName } from "../names.js";
import { can, type Viewer } from "../access.js";

/**
 * Updating a service's image and rolling it back, as operations (`service-update`,
 * `service-rollback`). The agent starts docker's own rolling update and follows it; the
 * progress is docker's UpdateStatus plus a count of the tasks on the new spec.
 */

/**
 * An image reference as `docker service update --image` takes it: [registry[:port]/]path[:tag][@digest].
 * Checked here so that nothing else reaches docker's argument list (and never an option: no leading '-').
 */
export const ImageRef = z
  .string()
  .min(1)
  .max(255)
  .regex(
    /^[a-z0-9][a-z0-9._-]*(?::[0-9]{1,5})?(?:\/[a-z0-9][a-z0-9._-]*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/,
    "an image is written like registry:5000/team/app:1.2 (lower-case path, optional tag and digest)",
  );

/** docker's UpdateStatus.State, and "idle" when the service was never updated. */
export const ServiceUpdateState = z.enum(["idle", "updating", "paused", "completed", "rollback_started", "rollback_paused", "rollback_completed"]);
export type ServiceUpdateState = z.infer<typeof ServiceUpdateState>;

/** What a manager reports about a service's last update (inventory, bounded). */
export const ServiceUpdateStatus = z.object({
  state: ServiceUpdateState,
  message: boundedText().nullable(),
  startedAt: boundedName().nullable(),
  completedAt: boundedName().nullable(),
});
export type ServiceUpdateStatus = z.infer<typeof ServiceUpdateStatus>;

export const ServiceUpdateRequest = z.object({ service: ServiceName, image: ImageRef });
export type ServiceUpdateRequest = z.infer<typeof ServiceUpdateRequest>;
export const ServiceRollbackRequest = z.object({ service: ServiceName });
export type ServiceRollbackRequest = z.infer<typeof ServiceRollbackRequest>;

const jobId = z.string().min(1).max(64);
export const ServiceUpdateParams = ServiceUpdateRequest.extend({ jobId });
export type ServiceUpdateParams = z.infer<typeof ServiceUpdateParams>;
export const ServiceRollbackParams = ServiceRollbackRequest.extend({ jobId });
export type ServiceRollbackParams = z.infer<typeof ServiceRollbackParams>;

const progressFields = {
  service: boundedName(),
  /** The image the service is moving to (the previous one for a rollback). */
  image: boundedName(),
  state: ServiceUpdateState,
  /** docker's UpdateStatus.Message, e.g. "update paused due to failure or early termination of task …". */
  message: boundedText().nullable(),
  /** Tasks meant to run that run the target image, of `total`. */
  updated: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** The error of the newest failed task, when one failed. */
  taskError: boundedText().nullable(),
};
export const ServiceUpdateProgress = z.object({ kind: z.literal("service-update"), ...progressFields });
export type ServiceUpdateProgress = z.infer<typeof ServiceUpdateProgress>;
export const ServiceRollbackProgress = z.object({ kind: z.literal("service-rollback"), ...progressFields });
export type ServiceRollbackProgress = z.infer<typeof ServiceRollbackProgress>;

/** How an update being followed ends, from docker's state: null while it goes on. */
export function updateOutcome(state: ServiceUpdateState, rollback: boolean): "succeeded" | "failed" | null {
  if (rollback) {
    if (state === "rollback_completed") return "succeeded";
    if (state === "rollback_paused" || state === "paused") return "failed";
    return null;
  }
  if (state === "completed") return "succeeded";
  // A paused update stopped on a failed task; docker rolling back by itself (failure action
  // "rollback") is a failed update too, whatever the rollback's own outcome.
  if (state === "paused" || state === "rollback_started" || state === "rollback_paused" || state === "rollback_completed") return "failed";
  return null;
}

/** Staff who may scale, and a tenant's members for their own tenant's services. */
export const canUpdateService = (viewer: Pick<Viewer, "role" | "tenant">, serviceTenant: string | null): boolean =>
  can(viewer, "workload:scale") || (viewer.role === "tenant" && viewer.tenant !== null && viewer.tenant === serviceTenant);
