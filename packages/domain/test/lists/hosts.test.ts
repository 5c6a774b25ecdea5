import { describe, expect, it } from "vitest";
import { HOST_SORTS, compareHosts, hostSummary, matchesHost, queryHosts, type HostListQuery, type HostSummary } from "../../src/index.js";
import { hypervisor, node } from "../fixtures.js";

const STATES = ["online", "online", "online", "unreachable", "connecting", "key-changed"] as const;
/** 2,000 hosts with every state, roles mixed, usage spread (ties included). */
const summaries: HostSummary[] = Array.from({ length: 2_000 }, (_, i) => {
  const h = hypervisor(`kvm${String(i).padStart(4, "0")}`, [], {
    address: `10.1.${i >> 8}.${i & 255}`,
    maintenance: i % 50 === 0,
  });
  const rec = {
    ...h,
    connection: { ...h.connection, state: STATES[i % STATES.length]!, message: i % 9 === 0 ? "connect ECONNREFUSED" : null },
    inventory: { ...h.inventory, node: node({ hostname: h.name, cpuUsagePct: i % 100, memoryUsedMiB: (i * 37) % 65536 }), ...(i % 4 === 0 ? { virt: undefined } : {}) },
  };
  return hostSummary(rec);
});

function brute(input: HostListQuery) {
  const f = { q: input.q ?? "", state: input.state ?? "", role: input.role ?? "" };
  const all = summaries.filter((h) => matchesHost(h, f) && (!input.names || input.names.includes(h.name))).sort(compareHosts(input.sort ?? "name", input.desc ?? false));
  const offset = input.offset ?? 0;
  return { items: all.slice(offset, offset + (input.limit ?? 100)).map((h) => h.name), total: all.length };
}

describe("host list pages", () => {
  const queries: HostListQuery[] = [
    {},
    { offset: 1_950 },
    { q: "kvm01" },
    { q: "10.1.3." },
    { q: "refused" },
    { state: "problem" },
    { state: "maintenance", sort: "cpu", desc: true },
    { state: "online", role: "hypervisor", sort: "memory", offset: 200 },
    { role: "storage" },
    { names: ["kvm0007", "kvm1999", "not-a-host", "kvm0042"], state: "online" },
    { names: [] },
    ...HOST_SORTS.map((sort) => ({ sort, desc: true, offset: 37, limit: 500 })),
  ];
  it.each(queries.map((q) => [JSON.stringify(q), q] as const))("%s: page and count as a brute-force filter", (_, q) => {
    const page = queryHosts(summaries, q);
    const expected = brute(q);
    expect(page.total).toBe(expected.total);
    expect(page.all).toBe(2_000);
    expect(page.items.map((h) => h.name)).toEqual(expected.items);
  });

  it("counts the fleet's problems whatever the filter", () => {
    expect(queryHosts(summaries, { q: "no-such" }).problems).toBe(summaries.filter((h) => h.state !== "online" && h.state !== "connecting").length);
  });

  it("bounded input", () => {
    expect(() => queryHosts(summaries, { limit: 501 })).toThrow();
    expect(() => queryHosts(summaries, { state: "offline" as never })).toThrow();
    expect(() => queryHosts(summaries, { q: "x".repeat(201) })).toThrow();
  });
});
