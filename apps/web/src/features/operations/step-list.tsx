import type { OperationStep, StepState } from "@nimbus/domain";
import { formatAbsolute, formatDuration } from "@/lib/format";
import { cx } from "@/lib/cx";

const marks: Record<StepState, { sign: string; word: string; cls: string }> = {
  pending: { sign: "○", word: "Waiting", cls: "text-faint" },
  running: { sign: "●", word: "Running", cls: "text-accent" },
  succeeded: { sign: "✓", word: "Done", cls: "text-ok" },
  failed: { sign: "✕", word: "Failed", cls: "text-crit" },
  skipped: { sign: "–", word: "Skipped", cls: "text-faint" },
  undone: { sign: "↶", word: "Undone", cls: "text-warn" },
};

/** "12:04:31" of an ISO instant, in the browser's zone (the date is in the header already). */
const clock = (iso: string | null) => (iso ? formatAbsolute(iso).slice(11) : "");

/** How long a step took, or has been running for until `now`. */
export function stepDuration(step: Pick<OperationStep, "startedAt" | "finishedAt">, now: number): number | null {
  if (!step.startedAt) return null;
  const end = step.finishedAt ? Date.parse(step.finishedAt) : now;
  return Math.max(0, end - Date.parse(step.startedAt));
}

/**
 * A task's steps as a task viewer shows them: state, label and what it does, start and finish
 * times with the duration, and the lines the tool printed (folded, open for a failed step so the
 * reason is the first thing read).
 */
export function StepList({ steps, now, ended }: { steps: readonly OperationStep[]; now: number; /** The operation is over: a step still pending will not run. */ ended?: boolean }) {
  return (
    <ol className="flex flex-col divide-y divide-border/70" data-testid="operation-steps">
      {steps.map((s, i) => {
        const m = ended && s.state === "pending" ? { ...marks.pending, word: "Not run" } : marks[s.state];
        const took = stepDuration(s, now);
        return (
          <li key={s.id} data-testid={`step-${s.id}`} data-state={s.state} className={cx("grid grid-cols-[1.25rem_minmax(0,1fr)] gap-x-2.5 px-4 py-2.5 sm:grid-cols-[1.25rem_minmax(0,1fr)_auto]", s.state === "failed" && "bg-crit-soft/40")}>
            <span aria-hidden className={cx("pt-px text-center text-[13px] font-bold leading-5", m.cls, s.state === "running" && "animate-pulse")}>
              {m.sign}
            </span>
            <div className="min-w-0">
              <div className="flex flex-wrap items-baseline gap-x-2">
                <span className="text-[11.5px] tabular-nums text-faint">{i + 1}.</span>
                <span className={cx("text-[13px] font-medium", s.state === "pending" || s.state === "skipped" ? "text-muted" : "text-fg")}>{s.label}</span>
                <span className={cx("text-[11px] font-semibold uppercase tracking-wide", m.cls)}>{m.word}</span>
              </div>
              {s.detail && <p className="mt-0.5 break-words text-[12px] text-muted">{s.detail}</p>}
              {s.log.length > 0 && (
                <details className="group mt-1.5" open={s.state === "failed" || undefined} data-testid={`step-log-${s.id}`}>
                  <summary className="w-fit cursor-pointer list-none text-[12px] text-accent hover:underline">
                    <span aria-hidden className="mr-1 inline-block transition-transform group-open:rotate-90">▸</span>
                    {s.log.length} log line{s.log.length === 1 ? "" : "s"}
                  </summary>
                  <pre className="mt-1.5 max-h-72 overflow-auto rounded-md border border-border bg-panel-2 px-3 py-2 font-mono text-[11.5px] leading-[1.55] whitespace-pre-wrap break-all text-fg">
                    {s.log.join("\n")}
                  </pre>
                </details>
              )}
            </div>
            <div className="col-start-2 mt-1 flex gap-3 text-[11.5px] tabular-nums text-muted sm:col-start-3 sm:mt-0 sm:flex-col sm:items-end sm:gap-0">
              {s.startedAt ? (
                <span title={formatAbsolute(s.startedAt)}>
                  {clock(s.startedAt)}
                  {s.finishedAt && ` → ${clock(s.finishedAt)}`}
                </span>
              ) : s.state === "skipped" ? null : (
                <span className="text-faint">not started</span>
              )}
              {took !== null && <span className={cx(s.state === "running" ? "text-accent" : "text-fg")}>{formatDuration(took)}</span>}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
