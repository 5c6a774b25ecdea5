import { describe, expect, it } from "vitest";
import { HealthListQuery, byUrgency, queryHealth, type HealthCheck } from "../../src/index.js";

const STATES = ["ok", "ok", "ok", "crit", "warn", "unknown", "ok"] as const;
const CATS = ["host", "storage", "swarm", "network", "instance"] as const;
/** 5,000 checks: every state and category, some acknowledged, equal "since" in runs. */
const checks: HealthCheck[] = Array.from({ length: 5_000 }, (_, i) => {
  const state = STATES[i % STATES.length]!;
  return {
    id: `${CATS[i % 5]}:obj${i}`,
    category: CATS[i % 5]!,
    target: `Object ${i}`,
    state,
    since: new Date(Date.UTC(2026, 0, 1) + (i % 50) * 1_000).toISOString(),
    message: i % 11 === 0 ? "connect ECONNREFUSED" : "fine",
    affects: i % 13 === 0 ? [`vm-${i}`] : [],
    tenants: [],
    ack: (state === "crit" || state === "warn") && i % 4 === 0 ? { by: "alice", at: "2026-01-01T00:00:00.000Z" } : null,
  };
});

function brute(input: HealthListQuery) {
  const f = HealthListQuery.parse(input);
  const q = f.q.trim().toLowerCase();
  const failing = (c: HealthCheck) => c.state === "crit" || c.state === "warn";
  const keep = checks.filter(
    (c) => (!f.category || c.category === f.category) && (!f.problems || c.state !== "ok") && (!q || [c.id, c.target, c.message, ...c.affects].some((t) => t.toLowerCase().includes(q))),
  );
  const open = keep.filter((c) => failing(c) && !c.ack).sort(byUrgency);
  const acked = keep.filter((c) => failing(c) && c.ack).sort(byUrgency);
  const rest = keep.filter((c) => !failing(c)).sort(byUrgency);
  const all = [...open, ...acked, ...rest];
  return { ids: all.slice(f.offset, f.offset + f.limit).map((c) => c.id), total: all.length };
}

describe("health check pages", () => {
  const queries: HealthListQuery[] = [{}, { problems: true }, { category: "storage", offset: 300 }, { q: "refused" }, { q: "VM-13" }, { problems: true, category: "host", limit: 7, offset: 14 }, { offset: 4_990 }];
  it.each(queries.map((q) => [JSON.stringify(q), q] as const))("%s: page and count as a brute-force filter, open problems first", (_, q) => {
    const page = queryHealth(checks, q);
    const expected = brute(q);
    expect(page.items.map((c) => c.id)).toEqual(expected.ids);
    expect(page.total).toBe(expected.total);
    expect(page.all).toBe(5_000);
  });

  it("counts the fleet whatever the filter, acknowledged problems apart", () => {
    const { counts } = queryHealth(checks, { category: "network", limit: 1 });
    const acked = checks.filter((c) => c.ack).length;
    expect(counts.acknowledged).toBe(acked);
    expect(counts.crit + counts.warn + counts.unknown + counts.ok + counts.acknowledged).toBe(5_000);
    expect(counts.crit).toBe(checks.filter((c) => c.state === "crit" && !c.ack).length);
  });

  it("refuses oversized input", () => {
    expect(() => HealthListQuery.parse({ limit: 10_000 })).toThrow();
    expect(() => HealthListQuery.parse({ q: "x".repeat(201) })).toThrow();
    expect(() => HealthListQuery.parse({ category: "tenant" })).toThrow();
  });
});
