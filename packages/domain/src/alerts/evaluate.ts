import type { HealthCheck } from "../health.js";
import { matchesPattern, type AlertMetric, type AlertRule, type AlertSeverity } from "./rules.js";

/** What the rules read of a health check (the monitor's reported check, after hysteresis). */
export type AlertCheckInput = Pick<HealthCheck, "id" | "category" | "target" | "state" | "message" | "since" | "affects" | "tenants">;

/** One pushed number, for metric rules. */
export interface MetricSample {
  metric: AlertMetric;
  /** What it measures: a host name or a datastore path. */
  subject: string;
  target: string;
  value: number;
  affects: string[];
}

export interface AlertAck {
  by: string;
  at: string;
  note: string | null;
}

export interface Alert {
  /** `<rule id>|<subject>`: the same problem keeps its id across samples and restarts. */
  id: string;
  ruleId: string;
  ruleName: string;
  severity: AlertSeverity;
  /** The check id or metric subject it is about. */
  subject: string;
  category: HealthCheck["category"];
  target: string;
  message: string;
  affects: string[];
  tenants: string[];
  /** The console page that shows the cause (a path; notifications prefix the public URL). */
  link: string;
  /** When the condition began; the alert fired `forSeconds` later. */
  since: string;
  firedAt: string;
  resolvedAt: string | null;
  ack: AlertAck | null;
  escalatedAt: string | null;
}

/** What evaluation remembers between samples besides the firing alerts. */
export interface AlertEvalState {
  /** Alerts whose condition holds but not yet for the rule's duration: id -> since. */
  pending: ReadonlyMap<string, string>;
  /** Per check id watched by a flapping rule: its last state and message, and when it changed. */
  flaps: ReadonlyMap<string, { last: string; at: readonly number[] }>;
}

export const emptyAlertState = (): AlertEvalState => ({ pending: new Map(), flaps: new Map() });

export interface AlertEvaluation {
  state: AlertEvalState;
  fired: Alert[];
  /** Firing alerts whose message, target or what they affect changed. */
  updated: Alert[];
  resolved: Alert[];
}

type Candidate = Pick<Alert, "subject" | "category" | "target" | "message" | "affects" | "tenants"> & { since: string | null };

/** The page that shows what an alert is about. */
export function causeLink(subject: string, category: HealthCheck["category"]): string {
  const [kind, ...rest] = subject.split(":");
  const name = rest.join(":");
  if (kind === "host" && name) return `/hosts/${encodeURIComponent(name)}`;
  if (kind === "instance" && name) return `/instances/${encodeURIComponent(name)}`;
  if (kind === "metric-host" && name) return `/hosts/${encodeURIComponent(name)}`;
  if (category === "storage") return "/storage";
  if (category === "swarm") return "/swarm";
  if (category === "network") return "/network";
  return `/health?check=${encodeURIComponent(subject)}`;
}

/** The monitor appends "(failing, 1 sample)" while a flip is pending: not a change of what is seen. */
const settledMessage = (m: string) => m.replace(/ \((failing|recovering), \d+ samples?\)$/, "");

const metricSubject = (s: MetricSample) => (s.metric.startsWith("host.") ? `metric-host:${s.subject}` : `metric-datastore:${s.subject}`);

const metricWords: Record<AlertMetric, string> = {
  "datastore.usedPct": "used",
  "host.cpuPct": "CPU",
  "host.memoryPct": "memory used",
  "host.diskPct": "disk used",
};

/**
 * One evaluation of every enabled rule at `now`: which alerts fire (their condition held for the
 * rule's duration), which firing ones changed, which resolved. Pure: the caller keeps `state` and
 * the firing alerts (persisted) and passes them back at the next sample.
 */
