"use client";
import { METRICS, type MetricObjectKind, type SeriesAnswer } from "@nimbus/domain";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { RefreshCw } from "lucide-react";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Panel } from "@/components/ui/panel";
import { EmptyState, ErrorState, Skeleton } from "@/components/ui/states";
import { useTRPC } from "@/lib/trpc";
import { CHARTED, METRIC_LABELS, resolveRange, type ChartRange } from "./chart-format";
import { MetricChart } from "./metric-chart";
import { RangePicker } from "./range-picker";

/**
 * The charts of one host, instance, datastore or service: a range (preset or zoomed by dragging
 * across a chart) and one chart per metric. Asked when shown or when the range changes, not
 * polled; Refresh moves a preset's end to now and asks again.
 */
export function MetricsPanel({ kind, name, title = "Metrics", metrics }: { kind: MetricObjectKind; name: string; title?: string; metrics?: readonly string[] }) {
  // A preset ends when it was picked (or refreshed): the charts do not move, or refetch, as the clock ticks.
  const [state, setState] = useState<{ range: ChartRange; anchor: number }>(() => ({ range: { preset: "1h" }, anchor: Date.now() }));
  const range = state.range;
  const setRange = (r: ChartRange) => setState({ range: r, anchor: Date.now() });
  const window = resolveRange(range, state.anchor);
  const qc = useQueryClient();
  const trpc = useTRPC();
  const shown = metrics ?? CHARTED[kind] ?? METRICS[kind];
  const refresh = () => {
    if ("preset" in range) setRange(range);
    else void qc.invalidateQueries({ queryKey: kind === "instance" ? trpc.metrics.instance.queryKey() : trpc.metrics.series.queryKey() });
  };
  return (
    <Panel
      title={title}
      id={`metrics-${kind}`}
      actions={
        <div className="flex items-center gap-2">
          <RangePicker value={range} onChange={setRange} testId="metrics-range" />
          <Button size="sm" variant="ghost" onClick={refresh} aria-label="Refresh charts" title="Refresh">
            <RefreshCw size={13} aria-hidden />
          </Button>
        </div>
      }
    >
      <div className="grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-3">
        {shown.map((m) => (
          <SeriesChart key={m} kind={kind} name={name} metric={m} range={window} onZoom={(r) => setRange(r)} />
        ))}
      </div>
      <p className="mt-2 text-[11.5px] text-faint">Drag across a chart to zoom in. Solid: mean per step; dashed: maximum.</p>
    </Panel>
  );
}

function SeriesChart({ kind, name, metric, range, onZoom }: { kind: MetricObjectKind; name: string; metric: string; range: { from: number; to: number }; onZoom: (r: { from: number; to: number }) => void }) {
  const trpc = useTRPC();
  const maxPoints = 400;
  const staffQuery = useQuery({ ...trpc.metrics.series.queryOptions({ kind, name, metric, range: { ...range, maxPoints } }), enabled: kind !== "instance", placeholderData: (prev) => prev });
  const instanceQuery = useQuery({
    ...trpc.metrics.instance.queryOptions({ instance: name, metric: metric as "up", range: { ...range, maxPoints } }),
    enabled: kind === "instance",
    placeholderData: (prev) => prev,
  });
  const q = kind === "instance" ? instanceQuery : staffQuery;
  const label = METRIC_LABELS[`${kind}.${metric}`] ?? metric;
  if (q.isPending)
    return (
      <div aria-busy="true" aria-label={`Loading ${label}`} data-testid={`metric-loading-${metric}`}>
        <Skeleton className="mb-2 h-3 w-24" />
        <Skeleton className="h-[150px] w-full" />
      </div>
    );
  if (q.error) return <ErrorState error={q.error} compact onRetry={() => void q.refetch()} />;
  const answer = q.data as SeriesAnswer;
  if (!answer.points.length)
    return (
      <div className="rounded-md border border-dashed border-border" data-testid={`metric-empty-${metric}`}>
        <p className="px-3 pt-2 text-[12.5px] font-medium">{label}</p>
        <EmptyState title="No samples in this range">
          {answer.unit === "B/s" || metric === "cpu"
            ? "Rates come from the counters the host's agent sends every 10 s; an older agent sends none."
            : "Samples are taken every 10 s from what the host reports; older ones are kept as 5-minute rollups for 30 days."}
        </EmptyState>
      </div>
    );
  return <MetricChart label={label} answer={answer} onZoom={onZoom} stale={q.isPlaceholderData} />;
}
