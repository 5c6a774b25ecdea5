import type { Operation } from "@nimbus/domain";
import { Button } from "@/components/ui/button";
import { ProgressBar } from "@/components/ui/usage-bar";
import { cx } from "@/lib/cx";
import { operationFigures, operationHeadline, operationOutcome, operationRoute } from "@/lib/operation-text";
import { MaintenanceItems } from "./maintenance-items";

const isFinal = (s: Operation["state"]) => s === "succeeded" || s === "failed" || s === "cancelled";

/** Percent complete for the bar: the work's own (monotonic) figure, or replicas converged. */
export function progressPercent(op: Operation): number | null {
  const p = op.progress;
  if (op.state === "succeeded") return 100;
  if (p?.kind === "migrate" || p?.kind === "storage-move" || p?.kind === "maintenance") return p.percent;
  if (p?.kind === "scale") {
    if (p.running === p.desired) return 100;
    // Distance covered from the replica count the service had when scaling began.
    const from = typeof op.params.from === "number" ? op.params.from : 0;
    const span = Math.abs(p.desired - from);
    return span ? Math.min(100, (100 * Math.abs(p.running - from)) / span) : 0;
  }
  // A task of steps (create, delete): the share of steps behind it, half a step for the one running.
  if (op.steps.length) {
    const done = op.steps.filter((s) => s.state === "succeeded" || s.state === "skipped").length;
    const running = op.steps.some((s) => s.state === "running") ? 0.5 : 0;
    return Math.min(100, (100 * (done + running)) / op.steps.length);
  }
  return null;
}

/**
 * The one progress display for long work, in a table row (compact) or on a detail page. Drawn
 * from the operation alone, so fixtures render it and the live cache keeps it moving.
 */
export function OperationProgress({
  op,
  onCancel,
  cancelling,
  cancelLabel = "Cancel",
  cancelHint,
  compact,
}: {
  op: Operation;
  /** Absent when the viewer may not cancel (or the operation cannot be cancelled). */
  onCancel?: () => void;
  cancelling?: boolean;
  /** "Abort" for an evacuation, which stops what has not started and cancels what is in flight. */
  cancelLabel?: string;
  /** What Cancel does when it is not plain "stop and undo" (a swarm operation: docker has no undo). */
  cancelHint?: string | null;
  compact?: boolean;
}) {
  const final = isFinal(op.state);
  const pct = progressPercent(op);
  const route = operationRoute(op);
  // An evacuation's per-VM list says what moved and what is left, during and after.
  const items = op.progress?.kind === "maintenance" && op.progress.items.length > 0 ? <MaintenanceItems progress={op.progress} compact={compact} /> : null;

  if (final) {
    const tone = op.state === "succeeded" ? "text-ok" : op.state === "cancelled" ? "text-warn" : "text-crit";
    const outcome = (
      <div data-testid="operation-outcome" data-state={op.state} role={op.state === "failed" ? "alert" : "status"} className={cx("text-[12.5px]", tone)}>
        <span className="font-medium">{op.state === "succeeded" ? "Done: " : op.state === "cancelled" ? "Cancelled: " : "Failed: "}</span>
        <span className="text-fg">{operationOutcome(op)}</span>
      </div>
    );
    if (!items || compact) return outcome;
    return (
      <div className="flex flex-col gap-3">
        {outcome}
        {items}
      </div>
    );
  }

  const figures = operationFigures(op);
  return (
    <div data-testid="operation-progress" data-kind={op.kind} data-state={op.state} className={cx("flex flex-col", compact ? "gap-1" : "gap-2")}>
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <span className="text-[12.5px] font-semibold text-accent" data-testid="operation-headline" aria-live="polite">
          {operationHeadline(op)}
        </span>
        {route && <span className="text-[12px] text-muted">{route}</span>}
        <div className="min-w-32 flex-1">
          <ProgressBar pct={pct ?? 0} label={`${op.summary}: ${Math.floor(pct ?? 0)} %`} />
        </div>
        {onCancel && (
          <Button size="sm" variant="ghost" onClick={onCancel} busy={cancelling} data-testid="operation-cancel" title={cancelHint ?? undefined}>
            {cancelLabel}
          </Button>
        )}
      </div>
      {onCancel && cancelHint && (
        <p className="text-[11.5px] text-muted" data-testid="operation-cancel-hint">
          {cancelLabel}: {cancelHint}
        </p>
      )}
      {figures.length > 0 &&
        (compact ? (
          <div className="flex flex-wrap gap-x-4 gap-y-0.5 text-[11.5px] text-muted tabular-nums">
            {figures.map(([k, v]) => (
              <span key={k}>
                {k} <span className="text-fg">{v}</span>
              </span>
            ))}
          </div>
        ) : (
          <dl className="grid grid-cols-2 gap-x-6 gap-y-1.5 text-[12.5px] sm:grid-cols-4">
            {figures.map(([k, v]) => (
              <div key={k}>
                <dt className="text-[11.5px] text-muted">{k}</dt>
                <dd className="tabular-nums">{v}</dd>
              </div>
            ))}
          </dl>
        ))}
      {items}
    </div>
  );
}
