import type { MaintenanceProgress } from "@nimbus/domain";
import Link from "next/link";
import { StatusBadge } from "@/components/ui/status-badge";
import { ProgressBar } from "@/components/ui/usage-bar";
import { cx } from "@/lib/cx";
import type { Status } from "@/lib/status";

type Item = MaintenanceProgress["items"][number];
type Drain = MaintenanceProgress["drains"][number];

const itemStatus: Record<Item["state"], Status> = {
  pending: { tone: "neutral", label: "Waiting" },
  draining: { tone: "warn", label: "Draining node" },
  migrating: { tone: "accent", label: "Migrating" },
  succeeded: { tone: "ok", label: "Moved" },
  failed: { tone: "crit", label: "Failed" },
  blocked: { tone: "crit", label: "Blocked" },
  cancelled: { tone: "warn", label: "Not moved" },
};

const drainWords: Record<Drain["state"], string> = {
  pending: "to be drained before its VM moves",
  drained: "drained: its tasks run on other nodes",
  restored: "drained, then given back",
  failed: "drain failed",
};

/** A stable order for reading: what is moving now, then waiting, then done, then what cannot move. */
const order: Record<Item["state"], number> = { migrating: 0, draining: 1, pending: 2, failed: 3, cancelled: 4, succeeded: 5, blocked: 6 };

/**
 * One line per VM of an evacuation: where it goes, how far its own migration is, and why it is
 * blocked or failed. Each VM's migration is an operation of its own; the evacuation mirrors its
 * percent, so this list needs nothing but the evacuation.
 */
export function MaintenanceItems({ progress, compact }: { progress: MaintenanceProgress; compact?: boolean }) {
  const items = [...progress.items].sort((a, b) => order[a.state] - order[b.state] || a.instance.localeCompare(b.instance));
  if (compact) {
    // In a table row: one short word per VM, enough to see which one is stuck.
    return (
      <div className="flex flex-wrap gap-x-3 gap-y-0.5 text-[11.5px] text-muted" data-testid="maintenance-items">
        {items.map((i) => (
          <span key={i.instance} data-state={i.state} className={cx(i.state === "failed" || i.state === "blocked" ? "text-crit" : i.state === "succeeded" && "text-ok")}>
            {i.instance} <span className="text-fg">{i.state === "migrating" ? `${Math.floor(i.percent ?? 0)} %` : itemStatus[i.state].label.toLowerCase()}</span>
          </span>
        ))}
      </div>
    );
  }
  return (
    <div className="flex flex-col gap-3">
      <ul className="flex flex-col divide-y divide-border/70 rounded-md border border-border" data-testid="maintenance-items">
        {items.map((i) => (
          <li key={i.instance} data-testid={`maintenance-item-${i.instance}`} data-state={i.state} className="grid grid-cols-[minmax(0,1fr)_auto] items-center gap-x-3 gap-y-1 px-3 py-2 text-[12.5px] sm:grid-cols-[12rem_minmax(0,1fr)_auto]">
            <span className="min-w-0 truncate">
              <Link href={`/instances/${encodeURIComponent(i.instance)}`} className="font-medium hover:text-accent hover:underline">
                {i.instance}
              </Link>
              {i.destination && <span className="text-muted"> → {i.destination}</span>}
            </span>
            <span className="col-span-2 row-start-2 min-w-0 sm:col-span-1 sm:row-start-auto">
              {i.state === "migrating" ? (
                <span className="flex items-center gap-2">
                  <span className="flex-1">
                    <ProgressBar pct={i.percent ?? 0} label={`${i.instance}: ${Math.floor(i.percent ?? 0)} %`} />
                  </span>
                  <span className="w-10 text-right tabular-nums text-muted">{Math.floor(i.percent ?? 0)} %</span>
                </span>
              ) : (
                <span className={cx("block truncate", i.state === "blocked" || i.state === "failed" ? "text-crit" : "text-muted")} title={i.reason ?? undefined}>
                  {i.state === "draining" ? `draining swarm node ${i.swarmNode ?? i.instance} first` : (i.reason ?? "")}
                </span>
              )}
            </span>
            <span className="col-start-2 row-start-1 justify-self-end sm:col-start-3">
              <StatusBadge status={itemStatus[i.state]} />
            </span>
          </li>
        ))}
      </ul>
      {progress.drains.length > 0 && (
        <ul className="flex flex-col gap-0.5 text-[12px]" data-testid="maintenance-drains">
          {progress.drains.map((d) => (
            <li key={d.node} className={d.state === "failed" ? "text-crit" : "text-muted"}>
              Swarm node <span className="font-medium text-fg">{d.node}</span> {drainWords[d.state]}
              {d.state === "restored" && d.restoreTo ? ` (${d.restoreTo})` : ""}
              {d.error ? `: ${d.error}` : ""}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
