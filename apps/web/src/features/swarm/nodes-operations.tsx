"use client";
import { isFinal, type Operation } from "@nimbus/domain";
import { LiveOperation } from "@/features/operations/live-operation";

const KINDS = new Set<Operation["kind"]>(["swarm-add-worker", "swarm-remove-worker", "swarm-create"]);

/** Workers being added or removed, under the nodes table, each live with its current step (from the pushed operations list). */
export function NodeOperations({ operations }: { operations: readonly Operation[] | undefined }) {
  const running = (operations ?? []).filter((o) => KINDS.has(o.kind) && !isFinal(o.state));
  if (!running.length) return null;
  return (
    <ul className="flex flex-col gap-2 border-t border-border px-3 py-2" data-testid="node-operations">
      {running.map((op) => (
        <li key={op.id} className="text-[13px]">
          <div className="mb-1 flex flex-wrap items-baseline gap-x-2">
            <a href={`/operations/${op.id}`} className="font-medium hover:underline">
              {op.summary}
            </a>
            <span className="text-muted">{op.steps.find((s) => s.state === "running")?.label ?? "starting"}</span>
          </div>
          <LiveOperation initial={op} compact />
        </li>
      ))}
    </ul>
  );
}
