import type { SeriesPoint } from "@nimbus/domain";

/** The ranges the charts and the timeline offer, newest end at "now". */
export const RANGE_PRESETS = [
  { id: "1h", label: "1 h", ms: 3_600_000 },
  { id: "6h", label: "6 h", ms: 6 * 3_600_000 },
  { id: "24h", label: "24 h", ms: 24 * 3_600_000 },
  { id: "7d", label: "7 d", ms: 7 * 24 * 3_600_000 },
  { id: "30d", label: "30 d", ms: 30 * 24 * 3_600_000 },
] as const;
export type RangePreset = (typeof RANGE_PRESETS)[number]["id"];

/** A range the user picked: a preset ending now, or a zoomed window. */
export type ChartRange = { preset: RangePreset } | { from: number; to: number };

export const resolveRange = (r: ChartRange, now: number): { from: number; to: number } => {
  if ("from" in r) return { from: Math.floor(r.from), to: Math.ceil(r.to) };
  const p = RANGE_PRESETS.find((x) => x.id === r.preset)!;
  // Rounded up to the next 10 s so two charts picked together share their end.
  const to = Math.ceil(now / 10_000) * 10_000;
  return { from: to - p.ms, to };
};

/** A value with its unit, as the axis and the summary say it. */
export function formatValue(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  switch (unit) {
    case "%":
      return `${v < 10 ? v.toFixed(1) : Math.round(v)} %`;
    case "bool":
      return v >= 0.5 ? (v >= 0.995 ? "running" : `${Math.round(v * 100)} % running`) : v <= 0.005 ? "stopped" : `${Math.round(v * 100)} % running`;
    case "MiB":
      return v >= 1024 ? `${(v / 1024).toFixed(1)} GiB` : `${Math.round(v)} MiB`;
    case "GiB":
      return v >= 1024 ? `${(v / 1024).toFixed(2)} TiB` : `${v < 10 ? v.toFixed(2) : v.toFixed(0)} GiB`;
    default:
      return Number.isInteger(v) ? String(v) : v.toFixed(1);
  }
}

/** The latest point's mean and the highest maximum in the range, for the line under a chart. */
export function summarize(points: readonly SeriesPoint[]): { last: number | null; peak: number | null } {
  let last: number | null = null;
  let peak: number | null = null;
  for (const p of points) {
    if (p.avg !== null) last = p.avg;
    if (p.max !== null) peak = peak === null ? p.max : Math.max(peak, p.max);
  }
  return { last, peak };
}

/** What a step is called: "10 s", "3 min", "45 min". */
export function stepLabel(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1000)} s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(ms % 3_600_000 ? 1 : 0)} h`;
}

/** Columns uPlot draws from: seconds, means, maxima (null: a gap). */
export function toColumns(points: readonly SeriesPoint[]): [number[], (number | null)[], (number | null)[]] {
  return [points.map((p) => p.t / 1000), points.map((p) => p.avg), points.map((p) => p.max)];
}

export const METRIC_LABELS: Record<string, string> = {
  "host.cpu": "CPU",
  "host.memory": "Memory",
  "host.disk": "Disk",
  "instance.up": "Running",
  "instance.vcpus": "vCPUs",
  "instance.memory": "Memory",
  "datastore.used": "Used",
  "datastore.usedGiB": "Used space",
  "service.running": "Running replicas",
  "service.desired": "Desired replicas",
};
