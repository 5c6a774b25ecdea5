import type { ReactNode } from "react";
import { byUrgency, worstState, type HealthCheck, type HealthState } from "@nimbus/domain";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { EmptyState } from "@/components/ui/states";
import { RelativeTime } from "@/components/ui/time";
import { toneSoft } from "@/components/ui/tone";
import { cx } from "@/lib/cx";
import { healthStatus } from "@/lib/status";
import { NameList } from "@/components/ui/name-list";

export const CATEGORIES: HealthCheck["category"][] = ["host", "storage", "swarm", "network", "instance"];

export function countByState(checks: readonly HealthCheck[]): Record<HealthState, number> {
  const counts: Record<HealthState, number> = { crit: 0, warn: 0, unknown: 0, ok: 0 };
  for (const c of checks) counts[c.state]++;
  return counts;
}

/** One sentence an on-call engineer reads first. */
export function healthHeadline(checks: readonly HealthCheck[]): string {
  if (!checks.length) return "No checks yet";
  const n = countByState(checks);
  if (!n.crit && !n.warn) return n.unknown ? `No failures; ${n.unknown} unknown` : `All ${checks.length} checks OK`;
  return [n.crit && `${n.crit} critical`, n.warn && `${n.warn} warning${n.warn > 1 ? "s" : ""}`].filter(Boolean).join(", ");
}

/** The big status block at the top of the health page. */
export function HealthSummary({ checks }: { checks: readonly HealthCheck[] }) {
  const worst = checks.length ? worstState(checks) : "unknown";
  const n = countByState(checks);
  return (
    <div data-testid="health-summary" data-state={worst} className={cx("rounded-xl p-4 sm:p-5", toneSoft[worst])}>
      <div className="flex flex-wrap items-center gap-3">
        <span className="text-2xl font-bold sm:text-3xl">{healthHeadline(checks)}</span>
      </div>
      <div className="mt-2 flex flex-wrap gap-x-5 gap-y-1 text-[13px] text-fg">
        {(["crit", "warn", "unknown", "ok"] as const).map((s) => (
          <span key={s}>
            <span className="font-semibold tabular-nums">{n[s]}</span> {healthStatus(s).label.toLowerCase()}
          </span>
        ))}
      </div>
    </div>
  );
}

/** Every check, worst first: state, what, since when, what it breaks. Cards, so a phone reads them. */
export function HealthList({ checks, action }: { checks: readonly HealthCheck[]; action?: (c: HealthCheck) => ReactNode }) {
  if (!checks.length) return <EmptyState title="No checks match" />;
  return (
    <ul className="flex flex-col gap-2" data-testid="health-checks">
      {[...checks].sort(byUrgency).map((c) =>
        c.state === "ok" ? (
          // Passing checks take one line, so problems keep the screen on a phone.
          <li
            key={c.id}
            data-testid={`check-${c.id}`}
            data-state={c.state}
            className="flex flex-wrap items-center gap-x-2 gap-y-0.5 rounded-md border border-border bg-panel px-3 py-1.5 text-[12.5px]"
          >
            <StatusBadge status={healthStatus(c.state)} />
            <span className="font-medium">{c.target}</span>
            <span className="min-w-0 flex-1 truncate text-muted">{c.message}</span>
            <span className="text-[11.5px] text-muted">
              <RelativeTime iso={c.since} prefix="since " />
            </span>
          </li>
        ) : (
          <li
            key={c.id}
            data-testid={`check-${c.id}`}
            data-state={c.state}
            className={cx(
              "rounded-lg border bg-panel px-3 py-2.5 sm:px-4",
              c.state === "crit" ? "border-crit/50 border-l-4" : c.state === "warn" ? "border-warn/50 border-l-4" : "border-border",
            )}
          >
            <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
              <StatusBadge status={healthStatus(c.state)} />
              <span className="text-[14px] font-semibold">{c.target}</span>
              <Tag>{c.category}</Tag>
              <span className="ml-auto text-[12px] text-muted">
                <RelativeTime iso={c.since} prefix="since " />
              </span>
            </div>
            <p className="mt-1 text-[13px]">{c.message}</p>
            {c.affects.length > 0 && (
              <p className="mt-1 text-[12px] text-muted">
                Affects:{" "}
                <span className="text-fg">
                  <NameList names={[...new Set(c.affects)]} />
                </span>
              </p>
            )}
            {(c.ack || action) && (
              <div className="mt-1.5 flex items-center gap-2 text-[12px] text-muted">
                {c.ack ? (
                  <span data-testid="ack">
                    Acknowledged by <span className="text-fg">{c.ack.by}</span> <RelativeTime iso={c.ack.at} />
                  </span>
                ) : (
                  action?.(c)
                )}
              </div>
            )}
          </li>
        ),
      )}
    </ul>
  );
}
