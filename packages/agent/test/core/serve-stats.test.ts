import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { notificationSchema, type StatsCounters } from "@nimbus/domain";
import { serveAgent, type AgentDrivers } from "../../src/index.js";
import { nodeFacts, wire } from "./wire.js";

const facts = nodeFacts("h1");

/** A session whose stats driver reads from `read`; messages the agent writes are collected. */
function session(read: () => Promise<StatsCounters>) {
  const drivers: AgentDrivers = { hostname: "h1", node: { snapshot: async () => facts, watch: () => () => {} }, stats: { read } };
  const input = new PassThrough();
  const output = new PassThrough();
  const done = serveAgent({ input, output, drivers, agentVersion: "9.9.9", statsIntervalMs: 20 });
  const { messages, waitFor } = wire(input, output);
  const snapshot = () => input.write(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "inventory.snapshot", params: {} }) + "\n");
  return { messages, waitFor, snapshot, end: () => (input.end(), done) };
}

const counters = (n: number): StatsCounters => ({
  cpu: { busy: n, total: n * 4 },
  interfaces: [{ name: "eth0", kind: "physical", master: null, rxBytes: n * 100, txBytes: n * 50 }],
  domains: [{ name: "web1", cpuTimeNs: n * 1e9, netRxBytes: n, netTxBytes: n, diskReadBytes: n, diskWriteBytes: n, memoryRssKiB: 1024 }],
  datastores: [],
});

describe("stats.counters pushes", () => {
  it("start after the server took a snapshot, repeat on the timer, and match the protocol", async () => {
    let n = 0;
    const s = session(async () => counters(++n));
    // Nothing before the snapshot: the server is not following this session's pushes yet.
    await new Promise((r) => setImmediate(r));
    s.snapshot();
    await s.waitFor((m) => m.id === 1);
    const pushes = () => s.messages.filter((m) => m.method === "stats.counters");
    await s.waitFor((m) => m.method === "stats.counters" && m.params.cpu.busy >= 2);
    expect(s.messages.findIndex((m) => m.method === "stats.counters")).toBeGreaterThan(s.messages.findIndex((m) => m.id === 1));
    for (const p of pushes()) expect(notificationSchema("stats.counters")!.safeParse(p.params).success).toBe(true);
    expect(pushes().slice(0, 2).map((p) => p.params.cpu.busy)).toEqual([1, 2]);
    await s.end();
  });

  it("a failing reading is said once as a host event, and the pushes resume when it reads again", async () => {
    let calls = 0;
    const s = session(async () => {
      calls++;
      if (calls <= 3) throw new Error("ip: Cannot open netlink socket");
      return counters(calls);
    });
    s.snapshot();
    const pushed = await s.waitFor((m) => m.method === "stats.counters");
    expect(pushed.params.cpu.busy).toBe(4);
    const events = s.messages.filter((m) => m.method === "host.event");
    expect(events).toHaveLength(1);
    expect(events[0].params).toMatchObject({ level: "warn", message: expect.stringContaining("stats: ip: Cannot open netlink socket") });
    await s.end();
  });
});
