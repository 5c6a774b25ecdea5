import { z } from "zod";
import type { Alert } from "./evaluate.js";
import { CheckPattern, matchesPattern, type AlertRule } from "./rules.js";

/** The labels a silence can match: rule, severity, category and subject (the check id). */
export const alertLabels = (a: Pick<Alert, "ruleId" | "severity" | "category" | "subject">): Record<string, string> => ({
  rule: a.ruleId,
  severity: a.severity,
  category: a.category,
  subject: a.subject,
});

export const SilenceLabelName = z.enum(["rule", "severity", "category", "subject"]);

export const SilenceMatch = z
  .object({
    /** A check id pattern ("host:kvm2", "swarm:service:*"). */
    checks: CheckPattern.nullable().default(null),
    labels: z.partialRecord(SilenceLabelName, z.string().trim().min(1).max(200)).default({}),
  })
  .refine((m) => m.checks !== null || Object.keys(m.labels).length > 0, "a silence must match something: a check pattern or a label");
export type SilenceMatch = z.infer<typeof SilenceMatch>;

export interface Silence {
  id: string;
  checks: string | null;
  labels: Partial<Record<z.infer<typeof SilenceLabelName>, string>>;
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** A silence mutes an alert while it lasts and every matcher it has agrees (labels compared exactly). */
export function silenceMatches(s: Pick<Silence, "checks" | "labels" | "startsAt" | "endsAt">, alert: Alert, now: Date): boolean {
  const t = now.getTime();
  if (t < Date.parse(s.startsAt) || t >= Date.parse(s.endsAt)) return false;
  if (s.checks !== null && !matchesPattern(s.checks, alert.subject)) return false;
  const labels = alertLabels(alert);
  return Object.entries(s.labels).every(([k, v]) => labels[k] === v);
}

export const silencedBy = (silences: readonly Silence[], alert: Alert, now: Date): Silence | null => silences.find((s) => silenceMatches(s, alert, now)) ?? null;

/**
 * Firing alerts nobody acknowledged, not silenced, whose rule escalates and whose wait is over, and
 * which were not escalated yet: each goes to the rule's second channel once.
 */
export function escalationsDue(firing: Iterable<Alert>, rules: readonly AlertRule[], silences: readonly Silence[], now: Date): { alert: Alert; channel: string }[] {
  const byId = new Map(rules.map((r) => [r.id, r]));
  const due: { alert: Alert; channel: string }[] = [];
  for (const a of firing) {
    const esc = byId.get(a.ruleId)?.escalation;
    if (!esc || a.ack || a.escalatedAt || a.resolvedAt) continue;
    if (now.getTime() - Date.parse(a.firedAt) < esc.afterMinutes * 60_000) continue;
    if (silencedBy(silences, a, now)) continue;
    due.push({ alert: a, channel: esc.channel });
  }
  return due;
}

/** Delivery retries: delays before attempts 2, 3, …; doubling from `baseMs`, at most `maxMs`. */
export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  factor: number;
  maxMs: number;
}
export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 2_000, factor: 2, maxMs: 60_000 };

/** The wait before attempt `attempt + 1` after `attempt` failed (attempt counts from 1); null when none is left. */
export function retryDelay(attempt: number, p: RetryPolicy = DEFAULT_RETRY): number | null {
  if (attempt >= p.attempts) return null;
  return Math.min(p.maxMs, p.baseMs * p.factor ** (attempt - 1));
}

export const retrySchedule = (p: RetryPolicy = DEFAULT_RETRY): number[] =>
  Array.from({ length: Math.max(0, p.attempts - 1) }, (_, i) => retryDelay(i + 1, p)!);

export type AlertEvent = "firing" | "resolved" | "escalated";

/** What every channel sends: the JSON body of a webhook, and the subject and text of an email. */
export interface AlertNotification {
  event: AlertEvent;
  subject: string;
  text: string;
  body: {
    version: 1;
    event: AlertEvent;
    alert: Omit<Alert, "link"> & { url: string };
    sentAt: string;
  };
}

export function alertNotification(alert: Alert, event: AlertEvent, publicUrl: string, now: Date): AlertNotification {
  // Relative to the public URL's path: Nimbus may be served under a prefix behind a proxy.
  const url = new URL(alert.link.replace(/^\/+/, ""), publicUrl.endsWith("/") ? publicUrl : `${publicUrl}/`).toString();
  const head = event === "resolved" ? "RESOLVED" : event === "escalated" ? `ESCALATED ${alert.severity.toUpperCase()}` : alert.severity.toUpperCase();
  const subject = `[Nimbus ${head}] ${alert.ruleName}: ${alert.target}`;
  const lines = [
    `${alert.ruleName}: ${alert.target}`,
    alert.message,
    `Since: ${alert.since}`,
    ...(alert.resolvedAt ? [`Resolved: ${alert.resolvedAt}`] : []),
    ...(event === "escalated" ? ["Nobody acknowledged this alert."] : []),
    ...(alert.affects.length ? [`Affects: ${alert.affects.slice(0, 20).join(", ")}${alert.affects.length > 20 ? ` and ${alert.affects.length - 20} more` : ""}`] : []),
    ...(alert.tenants.length ? [`Tenants: ${alert.tenants.join(", ")}`] : []),
    `Open: ${url}`,
  ];
  const { link: _link, ...rest } = alert;
  return { event, subject, text: lines.join("\n"), body: { version: 1, event, alert: { ...rest, url }, sentAt: now.toISOString() } };
}

/** A notification channel as stored: `secret` is the webhook's HMAC key or the SMTP password (never sent to a browser). */
export interface AlertChannelRecord {
  id: string;
  name: string;
  kind: "webhook" | "email";
  enabled: boolean;
  config: Record<string, unknown>;
  secret: string | null;
  updatedAt: string;
}

/** One attempt to deliver a notification, as the delivery log keeps it. */
export interface AlertDeliveryRecord {
  id: number;
  at: string;
  alertId: string;
  alertKey: string;
  channelId: string;
  event: string;
  attempt: number;
  status: "ok" | "retrying" | "failed";
  statusCode: number | null;
  error: string | null;
}
