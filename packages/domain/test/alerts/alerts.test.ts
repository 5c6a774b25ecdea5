import { describe, expect, it } from "vitest";
import {
  AlertRule,
  DEFAULT_ALERT_RULES,
  SilenceMatch,
  alertNotification,
  emptyAlertState,
  escalationsDue,
  evaluateAlerts,
  matchesPattern,
  metricSamples,
  retryDelay,
  retrySchedule,
  silenceMatches,
  type Alert,
  type AlertCheckInput,
  type AlertEvalState,
  type MetricSample,
  type Silence,
} from "../../src/alerts/index.js";

const T0 = Date.parse("2026-12-07T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000);
const iso = (s: number) => at(s).toISOString();

const check = (id: string, state: AlertCheckInput["state"], since = iso(0), message = "m"): AlertCheckInput => ({
  id,
  category: id.startsWith("host:") ? "host" : id.startsWith("storage") ? "storage" : id.startsWith("swarm") ? "swarm" : "network",
  target: id,
  state,
  message,
  since,
  affects: ["vm1"],
  tenants: ["acme"],
});

const rule = (id: string) => DEFAULT_ALERT_RULES.find((r) => r.id === id)!;

/** Steps the pure evaluation like the service does, keeping state and the firing set. */
function stepper(rules: readonly AlertRule[]) {
  let state: AlertEvalState = emptyAlertState();
  const firing = new Map<string, Alert>();
  return (s: number, checks: AlertCheckInput[], metrics: MetricSample[] = []) => {
    const r = evaluateAlerts(rules, { checks, metrics }, state, firing, at(s));
    state = r.state;
    for (const a of [...r.fired, ...r.updated]) firing.set(a.id, a);
    for (const a of r.resolved) firing.delete(a.id);
    return { ...r, firing: new Map(firing) };
  };
}

describe("alert rule patterns", () => {
  it("matches * as any run of characters and everything else literally", () => {
    expect(matchesPattern("host:*", "host:kvm1")).toBe(true);
    expect(matchesPattern("host:*", "hostx:kvm1")).toBe(false);
    expect(matchesPattern("storage:vip", "storage:vip")).toBe(true);
    expect(matchesPattern("storage:vip", "storage:vipx")).toBe(false);
    expect(matchesPattern("a.b", "axb")).toBe(false);
    expect(matchesPattern("network:mesh-incomplete:*", "network:mesh-incomplete:5001")).toBe(true);
  });

  it("equalities and prefixes (the fast paths) agree with the general rule on every shape", () => {
    // The rule itself: `*` is any run of characters (line breaks included), the rest literal.
    const reference = (pattern: string, id: string) => new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "s").test(id);
    const patterns = ["storage:vip", "host:*", "lb:*:*", "*", "*:vip", "a.b*", "swarm:service:*", "x*y", "host:kvm1", "**", "(a)*"];
    const ids = ["storage:vip", "storage:vipx", "host:", "host:kvm1", "hostx:kvm1", "lb:web:s1", "lb:web", "", "a.bc", "axbc", "xy", "x-and-y", "host:kvm\n1", "(a)", "(a)b", "swarm:service:web"];
    for (const p of patterns) for (const id of ids) expect(matchesPattern(p, id), `${p} ~ ${id}`).toBe(reference(p, id));
  });

  it("ships valid defaults for every case the on-call asked for", () => {
    for (const r of DEFAULT_ALERT_RULES) expect(AlertRule.parse(r)).toEqual(r);
    expect(DEFAULT_ALERT_RULES.map((r) => r.id)).toEqual(["host-down", "datastore-80", "datastore-90", "vip-flapping", "service-replicas", "mesh-incomplete", "backend-down"]);
  });

  it("refuses a pattern with characters outside the id alphabet", () => {
    expect(AlertRule.safeParse({ ...rule("host-down"), condition: { kind: "check", checks: "host:(.*)+", states: ["crit"] } }).success).toBe(false);
  });
});

