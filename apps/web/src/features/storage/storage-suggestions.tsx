import type { ReactNode } from "react";
import { StatusBadge } from "@/components/ui/status-badge";
import { PlainTable, plainCell } from "@/components/ui/plain-table";
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
            <div className="mt-2 rounded-md border border-border">
              <PlainTable head={["Disk", "Size", "To", "Why", ""]}>
                {s.moves.map((m) => (
                  <tr key={`${m.instance}/${m.disk}`} data-testid={`suggested-move-${m.instance}-${m.disk}`}>
                    <td className={plainCell}>
                      <span className="font-medium">{m.instance}</span> <span className="text-muted">{m.disk}</span>
                      <span className="block font-mono text-[11px] text-faint">{m.path}</span>
                    </td>
                    <td className={`${plainCell} whitespace-nowrap tabular-nums`} title="Virtual size: an upper bound of what is copied">
                      up to {formatBytes(m.sizeBytes)}
                    </td>
                    <td className={`${plainCell} whitespace-nowrap`}>
                      <span className="font-mono">{m.to}</span> <span className="text-muted">then {formatPct(m.toPctAfter)}</span>
                    </td>
                    <td className={`${plainCell} text-muted`}>
                      {m.reason}
                      {m.running ? "; the VM keeps running (live copy)" : "; the VM is off (offline copy)"}
                    </td>
                    <td className={`${plainCell} text-right`}>{moveButton?.(m)}</td>
                  </tr>
                ))}
              </PlainTable>
            </div>
          )}
        </section>
      ))}
    </div>
  );
}
