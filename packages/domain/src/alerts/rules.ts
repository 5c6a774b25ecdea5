import { z } from "zod";

/**
 * Alert rules: when a health check or a pushed metric has been bad for long enough, an alert
 * fires and notifications leave the server. Rules only read what the health monitor and the
 * in-memory inventory already have; evaluating them never contacts a host.
 */
export const AlertSeverity = z.enum(["critical", "warning", "info"]);
export type AlertSeverity = z.infer<typeof AlertSeverity>;

/** A check id pattern: `*` stands for any run of characters ("host:*", "network:mesh-incomplete:*"). */
export const CheckPattern = z.string().trim().min(1).max(200).regex(/^[A-Za-z0-9_.:/*@-]+$/, "letters, digits, . _ : / @ - and * only");

/** Numbers the inventory pushes, per subject (a host or a datastore path). */
export const AlertMetric = z.enum(["datastore.usedPct", "host.cpuPct", "host.memoryPct", "host.diskPct"]);
export type AlertMetric = z.infer<typeof AlertMetric>;

export const AlertCondition = z.discriminatedUnion("kind", [
  /** A health check (after the monitor's rise/fall) is in one of these states. */
  z.object({ kind: z.literal("check"), checks: CheckPattern, states: z.array(z.enum(["crit", "warn"])).min(1).max(2) }),
  /** A metric is above a threshold. */
  z.object({ kind: z.literal("metric"), metric: AlertMetric, above: z.number().min(0).max(100) }),
  /** A check changed state or message (a VIP moving between servers) this many times in the window. */
  z.object({ kind: z.literal("flapping"), checks: CheckPattern, changes: z.number().int().min(2).max(100), windowMinutes: z.number().int().min(1).max(1440) }),
]);
export type AlertCondition = z.infer<typeof AlertCondition>;

export const ChannelId = z.string().trim().min(1).max(64).regex(/^[a-z0-9][a-z0-9-]*$/, "lower-case letters, digits and -");

export const AlertRule = z.object({
  id: z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9:-]*$/),
  name: z.string().trim().min(1).max(120),
  enabled: z.boolean(),
  severity: AlertSeverity,
  /** How long the condition must hold before the alert fires (0: at once). */
  forSeconds: z.number().int().min(0).max(86_400),
  condition: AlertCondition,
  /** Channels notified when it fires and resolves. */
  channels: z.array(ChannelId).max(10),
  /** Still firing and nobody acknowledged after this long: tell a second channel. */
  escalation: z.object({ afterMinutes: z.number().int().min(1).max(1440), channel: ChannelId }).nullable(),
});
export type AlertRule = z.infer<typeof AlertRule>;

/** What an admin may change on a rule (ids and conditions' kinds stay). */
export const AlertRulePatch = AlertRule.pick({ enabled: true, severity: true, forSeconds: true, condition: true, channels: true, escalation: true }).partial();
export type AlertRulePatch = z.infer<typeof AlertRulePatch>;

/**
 * The rules shipped with Nimbus. Backend-down reads the load balancers' server checks,
 * `lb:<balancer>:<server>` (`lb:<balancer>` alone is the HAProxy process: host-level, not a backend).
 */
export const DEFAULT_ALERT_RULES: readonly AlertRule[] = [
  { id: "host-down", name: "Host down", enabled: true, severity: "critical", forSeconds: 0, condition: { kind: "check", checks: "host:*", states: ["crit"] }, channels: [], escalation: null },
  { id: "datastore-80", name: "Datastore over 80 %", enabled: true, severity: "warning", forSeconds: 300, condition: { kind: "metric", metric: "datastore.usedPct", above: 80 }, channels: [], escalation: null },
  { id: "datastore-90", name: "Datastore over 90 %", enabled: true, severity: "critical", forSeconds: 60, condition: { kind: "metric", metric: "datastore.usedPct", above: 90 }, channels: [], escalation: null },
  { id: "vip-flapping", name: "NFS VIP flapping", enabled: true, severity: "warning", forSeconds: 0, condition: { kind: "flapping", checks: "storage:vip", changes: 3, windowMinutes: 10 }, channels: [], escalation: null },
  { id: "service-replicas", name: "Service under desired replicas", enabled: true, severity: "warning", forSeconds: 60, condition: { kind: "check", checks: "swarm:service:*", states: ["crit", "warn"] }, channels: [], escalation: null },
  { id: "mesh-incomplete", name: "VXLAN mesh incomplete", enabled: true, severity: "warning", forSeconds: 120, condition: { kind: "check", checks: "network:mesh-incomplete:*", states: ["crit", "warn"] }, channels: [], escalation: null },
  { id: "backend-down", name: "Load balancer backend down", enabled: true, severity: "critical", forSeconds: 0, condition: { kind: "check", checks: "lb:*:*", states: ["crit"] }, channels: [], escalation: null },
];

const patternCache = new Map<string, (id: string) => boolean>();

/**
 * A pattern as a test: without `*` an equality, with one `*` at the end a prefix, else a regular
 * expression (an alert round tests every check id against the flapping rules' patterns).
 */
function compilePattern(pattern: string): (id: string) => boolean {
  const star = pattern.indexOf("*");
  if (star === -1) return (id) => id === pattern;
  if (star === pattern.length - 1) {
    const prefix = pattern.slice(0, -1);
    return (id) => id.startsWith(prefix);
  }
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "s");
  return (id) => re.test(id);
}

/** Whether a check id matches a pattern (`*`: any run of characters, the rest literal). */
export function matchesPattern(pattern: string, id: string): boolean {
  let test = patternCache.get(pattern);
  if (!test) {
    test = compilePattern(pattern);
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(pattern, test);
  }
  return test(id);
}
