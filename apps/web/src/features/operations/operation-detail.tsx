import type { Operation } from "@nimbus/domain";
import Link from "next/link";
import type { ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { Panel } from "@/components/ui/panel";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { cx } from "@/lib/cx";
import { formatAbsolute, formatDuration, formatRelative } from "@/lib/format";
import { createdAddress, operationOutcome, operationPhases, type PhaseMark } from "@/lib/operation-text";
import { targetHref } from "@/lib/hrefs";
import { operationStatus } from "@/lib/status";
import { MaintenanceItems } from "./maintenance-items";
import { OperationProgress } from "./operation-progress";
import { StepList } from "./step-list";

const isFinal = (s: Operation["state"]) => s === "succeeded" || s === "failed" || s === "cancelled";

const kindWords: Record<string, string> = {
  create: "Create",
  delete: "Delete",
  migrate: "Live migration",
  scale: "Scale",
  power: "Power",
  maintenance: "Evacuation",
  "storage-move": "Disk move",
};

/** Took so far (running) or in all (ended); clamped, as the table does. */
export const operationDuration = (op: Operation, now: number) => Math.max(0, (op.finishedAt ? Date.parse(op.finishedAt) : now) - Date.parse(op.createdAt));

function When({ iso, now }: { iso: string | null; now: number }) {
  if (!iso) return <span className="text-faint">—</span>;
  return (
    <span className="tabular-nums" title={iso}>
      {formatAbsolute(iso)} <span className="text-muted">({formatRelative(iso, now)})</span>
    </span>
  );
}

const phaseCls: Record<PhaseMark, string> = {
  done: "border-ok/50 bg-ok-soft text-ok",
  current: "border-accent bg-accent-soft text-accent",
  pending: "border-border text-faint",
  stopped: "border-crit/50 bg-crit-soft text-crit",
};

/** Phases of work that has no steps: where it is on the way. */
function PhaseTrack({ phases }: { phases: { label: string; mark: PhaseMark }[] }) {
  return (
    <ol className="flex flex-wrap items-center gap-1.5" data-testid="operation-phases" aria-label="Phases">
      {phases.map((p, i) => (
        <li key={p.label} data-mark={p.mark} className="flex items-center gap-1.5">
          {i > 0 && <span aria-hidden className="h-px w-3 bg-border" />}
          <span className={cx("rounded-full border px-2 py-0.5 text-[11.5px] font-medium", phaseCls[p.mark])}>
            {p.mark === "done" ? "✓ " : p.mark === "stopped" ? "✕ " : ""}
            {p.label}
          </span>
        </li>
      ))}
    </ol>
  );
}

/** What the operation was asked to do, for staff (tenants get operations without params). */
function paramText(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return v.length ? v.map(paramText).join(", ") : "none";
  return Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== null && x !== undefined && x !== false)
    .map(([k, x]) => `${k} ${paramText(x)}`)
    .join(", ") || "—";
}

const knownLabels: Record<string, string> = { vcpus: "vCPU", memoryMiB: "Memory (MiB)", diskGiB: "Disk (GiB)", vlan: "VLAN", vni: "VNI", sshKeys: "SSH keys", firstBoot: "First-boot commands", bandwidthMiBps: "Bandwidth (MiB/s)", vnis: "VNIs added", volumePath: "Volume" };
const paramLabel = (k: string) => knownLabels[k] ?? k.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase().replace(/^./, (c) => c.toUpperCase());

/**
 * One operation as a task viewer: header (kind, target, state, who, when, how long), its steps
 * with times and the tool's log lines, or for work without steps its phases and figures; the
 * outcome in words when it ended. Drawn from the operation alone.
 */