describe("evaluateAlerts", () => {
  it("fires host-down at once and resolves when the check is ok", () => {
    const step = stepper([rule("host-down")]);
    expect(step(0, [check("host:kvm1", "ok")]).fired).toEqual([]);
    const down = step(5, [check("host:kvm1", "crit", iso(5), "unreachable")]);
    expect(down.fired).toHaveLength(1);
    expect(down.fired[0]).toMatchObject({ id: "host-down|host:kvm1", severity: "critical", since: iso(5), firedAt: iso(5), link: "/hosts/kvm1", affects: ["vm1"], tenants: ["acme"] });
    expect(step(10, [check("host:kvm1", "crit", iso(5), "unreachable")]).fired).toEqual([]);
    const up = step(15, [check("host:kvm1", "ok", iso(15))]);
    expect(up.resolved).toMatchObject([{ id: "host-down|host:kvm1", resolvedAt: iso(15) }]);
    expect(up.firing.size).toBe(0);
  });

  it("waits for the rule's duration (counted from the check's since) before firing", () => {
    const step = stepper([rule("service-replicas")]);
    const short = check("swarm:service:web", "warn", iso(0), "1/3 replicas running");
    expect(step(30, [short]).fired).toEqual([]);
    expect(step(59, [short]).fired).toEqual([]);
    expect(step(60, [short]).fired).toMatchObject([{ id: "service-replicas|swarm:service:web", since: iso(0), firedAt: iso(60), link: "/swarm" }]);
  });

  it("forgets a pending condition that cleared before its duration", () => {
    const step = stepper([rule("datastore-80")]);
    const ds = (v: number): MetricSample => ({ metric: "datastore.usedPct", subject: "/instance", target: "datastore /instance", value: v, affects: [] });
    expect(step(0, [], [ds(85)]).state.pending.size).toBe(1);
    expect(step(200, [], [ds(70)]).state.pending.size).toBe(0);
    expect(step(299, [], [ds(85)]).fired).toEqual([]);
    expect(step(500, [], [ds(85)]).fired).toEqual([]);
    expect(step(599, [], [ds(85)]).fired).toMatchObject([{ id: "datastore-80|metric-datastore:/instance", message: "85 % used (over 80 %)", link: "/storage" }]);
  });

  it("fires both datastore rules at 95 % and only the 80 % one at 85 %", () => {
    const step = stepper([rule("datastore-80"), rule("datastore-90")]);
    const ds = (v: number): MetricSample => ({ metric: "datastore.usedPct", subject: "/instance", target: "datastore /instance", value: v, affects: [] });
    step(0, [], [ds(95)]);
    expect([...step(400, [], [ds(95)]).firing.keys()].sort()).toEqual(["datastore-80|metric-datastore:/instance", "datastore-90|metric-datastore:/instance"]);
    const r = step(401, [], [ds(85)]);
    expect(r.resolved.map((a) => a.ruleId)).toEqual(["datastore-90"]);
    expect(r.updated.map((a) => a.message)).toEqual(["85 % used (over 80 %)"]);
  });

  it("reports a firing alert's changed message as an update, not a new alert", () => {
    const step = stepper([rule("host-down")]);
    step(0, [check("host:kvm1", "crit", iso(0), "unreachable: timeout")]);
    const r = step(5, [check("host:kvm1", "crit", iso(0), "unreachable: refused")]);
    expect(r.fired).toEqual([]);
    expect(r.updated).toMatchObject([{ message: "unreachable: refused", firedAt: iso(0) }]);
  });

  it("keeps a firing alert while its check has no verdict (the host reconnecting), resolves it once ok", () => {
    const step = stepper([rule("host-down")]);
    step(0, [check("host:kvm1", "crit")]);
    const reconnecting = step(5, [check("host:kvm1", "unknown", iso(5), "connecting")]);
    expect(reconnecting.resolved).toEqual([]);
    expect(reconnecting.firing.has("host-down|host:kvm1")).toBe(true);
    expect(step(10, [check("host:kvm1", "ok", iso(10))]).resolved.map((a) => a.id)).toEqual(["host-down|host:kvm1"]);
  });

  it("resolves every alert of a rule that is disabled", () => {
    const step = stepper([rule("host-down")]);
    step(0, [check("host:kvm1", "crit")]);
    const off = evaluateAlerts([{ ...rule("host-down"), enabled: false }], { checks: [check("host:kvm1", "crit")], metrics: [] }, emptyAlertState(), step(1, [check("host:kvm1", "crit")]).firing, at(2));
    expect(off.resolved.map((a) => a.id)).toEqual(["host-down|host:kvm1"]);
  });

  it("counts VIP moves for flapping, not the monitor's pending suffix, and forgets old ones", () => {
    const step = stepper([rule("vip-flapping")]);
    const vip = (holder: string, suffix = "") => check("storage:vip", "ok", iso(0), `held by ${holder}${suffix}`);
    step(0, [vip("nfs1")]);
    step(10, [vip("nfs1", " (failing, 1 sample)")]);
    step(20, [vip("nfs2")]);
    step(30, [vip("nfs1")]);
    const third = step(40, [vip("nfs2")]);
    expect(third.fired).toMatchObject([{ id: "vip-flapping|storage:vip", message: "changed 3 times in 10 min; now: held by nfs2" }]);
    // Ten minutes after the first move the window holds two: resolved.
    expect(step(621, [vip("nfs2")]).resolved.map((a) => a.id)).toEqual(["vip-flapping|storage:vip"]);
  });

  it("fires mesh-incomplete and backend-down on their check id patterns", () => {
    const step = stepper(DEFAULT_ALERT_RULES);
    const checks = [check("network:mesh-incomplete:5001", "warn"), check("lb:web:node2", "crit"), check("lb:web", "crit")];
    step(0, checks);
    const r = step(120, checks);
    expect([...r.firing.keys()].sort()).toEqual(["backend-down|lb:web:node2", "mesh-incomplete|network:mesh-incomplete:5001"]);
  });
});

