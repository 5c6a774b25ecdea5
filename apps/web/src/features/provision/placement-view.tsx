import type { CheckResult, PreflightCheck } from "@nimbus/domain";
import { StatusBadge } from "@/components/ui/status-badge";
import { ErrorState, Skeleton } from "@/components/ui/states";
import { PreflightList } from "@/features/preflight/preflight-list";
import { verdictStatus } from "@/features/preflight/target-options";
import { cx } from "@/lib/cx";
import { formatMiB } from "@/lib/format";

/** What instances.placement answers, as this view needs it (host names are tokens for tenants). */
export interface PlacementCandidateView {
  host: string;
  verdict: CheckResult;
  freeMemoryMiB: number;
  checks: PreflightCheck[];
  bridge: { name: string; type: "linux" | "ovs" } | null;
}
export interface PlacementView {
  chosen: string | null;
  /** Why this host, or why none. */
  reason: string;
  candidates: PlacementCandidateView[];
}

const failing = (c: PlacementCandidateView) =>
  c.checks
    .filter((k) => k.result === "fail")
    .map((k) => k.reason)
    .join("; ");

/**
 * Where the new instance would go, as the server ranks it: the chosen host and why, then every
 * candidate with its verdict, free memory and checks (passing ones folded). Re-run as the form
 * changes; the previous answer stays on screen, dimmed, while the next one is computed.
 */
export function PlacementList({
  placement,
  stale,
  error,
  onRetry,
  incomplete,
  pinned,
}: {
  placement: PlacementView | undefined;
  stale?: boolean;
  error?: unknown;
  onRetry?: () => void;
  /** The form cannot be placed yet: what is missing, in words. */
  incomplete?: string | null;
  /** An admin pinned this host. */
  pinned?: string;
}) {
  if (error) return <ErrorState error={error} onRetry={onRetry} compact />;
  if (!placement) {
    if (incomplete) return <p className="text-[12.5px] text-muted" data-testid="placement-incomplete">{incomplete}</p>;
    return (
      <div className="flex flex-col gap-2" aria-busy="true" aria-label="Finding a host">
        <Skeleton className="h-10 w-full" />
        <Skeleton className="h-10 w-full" />
      </div>
    );
  }
  return (
    <div className={cx("flex flex-col gap-2 transition-opacity", stale && "opacity-60")} data-testid="placement" aria-busy={stale || undefined}>
      <p
        data-testid="placement-reason"
        data-chosen={placement.chosen ?? ""}
        className={cx("rounded-md px-3 py-2 text-[12.5px]", placement.chosen ? "bg-ok-soft/70" : "bg-crit-soft/70")}
      >
        {placement.chosen ? (
          <>
            <span className="font-semibold text-ok">{pinned ? "Pinned to " : "Goes to "}{placement.chosen}</span>
            <span className="text-fg">: {placement.reason}</span>
          </>
        ) : (
          <>
            <span className="font-semibold text-crit">No host fits. </span>
            <span className="text-fg">{placement.reason}</span>
          </>
        )}
      </p>
      <ol className="flex flex-col divide-y divide-border/70 rounded-md border border-border">
        {placement.candidates.map((c, i) => (
          <li key={c.host} data-testid={`candidate-${c.host}`} data-verdict={c.verdict} className={cx("px-3 py-2", c.host === placement.chosen && "bg-accent-soft/40")}>
            <details className="group">
              <summary className="flex cursor-pointer list-none flex-wrap items-center gap-x-2 gap-y-1 text-[12.5px]">
                <span className="w-4 text-right text-[11.5px] tabular-nums text-faint">{i + 1}</span>
                <span className="font-medium">{c.host}</span>
                <StatusBadge status={verdictStatus[c.verdict]} />
                {c.host === placement.chosen && <span className="hidden text-[11px] font-semibold uppercase tracking-wide text-accent sm:inline">chosen</span>}
                <span className="ml-auto whitespace-nowrap text-[11.5px] tabular-nums text-muted">{c.verdict === "fail" && c.freeMemoryMiB <= 0 ? "" : `${formatMiB(c.freeMemoryMiB)} free`}</span>
                <span aria-hidden className="hidden text-faint transition-transform group-open:rotate-90 sm:inline">▸</span>
              </summary>
              {c.verdict === "fail" && <p className="mt-1 pl-6 text-[12px] text-crit">{failing(c)}</p>}
              <div className="mt-2 pl-6">
                {c.bridge && (
                  <p className="mb-1 text-[12px] text-muted">
                    Bridge {c.bridge.name} ({c.bridge.type === "ovs" ? "Open vSwitch" : "Linux bridge"})
                  </p>
                )}
                <PreflightList checks={c.checks} foldPassed />
              </div>
            </details>
          </li>
        ))}
      </ol>
    </div>
  );
}
