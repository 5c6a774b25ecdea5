import type { CheckResult, PreflightCheck } from "@nimbus/domain";
import type { ReactNode } from "react";
import { StatusBadge } from "@/components/ui/status-badge";
import { ErrorState, Skeleton } from "@/components/ui/states";
import { cx } from "@/lib/cx";
import { PreflightList } from "./preflight-list";

export const verdictStatus = {
  pass: { tone: "ok", label: "Ready" },
  warn: { tone: "warn", label: "Ready, with warnings" },
  fail: { tone: "crit", label: "Blocked" },
} as const;

export interface TargetOption {
  /** The value chosen (a host name, a datastore path). */
  value: string;
  verdict: CheckResult;
  /** Right-hand figure: free memory, free space. */
  detail?: ReactNode;
  /** A line under the title: mode, new path. */
  note?: ReactNode;
  checks: PreflightCheck[];
}

/**
 * Where to move something, ranked by the server's preflight: one card per destination with its
 * verdict and checks (passing ones folded). Blocked destinations stay selectable, so choosing one
 * shows why it cannot be used; the dialog keeps Start disabled for them.
 */
export function TargetOptions({
  name,
  label,
  options,
  value,
  onChange,
  testIdPrefix,
  error,
  onRetry,
  emptyText,
}: {
  name: string;
  label: string;
  /** undefined while the checks run. */
  options: TargetOption[] | undefined;
  value: string;
  onChange: (value: string) => void;
  testIdPrefix: string;
  error?: unknown;
  onRetry?: () => void;
  emptyText: string;
}) {
  if (error) return <ErrorState error={error} onRetry={onRetry} compact />;
  if (!options)
    return (
      <div className="flex flex-col gap-2" aria-busy="true" aria-label="Running preflight checks">
        <Skeleton className="h-14 w-full" />
        <Skeleton className="h-14 w-full" />
      </div>
    );
  if (!options.length) return <p className="text-[13px] text-muted">{emptyText}</p>;
  return (
    <div className="flex flex-col gap-2" role="radiogroup" aria-label={label}>
      {options.map((t) => {
        const selected = value === t.value;
        return (
          <label
            key={t.value}
            data-testid={`${testIdPrefix}${t.value}`}
            data-verdict={t.verdict}
            className={cx(
              "block cursor-pointer rounded-lg border p-3",
              selected ? "border-accent bg-accent-soft/40" : "border-border",
              t.verdict === "fail" ? "opacity-90" : "hover:border-accent/60",
            )}
          >
            <div className="flex flex-wrap items-center gap-2">
              <input type="radio" name={name} value={t.value} checked={selected} onChange={() => onChange(t.value)} className="accent-[var(--accent)]" />
              <span className="font-medium">{t.value}</span>
              <StatusBadge status={verdictStatus[t.verdict]} />
              {t.detail && <span className="ml-auto text-[12px] tabular-nums text-muted">{t.detail}</span>}
            </div>
            {t.note && <div className="mt-1 pl-5 text-[12px] text-muted">{t.note}</div>}
            <div className="mt-2 pl-5">
              <PreflightList checks={t.checks} foldPassed />
            </div>
          </label>
        );
      })}
    </div>
  );
}