const alert = (over: Partial<Alert> = {}): Alert => ({
  id: "host-down|host:kvm1",
  ruleId: "host-down",
  ruleName: "Host down",
  severity: "critical",
  subject: "host:kvm1",
  category: "host",
  target: "kvm1 agent",
  message: "unreachable",
  affects: ["vm1"],
  tenants: ["acme"],
  link: "/hosts/kvm1",
  since: iso(0),
  firedAt: iso(0),
  resolvedAt: null,
  ack: null,
  escalatedAt: null,
  ...over,
});

const silence = (over: Partial<Silence>): Silence => ({ id: "s1", checks: null, labels: {}, startsAt: iso(0), endsAt: iso(3600), createdBy: "ann", comment: "", ...over });

describe("silences", () => {
  it("match by check pattern, by labels, only while they last", () => {
    expect(silenceMatches(silence({ checks: "host:*" }), alert(), at(10))).toBe(true);
    expect(silenceMatches(silence({ checks: "host:kvm2" }), alert(), at(10))).toBe(false);
    expect(silenceMatches(silence({ labels: { severity: "critical", rule: "host-down" } }), alert(), at(10))).toBe(true);
    expect(silenceMatches(silence({ labels: { severity: "warning" } }), alert(), at(10))).toBe(false);
    expect(silenceMatches(silence({ checks: "host:*", labels: { category: "storage" } }), alert(), at(10))).toBe(false);
    expect(silenceMatches(silence({ checks: "host:*" }), alert(), at(3600))).toBe(false);
    expect(silenceMatches(silence({ checks: "host:*", startsAt: iso(100) }), alert(), at(10))).toBe(false);
  });

  it("refuse to match everything", () => {
    expect(SilenceMatch.safeParse({}).success).toBe(false);
    expect(SilenceMatch.safeParse({ labels: { host: "x" } }).success).toBe(false);
    expect(SilenceMatch.safeParse({ labels: { rule: "host-down" } }).success).toBe(true);
  });
});

describe("escalation", () => {
  const rules = [{ ...rule("host-down"), escalation: { afterMinutes: 10, channel: "pager" } }];
  it("escalates an unacknowledged alert once its wait is over, once", () => {
    expect(escalationsDue([alert()], rules, [], at(599))).toEqual([]);
    expect(escalationsDue([alert()], rules, [], at(600))).toMatchObject([{ channel: "pager", alert: { id: "host-down|host:kvm1" } }]);
    expect(escalationsDue([alert({ escalatedAt: iso(600) })], rules, [], at(700))).toEqual([]);
  });
  it("does not escalate what is acknowledged, silenced or escalation-free", () => {
    expect(escalationsDue([alert({ ack: { by: "ann", at: iso(1), note: null } })], rules, [], at(700))).toEqual([]);
    expect(escalationsDue([alert()], rules, [silence({ checks: "host:*" })], at(700))).toEqual([]);
    expect(escalationsDue([alert()], [rule("host-down")], [], at(7000))).toEqual([]);
  });
});

