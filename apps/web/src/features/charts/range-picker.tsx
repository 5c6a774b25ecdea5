"use client";
import { cx } from "@/lib/cx";
import { formatAbsolute } from "@/lib/format";
import { RANGE_PRESETS, type ChartRange } from "./chart-format";

/** Preset ranges as a segmented control, or the zoomed window with a way back. */
export function RangePicker({ value, onChange, testId }: { value: ChartRange; onChange: (r: ChartRange) => void; testId?: string }) {
  const zoomed = "from" in value;
  return (
    <div className="flex flex-wrap items-center gap-2" data-testid={testId}>
      {zoomed && (
        <span className="text-[12px] tabular-nums text-muted" data-testid="zoomed-range">
          {formatAbsolute(new Date(value.from).toISOString())} – {formatAbsolute(new Date(value.to).toISOString())}
        </span>
      )}
      <div role="group" aria-label="Range" className="inline-flex overflow-hidden rounded-md border border-border">
        {RANGE_PRESETS.map((p) => {
          const on = !zoomed && value.preset === p.id;
          return (
            <button
              key={p.id}
              type="button"
              aria-pressed={on}
              onClick={() => onChange({ preset: p.id })}
              className={cx("h-7 px-2 text-[12px] tabular-nums transition-colors", on ? "bg-accent text-accent-fg" : "bg-panel text-muted hover:bg-panel-2 hover:text-fg", "border-l border-border first:border-l-0")}
            >
              {p.label}
            </button>
          );
        })}
      </div>
    </div>
  );
}