export function evaluateAlerts(
  rules: readonly AlertRule[],
  input: { checks: readonly AlertCheckInput[]; metrics: readonly MetricSample[] },
  prev: AlertEvalState,
  firing: ReadonlyMap<string, Alert>,
  now: Date,
): AlertEvaluation {
  const nowMs = now.getTime();
  const nowIso = now.toISOString();
  const enabled = rules.filter((r) => r.enabled);
  const flaps = trackFlaps(enabled, input.checks, prev.flaps, nowMs);
  const pending = new Map<string, string>();
  const fired: Alert[] = [];
  const updated: Alert[] = [];
  const seen = new Set<string>();

  for (const rule of enabled) {
    for (const c of candidates(rule, input, flaps, nowMs)) {
      const id = `${rule.id}|${c.subject}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const current = firing.get(id);
      if (current) {
        if (current.message !== c.message || current.target !== c.target || !sameList(current.affects, c.affects) || !sameList(current.tenants, c.tenants) || current.severity !== rule.severity) {
          updated.push({ ...current, message: c.message, target: c.target, affects: c.affects, tenants: c.tenants, severity: rule.severity, ruleName: rule.name });
        }
        continue;
      }
      const since = prev.pending.get(id) ?? c.since ?? nowIso;
      if (nowMs - Date.parse(since) >= rule.forSeconds * 1000) {
        fired.push({
          id,
          ruleId: rule.id,
          ruleName: rule.name,
          severity: rule.severity,
          subject: c.subject,
          category: c.category,
          target: c.target,
          message: c.message,
          affects: c.affects,
          tenants: c.tenants,
          link: causeLink(c.subject, c.category),
          since,
          firedAt: nowIso,
          resolvedAt: null,
          ack: null,
          escalatedAt: null,
        });
      } else pending.set(id, since);
    }
  }
  // A check without a verdict (its host is connecting again, e.g. after a server restart) neither
  // fires nor resolves: the alert stays as it was until the check says ok or fails.
  const undecided = new Set(input.checks.filter((c) => c.state === "unknown").map((c) => c.id));
  const enabledIds = new Set(enabled.map((r) => r.id));
  const resolved = [...firing.values()]
    .filter((a) => !seen.has(a.id) && !(enabledIds.has(a.ruleId) && undecided.has(a.subject)))
    .map((a) => ({ ...a, resolvedAt: nowIso }));
  return { state: { pending, flaps }, fired, updated, resolved };
}

function candidates(rule: AlertRule, input: { checks: readonly AlertCheckInput[]; metrics: readonly MetricSample[] }, flaps: AlertEvalState["flaps"], nowMs: number): Candidate[] {
  const cond = rule.condition;
  const out: Candidate[] = [];
  if (cond.kind === "check") {
    for (const c of input.checks) {
      if ((c.state === "crit" || c.state === "warn") && cond.states.includes(c.state) && matchesPattern(cond.checks, c.id)) {
        out.push({ subject: c.id, category: c.category, target: c.target, message: c.message, affects: c.affects, tenants: c.tenants, since: c.since });
      }
    }
  } else if (cond.kind === "metric") {
    for (const s of input.metrics) {
      if (s.metric === cond.metric && s.value > cond.above) {
        const category = s.metric.startsWith("host.") ? "host" : "storage";
        out.push({ subject: metricSubject(s), category, target: s.target, message: `${s.value.toFixed(0)} % ${metricWords[s.metric]} (over ${cond.above} %)`, affects: s.affects, tenants: [], since: null });
      }
    }
  } else {
    const from = nowMs - cond.windowMinutes * 60_000;
    for (const c of input.checks) {
      if (!matchesPattern(cond.checks, c.id)) continue;
      const n = flaps.get(c.id)?.at.filter((t) => t > from).length ?? 0;
      if (n >= cond.changes) {
        out.push({ subject: c.id, category: c.category, target: c.target, message: `changed ${n} times in ${cond.windowMinutes} min; now: ${settledMessage(c.message)}`, affects: c.affects, tenants: c.tenants, since: null });
      }
    }
  }
  return out;
}

/** Records each watched check's changes of state or message, forgetting those older than the longest window. */
function trackFlaps(rules: readonly AlertRule[], checks: readonly AlertCheckInput[], prev: AlertEvalState["flaps"], nowMs: number): AlertEvalState["flaps"] {
  const flapping = rules.flatMap((r) => (r.condition.kind === "flapping" ? [r.condition] : []));
  const out = new Map<string, { last: string; at: readonly number[] }>();
  if (!flapping.length) return out;
  const keepFrom = nowMs - Math.max(...flapping.map((f) => f.windowMinutes)) * 60_000;
  for (const c of checks) {
    if (!flapping.some((f) => matchesPattern(f.checks, c.id))) continue;
    const sig = `${c.state}|${settledMessage(c.message)}`;
    const before = prev.get(c.id);
    const at = (before?.at ?? []).filter((t) => t > keepFrom);
    out.set(c.id, { last: sig, at: before && before.last !== sig ? [...at, nowMs] : at });
  }
  return out;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);
