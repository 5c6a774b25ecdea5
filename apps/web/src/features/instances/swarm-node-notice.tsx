import type { ReactNode } from "react";
import { StatusBadge } from "@/components/ui/status-badge";
import type { VmSwarmRole } from "@/lib/api-types";
import { swarmAvailabilityStatus, swarmNodeStatus } from "@/lib/status";

const taskName = (t: VmSwarmRole["tasks"][number]) => (t.slot !== null ? `${t.serviceName}.${t.slot}` : t.serviceName);

/**
 * The VM is a swarm node: what it runs now, and (for a node not drained yet) the offer to drain
 * it first, so its tasks move to other nodes before its memory does. The button is a slot: only
 * viewers who may change node availability get one.
 */
export function SwarmNodeNotice({ vm, swarm, drainButton }: { vm: string; swarm: VmSwarmRole; drainButton?: ReactNode }) {
  const drained = swarm.availability === "drain";
  return (
    <div className="rounded-lg border border-border bg-panel-2/60 p-3 text-[12.5px]" data-testid="swarm-node-notice" data-availability={swarm.availability}>
      <div className="flex flex-wrap items-start gap-3">
        <div className="min-w-0 flex-1">
          <p className="flex flex-wrap items-center gap-2">
            <span className="font-medium">
              {vm} is a swarm {swarm.role}
            </span>
            <StatusBadge status={swarmNodeStatus(swarm.status)} />
            <StatusBadge status={swarmAvailabilityStatus(swarm.availability)} />
          </p>
          <p className="mt-1 text-muted">
            {swarm.tasks.length === 0
              ? drained
                ? "Drained: no task runs on it any more. Set it back to active on the Swarm page once it has moved."
                : "No task runs on it right now."
              : `Runs ${swarm.tasks.length} task${swarm.tasks.length === 1 ? "" : "s"}: `}
            {swarm.tasks.length > 0 && <span className="font-mono text-[11.5px] text-fg">{swarm.tasks.map(taskName).join(", ")}</span>}
          </p>
          {!drained && swarm.tasks.length > 0 && (
            <p className="mt-1 text-muted">
              {swarm.role === "manager"
                ? "A live migration keeps them running. A manager keeps the cluster running, so draining it is rarely needed."
                : "A live migration keeps them running; draining first moves them to other nodes, so a failed migration cannot take them down."}
            </p>
          )}
          {drained && swarm.tasks.length > 0 && <p className="mt-1 text-muted">Draining: the swarm is moving these tasks to other nodes.</p>}
        </div>
        {drainButton}
      </div>
    </div>
  );
}
