import type { MetricObjectKind, SeriesPoint } from "@nimbus/domain";

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
    case "B/s":
      return byteRate(v);
    default:
      return Number.isInteger(v) ? String(v) : v.toFixed(1);
  }
}

const RATE_UNITS = ["B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s"];
/** Bytes per second in binary units, 3 significant digits: "512 B/s", "12.3 KiB/s", "1.25 GiB/s". */
export function byteRate(v: number): string {
  let x = Math.max(0, v);
  let u = 0;
  while (x >= 1024 && u < RATE_UNITS.length - 1) {
    x /= 1024;
    u++;
  }
  const digits = u === 0 || x >= 100 ? 0 : x >= 10 ? 1 : 2;
  return `${x.toFixed(digits)} ${RATE_UNITS[u]}`;
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
  "host.netRx": "Network in",
  "host.netTx": "Network out",
  "instance.up": "Running",
  "instance.vcpus": "vCPUs",
  "instance.memory": "Memory",
  "instance.cpu": "CPU",
  "instance.memoryUsed": "Memory in use",
  "instance.netRx": "Network in",
  "instance.netTx": "Network out",
  "instance.diskRead": "Disk read",
  "instance.diskWrite": "Disk write",
  "datastore.used": "Used",
  "datastore.usedGiB": "Used space",
  "datastore.read": "Read",
  "datastore.write": "Write",
  "service.running": "Running replicas",
  "service.desired": "Desired replicas",
  "service.cpu": "CPU of its nodes",
};

/**
 * The charts a page shows by default, when not every stored metric: an instance's allocation
 * (vCPUs, memory size) and running state are on its page already; its use is what is charted.
 */
export const CHARTED: Partial<Record<MetricObjectKind, readonly string[]>> = {
  instance: ["cpu", "memoryUsed", "netRx", "netTx", "diskRead", "diskWrite"],
};
