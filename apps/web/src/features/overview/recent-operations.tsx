import type { Operation } from "@nimbus/domain";
import Link from "next/link";
import type { ReactNode } from "react";
import { StatusBadge } from "@/components/ui/status-badge";
import { RelativeTime } from "@/components/ui/time";
import { operationHref } from "@/lib/hrefs";
import { operationOutcome } from "@/lib/operation-text";
import { operationStatus } from "@/lib/status";

const isFinal = (s: Operation["state"]) => s === "succeeded" || s === "failed" || s === "cancelled";

/** A short list of the latest operations; running ones render through `live` (progress). */
export function RecentOperations({ operations, live }: { operations: Operation[]; live: (op: Operation) => ReactNode }) {
  if (!operations.length) return <p className="py-6 text-center text-[13px] text-muted">No operations yet.</p>;
  return (
    <ul className="flex flex-col divide-y divide-border">
      {operations.map((op) => (
        <li key={op.id} className="py-2 first:pt-0 last:pb-0">
          <div className="flex items-center gap-2 text-[13px]">
            <StatusBadge status={operationStatus(op.state)} />
            <Link href={operationHref(op.id)} className="truncate font-medium hover:text-accent">
              {op.summary}
            </Link>
            <span className="ml-auto shrink-0 text-[12px] text-muted">
              <RelativeTime iso={op.createdAt} />
            </span>
          </div>
          <div className="mt-1">
            {isFinal(op.state) ? (
              op.state !== "succeeded" ? (
                <p className={op.state === "failed" ? "text-[12.5px] text-crit" : "text-[12.5px] text-warn"}>{operationOutcome(op)}</p>
              ) : null
            ) : (
              live(op)
            )}
          </div>
        </li>
      ))}
    </ul>
  );
}
