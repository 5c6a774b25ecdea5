import type { ReactNode } from "react";
import { StatusBadge } from "@/components/ui/status-badge";
import type { DatastoresCapacity, StorageSuggestion } from "@/lib/api-types";
import { formatBytes, formatPct } from "@/lib/format";
import { healthStatus } from "@/lib/status";

type SuggestedMove = StorageSuggestion["moves"][number];

/**
 * What to do about a datastore over the threshold: which disks to move where to get back under
 * it, computed by the server with the fewest bytes copied. The Move… button is a slot, for the
 * viewers who may move disks.
 */
export function StorageSuggestions({
  capacity,
  moveButton,
}: {
  capacity: Pick<DatastoresCapacity, "thresholds" | "suggestions">;
  moveButton?: (move: SuggestedMove) => ReactNode;
}) {
  const { thresholds, suggestions } = capacity;
  if (!suggestions.length)
    return (
      <p className="text-[13px] text-muted" data-testid="storage-suggestions-none">
        Every datastore is under {thresholds.warnPct} %: nothing needs to move.
      </p>
    );
  return (
    <div className="flex flex-col gap-4" data-testid="storage-suggestions">
      {suggestions.map((s) => (
        <section key={s.datastore} data-testid={`suggestion-${s.datastore}`}>
          <p className="flex flex-wrap items-center gap-2 text-[13px]">
            <span className="font-mono font-semibold">{s.datastore}</span> <span>is {formatPct(s.usedPct)} full</span> <StatusBadge status={healthStatus(s.level)} />{" "}
            <span className="text-muted">
              (warning from {thresholds.warnPct} %, critical from {thresholds.critPct} %)
            </span>
          </p>
          {s.moves.length > 0 && (
            <p className="mt-1 text-[13px]">
              Move {s.moves.length === 1 ? "this disk" : `these ${s.moves.length} disks`} to get under {s.targetPct} %: {s.datastore} would then be {formatPct(s.usedPctAfter)} full.
            </p>
          )}
          {!s.enough && s.shortfall && (
            <p className="mt-1 text-[13px] text-warn" role="status">
              {s.moves.length ? "Not enough on its own: " : "No move helps: "}
              {s.shortfall}.
            </p>
          )}
          {s.moves.length > 0 && (
            <ul className="mt-2 divide-y divide-border rounded-md border border-border">
              {s.moves.map((m) => (
                <li key={`${m.instance}/${m.disk}`} className="flex flex-wrap items-start gap-x-4 gap-y-1 px-3 py-2 text-[12.5px]" data-testid={`suggested-move-${m.instance}-${m.disk}`}>
                  <div className="min-w-0 flex-1">
                    <p>
                      <span className="font-medium">{m.instance}</span> <span className="text-muted">{m.disk}</span>{" "}
                      <span className="tabular-nums text-muted" title="Virtual size: an upper bound of what is copied">
                        · up to {formatBytes(m.sizeBytes)}
                      </span>
                    </p>
                    <p className="break-all font-mono text-[11.5px]">
                      {m.path} <span className="text-muted">→</span> {m.to} <span className="font-sans text-muted">(then {formatPct(m.toPctAfter)} full)</span>
                    </p>
                    <p className="text-muted">
                      Why: {m.reason}; {m.running ? "the VM keeps running (live copy)" : "the VM is off (offline copy)"}.
                    </p>
                  </div>
                  {moveButton?.(m)}
                </li>
              ))}
            </ul>
          )}
        </section>
      ))}
    </div>
  );
}
