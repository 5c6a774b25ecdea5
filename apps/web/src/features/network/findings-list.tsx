import type { Finding } from "@nimbus/domain";
import { StatusBadge } from "@/components/ui/status-badge";
import type { Status } from "@/lib/status";

const severity: Record<Finding["severity"], Status> = {
  crit: { tone: "crit", label: "Critical" },
  warn: { tone: "warn", label: "Warning" },
  info: { tone: "neutral", label: "Info" },
};
const order = { crit: 0, warn: 1, info: 2 } as const;

/** Network findings, most severe first, each with the objects it names. */
export function FindingsList({ findings, compact, empty = "No findings: the network is consistent." }: { findings: Finding[]; compact?: boolean; empty?: string }) {
  if (!findings.length) return <p className="text-[13px] text-muted">{empty}</p>;
  return (
    <ul className="flex flex-col gap-2" data-testid="findings">
      {[...findings]
        .sort((a, b) => order[a.severity] - order[b.severity] || a.id.localeCompare(b.id))
        .map((f) => (
          <li key={f.id} data-testid={`finding-${f.kind}`} className={compact ? "text-[12.5px]" : "rounded-lg border border-border bg-panel px-3 py-2 text-[13px]"}>
            <div className="flex flex-wrap items-center gap-2">
              <StatusBadge status={severity[f.severity]} />
              <span className="font-mono text-[11px] text-muted">{f.kind}</span>
            </div>
            <p className="mt-1">{f.message}</p>
          </li>
        ))}
    </ul>
  );
}
