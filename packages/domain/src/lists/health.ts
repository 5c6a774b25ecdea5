import { z } from "zod";
import { byUrgency, type HealthCheck, type HealthState } from "../health.js";
import { MAX_SEARCH, PageWindow, pageOf, type Page } from "./page.js";

export const HEALTH_CATEGORIES = ["host", "storage", "swarm", "network", "instance"] as const;

/**
 * One page of health checks: a category, "problems only", free text over target, message, id and
 * what a check affects; a window. The order is the page's: open problems worst first, then the
 * acknowledged ones, then the rest (byUrgency within each), so a page of 100 starts with what
 * the on-call engineer must read.
 */
export const HealthListQuery = z.object({
  q: z.string().max(MAX_SEARCH).default(""),
  category: z.union([z.enum(HEALTH_CATEGORIES), z.literal("")]).default(""),
  problems: z.boolean().default(false),
  ...PageWindow,
});
export type HealthListQuery = z.input<typeof HealthListQuery>;

/** Counts over every check whatever the filter (the summary block): acknowledged apart, as the page shows them. */
export interface HealthCounts extends Record<HealthState, number> {
  acknowledged: number;
}

export interface HealthPage extends Page<HealthCheck> {
  counts: HealthCounts;
}

const failing = (c: HealthCheck) => c.state === "crit" || c.state === "warn";
/** 0 open problem, 1 acknowledged, 2 the rest: the page's groups. */
export const healthGroup = (c: HealthCheck): number => (failing(c) ? (c.ack ? 1 : 0) : 2);
export const compareHealthChecks = (a: HealthCheck, b: HealthCheck): number => healthGroup(a) - healthGroup(b) || byUrgency(a, b);

export function countHealth(checks: Iterable<HealthCheck>): HealthCounts {
  const counts: HealthCounts = { crit: 0, warn: 0, unknown: 0, ok: 0, acknowledged: 0 };
  for (const c of checks) {
    if (failing(c) && c.ack) counts.acknowledged++;
    else counts[c.state]++;
  }
  return counts;
}

export function matchesHealthCheck(c: HealthCheck, f: { q?: string; category?: string; problems?: boolean }): boolean {
  if (f.category && c.category !== f.category) return false;
  if (f.problems && c.state === "ok") return false;
  const q = (f.q ?? "").trim().toLowerCase();
  if (!q) return true;
  return [c.id, c.target, c.message, ...c.affects].some((t) => t.toLowerCase().includes(q));
}

/** One page of the checks held in memory (the health monitor's, a few per host: one sort per query). */
export function queryHealth(checks: readonly HealthCheck[], input: HealthListQuery): HealthPage {
  const f = HealthListQuery.parse(input);
  const offset = f.offset;
  const ordered = [...checks].sort(compareHealthChecks);
  const { items, total } = pageOf(ordered, (c) => matchesHealthCheck(c, f), offset, f.limit);
  return { items, total, all: checks.length, offset, limit: f.limit, counts: countHealth(checks) };
}
