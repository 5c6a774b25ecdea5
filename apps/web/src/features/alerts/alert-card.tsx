import Link from "next/link";
import type { ReactNode } from "react";
import type { Alert, AlertSeverity } from "@nimbus/domain";
import { NameList } from "@/components/ui/name-list";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { HumaneText, RelativeTime } from "@/components/ui/time";
import { cx } from "@/lib/cx";
import type { Status } from "@/lib/status";

/** A firing alert as the on-call page shows it (the server adds the silence muting it, if any). */
export type FiringAlert = Alert & { silencedBy: { id: string; endsAt: string; createdBy: string } | null };

const severity: Record<AlertSeverity, Status> = {
  critical: { tone: "crit", label: "Critical" },
  warning: { tone: "warn", label: "Warning" },
  info: { tone: "neutral", label: "Info" },
};
export const severityStatus = (s: AlertSeverity): Status => severity[s];

/** Where a name in "Affects" leads: hosts to their page, everything else to the instance of that name, services to the swarm page. */
function affectedHref(a: Alert, name: string): string | null {
  if (a.category === "swarm") return `/swarm?q=${encodeURIComponent(name)}`;
  if (a.category === "storage") return null;
  return `/instances/${encodeURIComponent(name)}`;
}

/** One firing alert: what, since when, what it affects, who is on it, and the actions. */
export function AlertCard({ alert: a, actions }: { alert: FiringAlert; actions?: ReactNode }) {
  const quiet = !!a.ack || !!a.silencedBy;
  return (
    <li
      data-testid={`alert-${a.id}`}
      data-severity={a.severity}
      data-acknowledged={!!a.ack || undefined}
      className={cx(
        "rounded-lg border bg-panel px-3 py-2.5 sm:px-4",
        quiet ? "border-border" : a.severity === "critical" ? "border-l-4 border-crit/50" : a.severity === "warning" ? "border-l-4 border-warn/50" : "border-border",
      )}
    >
      <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
        <StatusBadge status={severityStatus(a.severity)} />
        <span className="text-[14px] font-semibold">{a.ruleName}</span>
        <Link href={a.link} className="text-[13px] hover:text-accent hover:underline" data-testid="alert-target">
          {a.target}
        </Link>
        <span className="ml-auto text-[12px] text-muted">
          <RelativeTime iso={a.since} prefix="since " />
        </span>
      </div>
      <p className="mt-1 text-[13px]">
        <HumaneText text={a.message} />
      </p>
      {(a.affects.length > 0 || a.tenants.length > 0) && (
        <p className="mt-1 flex flex-wrap items-center gap-x-2 gap-y-1 text-[12px] text-muted">
          {a.affects.length > 0 && (
            <span>
              Affects:{" "}
              <span className="text-fg">
                <NameList names={a.affects} hrefFor={(n) => affectedHref(a, n)} />
              </span>
            </span>
          )}
          {a.tenants.length > 0 && (
            <span data-testid="alert-tenants">
              Tenants:{" "}
              {a.tenants.map((t) => (
                <Tag key={t}>{t}</Tag>
              ))}
            </span>
          )}
        </p>
      )}
      <div className="mt-1.5 flex flex-wrap items-center gap-x-3 gap-y-1 text-[12px] text-muted">
        <span>
          Fired <RelativeTime iso={a.firedAt} />
          {a.escalatedAt && <> · escalated <RelativeTime iso={a.escalatedAt} /></>}
        </span>
        {a.ack && (
          <span data-testid="alert-ack">
            Acknowledged by <span className="text-fg">{a.ack.by}</span> <RelativeTime iso={a.ack.at} />
            {a.ack.note && (
              <>
                : <q className="text-fg">{a.ack.note}</q>
              </>
            )}
          </span>
        )}
        {a.silencedBy && (
          <span data-testid="alert-silenced">
            Silenced by <span className="text-fg">{a.silencedBy.createdBy}</span>, ends <RelativeTime iso={a.silencedBy.endsAt} />
          </span>
        )}
        {actions && <span className="ml-auto flex flex-wrap gap-1.5">{actions}</span>}
      </div>
    </li>
  );
}