describe("retry backoff", () => {
  it("doubles from the base, capped, and stops after the last attempt", () => {
    expect(retrySchedule({ attempts: 6, baseMs: 1000, factor: 2, maxMs: 10_000 })).toEqual([1000, 2000, 4000, 8000, 10_000]);
    expect(retryDelay(5, { attempts: 5, baseMs: 1000, factor: 2, maxMs: 10_000 })).toBeNull();
    expect(retrySchedule({ attempts: 1, baseMs: 1000, factor: 2, maxMs: 10_000 })).toEqual([]);
  });
});

describe("notifications", () => {
  it("link to the cause's page under the public URL and say what is affected", () => {
    const n = alertNotification(alert(), "firing", "https://nimbus.example.com/console", at(5));
    expect(n.subject).toBe("[Nimbus CRITICAL] Host down: kvm1 agent");
    expect(n.body.alert.url).toBe("https://nimbus.example.com/console/hosts/kvm1");
    expect(n.text).toContain("Open: https://nimbus.example.com/console/hosts/kvm1");
    expect(n.text).toContain("Affects: vm1");
    expect(alertNotification(alert({ resolvedAt: iso(9) }), "resolved", "http://127.0.0.1:3000", at(9)).subject).toBe("[Nimbus RESOLVED] Host down: kvm1 agent");
  });
});

describe("metricSamples", () => {
  it("made again only for hosts whose node or VM section was replaced, equal to a fresh reading every time", () => {
    const node = (cpu: number) => ({ hostname: "h", os: "d", kernel: "k", cpuModel: "c", cpuFeatures: [], cpuCount: 4, cpuUsagePct: cpu, memoryTotalMiB: 1000, memoryUsedMiB: 250, diskTotalBytes: 100, diskUsedBytes: 50, uptimeSeconds: 1 });
    const virt = (states: string[]) => ({ hypervisor: "QEMU", domains: states.map((state, i) => ({ name: `vm${i}`, state })) });
    const host = (name: string, n: object, v: object | null, state = "online") =>
      ({ name, address: "x", port: 22, maintenance: false, connection: { state, capabilities: [] }, inventory: { node: n, virt: v, net: null, swarm: null, storage: null } }) as never;
    const fresh = (hosts: never[]) => metricSamples(structuredClone(hosts)); // new sections: nothing kept applies
    const nodeA = node(10);
    const virtA = virt(["running", "shutoff", "running"]);
    let hosts = [host("a", nodeA, virtA), host("b", node(20), null)];
    const first = metricSamples(hosts);
    expect(first).toEqual(fresh(hosts));
    expect(first.find((s) => s.subject === "a")!.affects).toEqual(["vm0", "vm2"]);
    const again = metricSamples(hosts);
    expect(again[0]).toBe(first[0]); // nothing replaced: the same objects
    // A's VMs change (a new section), B's node is replaced, A goes down, then a rename sharing A's node.
    hosts = [host("a", nodeA, virt(["shutoff", "running"])), host("b", node(90), null)];
    expect(metricSamples(hosts)).toEqual(fresh(hosts));
    expect(metricSamples(hosts).find((s) => s.subject === "a")!.affects).toEqual(["vm1"]);
    hosts = [host("a", nodeA, virtA, "unreachable"), host("b", node(90), null)];
    expect(metricSamples(hosts)).toEqual(fresh(hosts));
    hosts = [host("c", nodeA, virtA)];
    expect(metricSamples(hosts)).toEqual(fresh(hosts));
    expect(metricSamples(hosts).every((s) => s.subject === "c")).toBe(true);
  });


  it("reads online hosts' pushed numbers only", () => {
    const node = { hostname: "h", os: "d", kernel: "k", cpuModel: "c", cpuFeatures: [], cpuCount: 4, cpuUsagePct: 42, memoryTotalMiB: 1000, memoryUsedMiB: 250, diskTotalBytes: 100, diskUsedBytes: 50, uptimeSeconds: 1 };
    const host = (name: string, state: string) =>
      ({ name, address: "x", port: 22, maintenance: false, connection: { state, capabilities: [] }, inventory: { node, virt: null, net: null, swarm: null, storage: null } }) as never;
    const s = metricSamples([host("a", "online"), host("b", "unreachable")]);
    expect(s.map((m) => [m.metric, m.subject, m.value])).toEqual([
      ["host.cpuPct", "a", 42],
      ["host.memoryPct", "a", 25],
      ["host.diskPct", "a", 50],
    ]);
  });
});
