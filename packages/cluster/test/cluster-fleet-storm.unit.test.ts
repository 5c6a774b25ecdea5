import { emptyInventory, type HostRecord } from "@nimbus/domain";
import type { Fleet, FleetEvent, HostConfig } from "@nimbus/fleet";
import { describe, expect, it, vi } from "vitest";
import type { ClusterBus } from "../src/bus.js";
import { ClusterFleet } from "../src/cluster-fleet.js";
import { InternalRpc } from "../src/internal-http.js";
import type { LeaseManager } from "../src/leases.js";

/**
 * A replica connecting its share of a big fleet (issue 16): its host changes must not queue one
 * bus round trip each behind one another, and while the bus is busy they gather (each host's
 * latest record once) instead of leaving every 5 ms.
 */
const configs: HostConfig[] = Array.from({ length: 250 }, (_, i) => ({ name: `kvm${i}`, address: `10.0.${i >> 8}.${i & 255}`, port: 22, user: "nimbus" }));

function record(name: string, state: "connecting" | "online"): HostRecord {
  return {
    name,
    address: "10.0.0.9",
    port: 22,
    maintenance: false,
    connection: { state, since: "2026-01-01T00:00:00.000Z", lastSeen: null, message: null, agentVersion: "1", capabilities: [], pinnedKey: null, offeredKey: null, nextRetryAt: null },
    inventory: emptyInventory(),
  };
}

function setup(opts: { local?: (name: string) => HostRecord | undefined; coalesceMs?: { steady: number; massConnect: number } } = {}) {
  const published: { kind: string; payload: unknown; done: () => void }[] = [];
  const bus = {
    // Answers only when the test says so: a busy database connection.
    publish: (kind: string, payload: unknown) => new Promise<void>((resolve) => published.push({ kind, payload: JSON.parse(JSON.stringify(payload)), done: resolve })),
    subscribe: () => () => undefined,
    onResync: () => () => undefined,
  } as unknown as ClusterBus;
  const owned = new Map(configs.map((c) => [c.name, 1]));
  const leases = { owned: () => owned, owns: (h: string) => owned.has(h), subscribe: () => () => undefined } as unknown as LeaseManager;
  const listeners = new Set<(e: FleetEvent) => void>();
  const local = { start: async () => undefined, host: opts.local ?? (() => undefined), subscribe: (l: (e: FleetEvent) => void) => (listeners.add(l), () => listeners.delete(l)) } as unknown as Fleet;
  const emit = (e: FleetEvent) => listeners.forEach((l) => l(e));
  const fleet = new ClusterFleet({ replicaId: "r1", hosts: configs, local, leases, bus, rpc: new InternalRpc({ secret: "x".repeat(32) }), coalesceMs: opts.coalesceMs });
  return { fleet, published, emit };
}

const hostsIn = (p: { kind: string; payload: unknown }) => (p.kind === "hosts" ? (p.payload as { hosts: { host: string; base: HostRecord }[] }).hosts : []);

describe("ClusterFleet under a connect storm", () => {
  it("hands every message to the bus at once, without waiting for the previous one's answer", async () => {
    const { fleet, published, emit } = setup();
    await fleet.start();
    for (const p of published.splice(0)) p.done(); // the start's snapshot request
    emit({ type: "host", host: record("kvm0", "online"), changed: ["connection"] });
    await vi.waitFor(() => expect(published).toHaveLength(1), { timeout: 2_000, interval: 5 });
    // The first is still unanswered: a change and an agent event still go out now, in order.
    emit({ type: "host", host: record("kvm1", "online"), changed: ["connection"] });
    emit({ type: "host-event", host: "kvm1", level: "info", message: "started", at: "2026-01-01T00:00:00.000Z" } as unknown as FleetEvent);
    expect(published.map((p) => p.kind)).toEqual(["hosts", "hosts", "event"]);
    expect(hostsIn(published[1]!).map((h) => h.host)).toEqual(["kvm1"]);
    fleet.stop();
  });

  it("gathers changes while the bus is busy: each host's latest record once, a hundred a message", async () => {
    const { fleet, published, emit } = setup();
    await fleet.start();
    for (const p of published.splice(0)) p.done();
    emit({ type: "host", host: record("kvm0", "online"), changed: ["connection"] });
    await vi.waitFor(() => expect(published).toHaveLength(1), { timeout: 2_000, interval: 5 });
    // Every other host connects and comes online in bursts, across many 5 ms windows.
    for (let i = 1; i < configs.length; i += 25) {
      for (let k = i; k < Math.min(i + 25, configs.length); k++) emit({ type: "host", host: record(`kvm${k}`, "connecting"), changed: ["connection"] });
      for (let k = i; k < Math.min(i + 25, configs.length); k++) emit({ type: "host", host: record(`kvm${k}`, "online"), changed: ["connection", "virt"] });
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(published).toHaveLength(1);
    published[0]!.done();
    await vi.waitFor(() => expect(published.length).toBeGreaterThan(1), { timeout: 2_000, interval: 5 });
    const later = published.slice(1).flatMap(hostsIn);
    expect(published.slice(1)).toHaveLength(3);
    expect(later.map((h) => h.host)).toEqual(configs.slice(1).map((c) => c.name));
    expect(later.every((h) => h.base.connection.state === "online")).toBe(true);
    fleet.stop();
  });

  it("while a tenth or more of its hosts are connecting, changes gather for the longer window; connected, they leave after the short one", async () => {
    const coalesceMs = { steady: 5, massConnect: 400 };
    const twoBursts = async (t: ReturnType<typeof setup>) => {
      await t.fleet.start();
      for (const p of t.published.splice(0)) p.done();
      t.emit({ type: "host", host: record("kvm1", "online"), changed: ["connection"] });
      // Answered at once: the bus is idle, only the window holds a change back.
      await new Promise((r) => setTimeout(r, 60));
      for (const p of t.published) p.done();
      t.emit({ type: "host", host: record("kvm2", "online"), changed: ["connection"] });
      await vi.waitFor(() => expect(t.published.flatMap(hostsIn).map((h) => h.host)).toEqual(["kvm1", "kvm2"]), { timeout: 2_000, interval: 5 });
      for (const p of t.published) p.done();
      t.fleet.stop();
      return t.published.filter((p) => p.kind === "hosts").length;
    };
    // Connecting (no local record online yet): one message for both.
    expect(await twoBursts(setup({ coalesceMs }))).toBe(1);
    // Every host connected: the first left before the second came.
    expect(await twoBursts(setup({ coalesceMs, local: (name) => record(name, "online") }))).toBe(2);
  });
});
