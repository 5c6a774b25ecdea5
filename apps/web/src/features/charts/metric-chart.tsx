"use client";
import type { SeriesAnswer } from "@nimbus/domain";
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useDark } from "@/lib/use-dark";
import { formatValue, stepLabel, summarize, toColumns } from "./chart-format";

const BINARY_INCRS = Array.from({ length: 5 }, (_, k) => [1, 2, 4, 8, 16, 32, 64, 128, 256, 512].map((m) => m * 1024 ** k)).flat();

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/**
 * One metric as a line (mean per step) over a dashed line (maximum per step), drawn by uPlot on a
 * canvas. Drag across it to zoom into that window (the parent asks the server again, at a finer
 * resolution); the colours follow the theme.
 */
export function MetricChart({
  label,
  answer,
  height = 150,
  onZoom,
  stale = false,
}: {
  label: string;
  answer: SeriesAnswer;
  height?: number;
  onZoom?: (range: { from: number; to: number }) => void;
  /** The previous range's answer, shown while the new one loads: dimmed, and marked for tests. */
  stale?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;
  const dark = useDark();
  const { unit } = answer;
  const percent = unit === "%";
  const bool = unit === "bool";

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const accent = css("--accent");
    const muted = css("--muted");
    const grid = css("--border");
    const faint = css("--faint");
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { size: 6 } },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      scales: {
        x: { time: true, range: () => [answer.from / 1000, answer.to / 1000] },
        y: { range: (_u, min, max) => (percent ? [0, 100] : bool ? [0, 1] : [Math.min(0, min ?? 0), Math.max(1, (max ?? 1) * 1.1)]) },
      },
      axes: [
        { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: "11px system-ui, sans-serif" },
        {
          stroke: muted,
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          size: unit === "B/s" ? 70 : 52,
          // Byte rates tick at binary steps (256 KiB/s, not 244 KiB/s from a decimal 250,000).
          ...(unit === "B/s" ? { incrs: BINARY_INCRS } : {}),
          font: "11px system-ui, sans-serif",
          values: (_u, vals) => vals.map((v) => formatValue(v, unit === "bool" ? "count" : unit)),
        },
      ],
      series: [
        {},
        { label: "mean", stroke: accent, width: 1.5, fill: `${accent}22`, spanGaps: false, value: (_u, v) => formatValue(v, unit) },
        { label: "max", stroke: faint, width: 1, dash: [4, 3], spanGaps: false, value: (_u, v) => formatValue(v, unit) },
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 4) return;
            const from = u.posToVal(u.select.left, "x") * 1000;
            const to = u.posToVal(u.select.left + u.select.width, "x") * 1000;
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            if (to - from >= 60_000) zoom.current?.({ from, to });
          },
        ],
      },
    };
    const u = new uPlot(opts, toColumns(answer.points) as uPlot.AlignedData, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [answer, height, dark, unit, percent, bool]);

  const { last, peak } = summarize(answer.points);
  return (
    <figure className={stale ? "min-w-0 opacity-60 transition-opacity" : "min-w-0 transition-opacity"} data-testid={`metric-chart-${answer.metric}`} data-stale={stale || undefined} aria-busy={stale || undefined}>
      <figcaption className="mb-1 flex flex-wrap items-baseline justify-between gap-x-3 text-[12.5px]">
        <span className="font-medium">{label}</span>
        <span className="tabular-nums text-muted" data-testid="metric-summary">
          now {formatValue(last, unit)} · peak {formatValue(peak, unit)} · {answer.resolution === "raw" ? "every" : "5-min rollups,"} {stepLabel(answer.step)}
        </span>
      </figcaption>
      <div ref={box} className="w-full" role="img" aria-label={`${label}: now ${formatValue(last, unit)}, peak ${formatValue(peak, unit)}`} />
    </figure>
  );
}