export function OperationDetail({
  op,
  now,
  onCancel,
  cancelling,
  cancelLabel,
  cancelHint,
  showHost,
  showSummary = true,
}: {
  op: Operation;
  now: number;
  onCancel?: () => void;
  cancelling?: boolean;
  cancelLabel?: string;
  /** What Cancel does for this kind, when docker decides (swarm operations). */
  cancelHint?: string | null;
  /** Staff: the host running the job (a tenant's operations carry a token there). */
  showHost?: boolean;
  /** False where the page's own title already says it. */
  showSummary?: boolean;
}) {
  const final = isFinal(op.state);
  const phases = operationPhases(op);
  const address = createdAddress(op);
  const facts: [string, ReactNode][] = [
    ["Target", <Link key="t" href={targetHref(op.target)} className="font-medium hover:text-accent hover:underline" data-testid="operation-target">{op.target.name}</Link>],
    ...(showHost && op.host ? ([["Host", <Link key="h" href={`/hosts/${encodeURIComponent(op.host)}`} className="hover:text-accent hover:underline">{op.host}</Link>]] as [string, ReactNode][]) : []),
    ...(op.tenant ? ([["Tenant", op.tenant]] as [string, ReactNode][]) : []),
    ["Requested by", op.requestedBy],
    ["Started", <When key="s" iso={op.createdAt} now={now} />],
    ["Finished", final ? <When key="f" iso={op.finishedAt ?? op.updatedAt} now={now} /> : <span className="text-accent">still running</span>],
    ["Duration", <span key="d" className="tabular-nums" data-testid="operation-duration">{formatDuration(operationDuration(op, now))}</span>],
    ...(address ? ([["Address", <span key="a" className="font-mono" data-testid="operation-address">{address}</span>]] as [string, ReactNode][]) : []),
  ];
  const params = Object.entries(op.params).filter(([k]) => k !== "steps");

  return (
    <div className="flex flex-col gap-4" data-testid="operation-detail" data-kind={op.kind} data-state={op.state}>
      <section className="rounded-lg border border-border bg-panel">
        <div className="flex flex-wrap items-center gap-x-3 gap-y-2 border-b border-border px-4 py-3">
          <Tag>{kindWords[op.kind] ?? op.kind}</Tag>
          {showSummary ? (
            <h2 className="min-w-0 flex-1 text-[14px] font-semibold" data-testid="operation-summary">
              {op.summary}
            </h2>
          ) : (
            <span className="min-w-0 flex-1 truncate font-mono text-[12px] text-muted">{op.id}</span>
          )}
          <StatusBadge status={operationStatus(op.state)} size="lg" />
          {onCancel && !final && (
            <Button size="sm" onClick={onCancel} busy={cancelling} data-testid="operation-detail-cancel" title={cancelHint ?? undefined}>
              {cancelLabel ?? "Cancel"}
            </Button>
          )}
        </div>
        <dl className="grid grid-cols-1 gap-x-8 gap-y-2 px-4 py-3 text-[12.5px] sm:grid-cols-2 xl:grid-cols-4">
          {facts.map(([label, value]) => (
            <div key={label} className="flex min-w-0 justify-between gap-3 sm:block">
              <dt className="text-[11.5px] text-muted">{label}</dt>
              <dd className="min-w-0 truncate text-right sm:text-left">{value}</dd>
            </div>
          ))}
        </dl>
        <div className="border-t border-border px-4 py-3">
          {final ? (
            <OutcomeLine op={op} />
          ) : (
            // The running figures and bar; the detail's own header holds the Cancel button.
            <>
              <OperationProgress op={op} />
              {onCancel && cancelHint && (
                <p className="mt-2 text-[11.5px] text-muted" data-testid="operation-cancel-hint">
                  {cancelLabel ?? "Cancel"}: {cancelHint}
                </p>
              )}
            </>
          )}
        </div>
      </section>

      {op.steps.length > 0 && (
        <Panel title={<StepsTitle op={op} />} bodyClass="p-0">
          <StepList steps={op.steps} now={now} ended={final} />
        </Panel>
      )}

      {op.steps.length === 0 && phases && (
        <Panel title="Phases">
          <PhaseTrack phases={phases} />
        </Panel>
      )}

      {op.progress?.kind === "maintenance" && op.progress.items.length > 0 && final && (
        <Panel title="Instances">
          <MaintenanceItems progress={op.progress} />
        </Panel>
      )}

      {op.progress?.kind === "create" && op.progress.undone.length > 0 && (
        <Panel title="Cleaned up">
          <ul className="flex list-disc flex-col gap-0.5 pl-5 text-[12.5px]" data-testid="operation-undone">
            {op.progress.undone.map((u) => (
              <li key={u}>{u}</li>
            ))}
          </ul>
        </Panel>
      )}
      {op.progress?.kind === "delete" && op.progress.kept.length > 0 && (
        <Panel title="Kept">
          <p className="mb-1 text-[12.5px] text-muted">Not on a datastore, so left where they are:</p>
          <ul className="flex list-disc flex-col gap-0.5 pl-5 font-mono text-[12px]">
            {op.progress.kept.map((k) => (
              <li key={k}>{k}</li>
            ))}
          </ul>
        </Panel>
      )}

      {params.length > 0 && (
        <Panel title="Request">
          <dl className="grid grid-cols-1 gap-x-8 gap-y-1.5 text-[12.5px] sm:grid-cols-2">
            {params.map(([k, v]) => (
              <div key={k} className="flex min-w-0 gap-3">
                <dt className="w-36 shrink-0 text-muted">{paramLabel(k)}</dt>
                <dd className="min-w-0 break-words font-mono text-[12px]">{paramText(v)}</dd>
              </div>
            ))}
          </dl>
        </Panel>
      )}
    </div>
  );
}

function StepsTitle({ op }: { op: Operation }) {
  const done = op.steps.filter((s) => s.state === "succeeded").length;
  const counted = op.steps.filter((s) => s.state !== "skipped").length;
  return (
    <div className="flex items-baseline gap-2">
      <h2 className="text-[13.5px] font-semibold">Steps</h2>
      <span className="text-[12px] tabular-nums text-muted">
        {done} of {counted} done
      </span>
    </div>
  );
}

function OutcomeLine({ op }: { op: Operation }) {
  const tone = op.state === "succeeded" ? "text-ok" : op.state === "cancelled" ? "text-warn" : "text-crit";
  return (
    <p data-testid="operation-outcome" data-state={op.state} role={op.state === "failed" ? "alert" : "status"} className={cx("text-[13px]", tone)}>
      <span className="font-semibold">{op.state === "succeeded" ? "Done: " : op.state === "cancelled" ? "Cancelled: " : "Failed: "}</span>
      <span className="text-fg">{operationOutcome(op)}</span>
    </p>
  );
}
