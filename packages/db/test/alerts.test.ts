import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_ALERT_RULES } from "@nimbus/domain";
import { AlertStore, type Database, type StoredAlert } from "../src/index.js";
import { backend, openTestDatabase } from "../src/testing.js";

let database: Database;
let store: AlertStore;
beforeAll(async () => {
  database = await openTestDatabase();
  store = new AlertStore(database.db);
});
afterAll(() => database?.close());

const alert = (rowId: string, over: Partial<StoredAlert> = {}): StoredAlert => ({
  rowId,
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
  since: "2026-01-01T00:00:00.000Z",
  firedAt: "2026-01-01T00:00:05.000Z",
  resolvedAt: null,
  ack: null,
  escalatedAt: null,
  ...over,
});

describe(`AlertStore (${backend})`, () => {
  it("seeds the shipped rules once and keeps an admin's edit", async () => {
    await store.seedRules(DEFAULT_ALERT_RULES);
    await store.putRule({ ...DEFAULT_ALERT_RULES[0]!, enabled: false, channels: ["ops"] }, "ann");
    await store.seedRules(DEFAULT_ALERT_RULES);
    const rules = (await store.rules()) as { id: string; enabled: boolean; channels: string[] }[];
    expect(rules).toHaveLength(DEFAULT_ALERT_RULES.length);
    expect(rules.find((r) => r.id === "host-down")).toMatchObject({ enabled: false, channels: ["ops"] });
  });

  it("keeps one open row per key, its ack and escalation, and the resolved history", async () => {
    await store.insertAlert(alert("r1"));
    await expect(store.insertAlert(alert("r2"))).rejects.toThrow();
    await store.updateAlert(alert("r1", { ack: { by: "ann", at: "2026-01-01T00:01:00.000Z", note: "on it" }, escalatedAt: "2026-01-01T00:02:00.000Z" }));
    expect(await store.openAlerts()).toEqual([alert("r1", { ack: { by: "ann", at: "2026-01-01T00:01:00.000Z", note: "on it" }, escalatedAt: "2026-01-01T00:02:00.000Z" })]);
    await store.updateAlert(alert("r1", { resolvedAt: "2026-01-01T00:03:00.000Z" }));
    expect(await store.openAlerts()).toEqual([]);
    await store.insertAlert(alert("r3", { firedAt: "2026-01-01T00:04:00.000Z" }));
    expect((await store.recentAlerts(10)).map((a) => [a.rowId, a.resolvedAt])).toEqual([
      ["r3", null],
      ["r1", "2026-01-01T00:03:00.000Z"],
    ]);
  });

  it("writes a round of 250 fired, 120 changed and resolved alerts in a bounded number of statements, each as last named", async () => {
    const statements = vi.spyOn((database.db as unknown as { $client: { query: (...a: unknown[]) => unknown } }).$client, "query");
    // 100 alerts a statement here (1,000 in the server), so a small round shows the bound.
    const chunked = new AlertStore(database.db, 100);
    const key = (i: number) => ({ id: `host-down|host:h${i}`, subject: `host:h${i}` });
    const before = Array.from({ length: 120 }, (_, i) => alert(`old-${i}`, key(i)));
    await chunked.saveAlerts({ inserted: before, updated: [] });
    expect(statements.mock.calls.length).toBeLessThanOrEqual(2);

    statements.mockClear();
    const resolvedAt = "2026-01-01T01:00:00.000Z";
    const ack = { by: "ann", at: "2026-01-01T00:30:00.000Z", note: "on it" };
    // 60 resolve; the same keys fire again in the same round (resolving first keeps one open row per key).
    const resolved = before.slice(0, 60).map((a) => ({ ...a, resolvedAt }));
    const changed = before.slice(60).map((a) => ({ ...a, message: "still down", ack }));
    const fired = [...Array.from({ length: 60 }, (_, i) => alert(`again-${i}`, key(i))), ...Array.from({ length: 190 }, (_, i) => alert(`new-${i}`, key(500 + i)))];
    // One new alert escalates in its first round: written once, escalated.
    const escalated = { ...fired[0]!, escalatedAt: "2026-01-01T01:00:01.000Z" };
    await chunked.saveAlerts({ inserted: fired, updated: [...resolved, ...changed, escalated] });
    // 120 updates and 250 inserts: 2 + 3 statements of at most 100 rows.
    expect(statements.mock.calls.length).toBeLessThanOrEqual(5);
    statements.mockRestore();

    const open = await store.openAlerts();
    expect(open.filter((a) => a.id.startsWith("host-down|host:h"))).toHaveLength(60 + 250);
    const byRow = new Map(open.map((a) => [a.rowId, a]));
    expect(byRow.get("old-0")).toBeUndefined();
    expect(byRow.get("old-70")).toEqual({ ...before[70], message: "still down", ack });
    expect(byRow.get("again-0")).toEqual(escalated);
    expect(byRow.get("new-189")).toEqual(fired.at(-1));
    const recent = await store.recentAlerts(1_000);
    expect(recent.filter((a) => a.resolvedAt === resolvedAt)).toHaveLength(60);
    await chunked.saveAlerts({ inserted: [], updated: open.map((a) => ({ ...a, resolvedAt })) });
    expect(await store.openAlerts()).toEqual([]);
  });

  it("lists silences until they end, and ends one early once", async () => {
    const s = { id: "s1", checks: "host:*", labels: { severity: "critical" as const }, startsAt: "2026-01-01T00:00:00.000Z", endsAt: "2026-01-01T01:00:00.000Z", createdBy: "ann", comment: "maintenance" };
    await store.putSilence(s);
    expect(await store.activeSilences(new Date("2026-01-01T00:30:00.000Z"))).toEqual([s]);
    expect(await store.activeSilences(new Date("2026-01-01T01:00:00.000Z"))).toEqual([]);
    expect(await store.endSilence("s1", new Date("2026-01-01T00:10:00.000Z"))).toBe(true);
    expect(await store.endSilence("s1", new Date("2026-01-01T00:20:00.000Z"))).toBe(false);
    expect(await store.activeSilences(new Date("2026-01-01T00:15:00.000Z"))).toEqual([]);
  });

  it("keeps channels with their secret and the delivery log newest first", async () => {
    await store.putChannel({ id: "ops", name: "Ops hook", kind: "webhook", enabled: true, config: { url: "http://127.0.0.1:9/hook" }, secret: "k" });
    expect(await store.channels()).toMatchObject([{ id: "ops", secret: "k", config: { url: "http://127.0.0.1:9/hook" } }]);
    await store.addDelivery({ alertId: "r1", alertKey: "k", channelId: "ops", event: "firing", attempt: 1, status: "retrying", statusCode: 500, error: "HTTP 500" });
    await store.addDelivery({ alertId: "r1", alertKey: "k", channelId: "ops", event: "firing", attempt: 2, status: "ok", statusCode: 200, error: null });
    expect((await store.deliveries(10, "ops")).map((d) => [d.attempt, d.status, d.statusCode])).toEqual([
      [2, "ok", 200],
      [1, "retrying", 500],
    ]);
    expect(await store.deleteChannel("ops")).toBe(true);
    expect(await store.deleteChannel("ops")).toBe(false);
  });
});
