import type { StackServiceProgress } from "./stack.js";

/**
 * What Cancel means for the swarm's operations. docker has no "undo" for a stack deploy or a
 * removal, and no pause for an update, so each cancel does what docker can:
 * - stack-deploy: stop following; what docker deployed stays; the error names the services
 *   that converged and those that had not (with their replicas);
 * - stack-remove: stop waiting; docker goes on removing (the services are already told to stop);
 * - service-update: `docker service rollback`: the service goes back to its previous image, and
 *   the operation ends cancelled once docker says the rollback completed (or paused);
 * - service-rollback: stop following; docker finishes the rollback (rolling back a rollback
 *   would re-apply the update).
 * The operation page shows the sentence beside the Cancel button.
 */
export const SWARM_CANCEL_MEANING = {
  "stack-deploy": "Stops following the deploy: what docker deployed so far stays, and the operation says which services converged.",
  "stack-remove": "Stops waiting: docker goes on removing the stack's services.",
  "service-update": "Rolls the service back to its previous image (docker service rollback), then ends.",
  "service-rollback": "Stops following: docker finishes the rollback.",
  "swarm-add-worker": "Stops the build: the VM is deleted with its volume (and the node removed if it joined).",
  "swarm-create": "Stops the build: the manager VM is deleted with its volume.",
  "swarm-remove-worker": "Stops waiting for the tasks to move: the node stays drained (set it active to undo).",
} as const;

export type SwarmCancellableKind = keyof typeof SWARM_CANCEL_MEANING;

export const swarmCancelMeaning = (kind: string): string | null => (kind in SWARM_CANCEL_MEANING ? SWARM_CANCEL_MEANING[kind as SwarmCancellableKind] : null);

const replicas = (s: StackServiceProgress) => `${s.name} ${s.running}/${s.desired}`;

/**
 * The error of a deploy cancelled while it followed its services: which converged, which had
 * not (with their running/desired replicas and last error); the stack stays as docker left it.
 */
export function stackDeployCancelled(stack: string, expected: readonly string[], services: readonly StackServiceProgress[]): string {
  const byName = new Map(services.map((s) => [s.name, s]));
  const converged = expected.filter((n) => {
    const s = byName.get(n);
    return !!s && s.desired > 0 && s.running >= s.desired;
  });
  const waiting = expected
    .filter((n) => !converged.includes(n))
    .map((n) => {
      const s = byName.get(n);
      return s ? `${replicas(s)}${s.error ? ` (${s.error})` : ""}` : `${n} not created yet`;
    });
  const parts = [
    converged.length ? `converged: ${converged.join(", ")}` : "no service had converged",
    waiting.length ? `not converged: ${waiting.join(", ")}` : null,
  ].filter(Boolean);
  return `deploy of ${stack} cancelled; ${parts.join("; ")}. The stack stays deployed as far as it got: deploy again or remove it`;
}

/** The error of a removal cancelled while it waited: docker goes on removing what was left. */
export function stackRemoveCancelled(stack: string, left: readonly StackServiceProgress[]): string {
  return `stopped waiting for ${stack} to go: cancelled; docker goes on removing ${left.length ? left.map((s) => s.name).join(", ") : "its services"}`;
}

/** The error of an update cancelled by rolling it back, as docker ended the rollback. */
export function updateCancelled(service: string, from: string, to: string, rollback: { state: string; message: string | null; updated: number; total: number }): string {
  if (rollback.state === "rollback_completed") return `update of ${service} to ${to} cancelled: docker rolled it back to ${from} (${rollback.updated}/${rollback.total} tasks on ${from})`;
  return `update of ${service} to ${to} cancelled, but docker's rollback to ${from} ended ${rollback.state.replace("_", " ")}${rollback.message ? `: ${rollback.message}` : ""}`;
}
