import { z } from "zod";
import {
  DomainName,
  METRICS,
  METRIC_UNITS,
  MetricObjectKind,
  NimbusError,
  SeriesRange,
  chooseResolution,
  downsample,
  metricIndex,
  pointStep,
  rollupTailFrom,
  seriesKey,
  type SeriesAnswer,
} from "@nimbus/domain";
import type { ApiDeps } from "../deps.js";
import { router, staffProcedure, tenantProcedure } from "../trpc.js";
import { findInstance } from "./instances.js";

const unavailable = () => new NimbusError("PRECONDITION_FAILED", "this server keeps no metric history");

/** One metric of one object over a range, from the resolution that holds it, at most `maxPoints` points. */
export async function seriesFor(deps: ApiDeps, kind: MetricObjectKind, name: string, metric: string, range: SeriesRange, now = Date.now()): Promise<SeriesAnswer> {
  if (!deps.metrics) throw unavailable();
  const index = metricIndex(kind, metric);
  if (index < 0) throw new NimbusError("BAD_INPUT", `${kind} has no metric ${metric}: ${METRICS[kind].join(", ")}`);
  const object = seriesKey(kind, name);
  const resolution = chooseResolution(range, now);
  const step = pointStep(range, resolution);
  const stored = await deps.metrics.series(object, index, range, resolution, step, rollupTailFrom(now));
  return { object, metric, unit: METRIC_UNITS[`${kind}.${metric}`] ?? "count", resolution, step, from: range.from, to: range.to, points: downsample(stored, range, step) };
}

const ObjectName = z.string().trim().min(1).max(512);

/**
 * Metric history for charts. Staff read any host, VM, datastore or service; a tenant member reads
 * its own instances only (another tenant's answers like a missing one), and what it gets names
 * the instance and nothing else.
 */
export const metricsRouter = router({
  series: staffProcedure("read:fleet")
    .input(z.object({ kind: MetricObjectKind, name: ObjectName, metric: z.string().max(32), range: SeriesRange }))
    .query(({ ctx, input }) => seriesFor(ctx.deps, input.kind, input.name, input.metric, input.range)),

  instance: tenantProcedure
    .input(z.object({ instance: DomainName, metric: z.enum(METRICS.instance), range: SeriesRange }))
    .query(({ ctx, input }) => {
      findInstance(ctx.deps, ctx.viewer, input.instance);
      return seriesFor(ctx.deps, "instance", input.instance, input.metric, input.range);
    }),
});
