import { formatPct } from "@/lib/format";
import { usageTone } from "@/lib/status";
import { cx } from "@/lib/cx";
import { toneFill, toneText } from "./tone";

/**
 * A usage bar with its number printed beside it. Threshold ticks (80/90 % by default) show how
 * close a datastore is to warning and critical, not just how full it is.
 */
export function UsageBar({
  pct,
  detail,
  thresholds,
  className,
  width = "w-20",
}: {
  pct: number | null;
  detail?: string;
  thresholds?: { warn: number; crit: number };
  className?: string;
  width?: string;
}) {
  const tone = usageTone(pct, thresholds?.warn, thresholds?.crit);
  const clamped = pct === null ? 0 : Math.max(0, Math.min(100, pct));
  return (
    <div className={cx("flex items-center gap-2", className)} title={detail}>
      <div
        role="meter"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct === null ? undefined : Math.round(pct)}
        aria-label={detail}
        className={cx("relative h-1.5 shrink-0 overflow-hidden rounded-full bg-bar-track", width)}
      >
        <div className={cx("h-full rounded-full", toneFill[tone])} style={{ width: `${clamped}%` }} />
        {thresholds && (
          <>
            <span aria-hidden className="absolute inset-y-0 w-px bg-warn/70" style={{ left: `${thresholds.warn}%` }} />
            <span aria-hidden className="absolute inset-y-0 w-px bg-crit/70" style={{ left: `${thresholds.crit}%` }} />
          </>
        )}
      </div>
      <span className={cx("w-10 text-right tabular-nums text-[12px]", tone === "ok" ? "text-muted" : toneText[tone])}>{formatPct(pct)}</span>
    </div>
  );
}

/** A progress bar for long work (accent colour; never a threshold). */
export function ProgressBar({ pct, tone = "accent", label }: { pct: number; tone?: "accent" | "ok" | "crit" | "warn"; label: string }) {
  const clamped = Math.max(0, Math.min(100, pct));
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(clamped)}
      className="h-1.5 w-full overflow-hidden rounded-full bg-bar-track"
    >
      <div className={cx("h-full rounded-full transition-[width] duration-500 ease-out", toneFill[tone])} style={{ width: `${clamped}%` }} />
    </div>
  );
}
