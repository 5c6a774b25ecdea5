import { describe, expect, it } from "vitest";
import type { BusMessage } from "../src/bus.js";
import { ALERTS_CHANGED, LB_SPECS_CHANGED, shareCachedState } from "../src/shared-state.js";

/**
 * The cached-state follower without processes: a write here is announced (what and id only), a
 * write elsewhere reloads, one's own echo does not, a burst of messages is at most two reloads,
 * and a bus reconnect reloads everything.
 */
function setup() {
  const published: { kind: string; payload: unknown }[] = [];
  const listeners = new Set<(m: BusMessage) => void>();
  const resync = new Set<() => void>();
  const bus = {
    publish: async (kind: string, payload: unknown) => void published.push({ kind, payload }),
    subscribe: (l: (m: BusMessage) => void) => (listeners.add(l), () => listeners.delete(l)),
    onResync: (l: () => void) => (resync.add(l), () => resync.delete(l)),
  };
  const reloads = { alerts: 0, lbs: 0 };
  const gates: (() => void)[] = [];
  const target = <T>(key: keyof typeof reloads) => {
    const stored = new Set<(x: T) => void>();
    return {
      reload: () => new Promise<void>((r) => (reloads[key]++, gates.push(r))),
      onStoredChange: (l: (x: T) => void) => (stored.add(l), () => stored.delete(l)),
      write: (x: T) => stored.forEach((l) => l(x)),
    };
  };
  const alerts = target<{ what: string; id: string | null }>("alerts");
  const lbs = target<string>("lbs");
  const stop = shareCachedState({ replicaId: "r1", bus, alerts, loadBalancers: lbs });
  const deliver = (kind: string, from = "r2", payload: unknown = {}) => listeners.forEach((l) => l({ kind, from, payload }));
  const release = async () => {
    for (const g of gates.splice(0)) g();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { published, reloads, alerts, lbs, stop, deliver, release, resync: () => resync.forEach((l) => l()), listeners };
}

describe("shareCachedState", () => {
  it("announces this replica's writes with what and which id, never the data", () => {
    const t = setup();
    t.alerts.write({ what: "rules", id: "host-down" });
    t.lbs.write("shop");
    expect(t.published).toEqual([
      { kind: ALERTS_CHANGED, payload: { what: "rules", id: "host-down" } },
      { kind: LB_SPECS_CHANGED, payload: { name: "shop" } },
    ]);
  });

  it("reloads on another replica's message, not on its own echo nor on other kinds", async () => {
    const t = setup();
    t.deliver(ALERTS_CHANGED, "r1");
    t.deliver("operation");
    expect(t.reloads).toEqual({ alerts: 0, lbs: 0 });
    t.deliver(LB_SPECS_CHANGED);
    expect(t.reloads).toEqual({ alerts: 0, lbs: 1 });
    await t.release();
  });

  it("a burst while a reload runs is one more reload, after it; a bus reconnect reloads everything", async () => {
    const t = setup();
    t.deliver(ALERTS_CHANGED);
    t.deliver(ALERTS_CHANGED);
    t.deliver(ALERTS_CHANGED);
    expect(t.reloads.alerts).toBe(1);
    await t.release();
    expect(t.reloads.alerts).toBe(2);
    await t.release();
    expect(t.reloads.alerts).toBe(2);
    t.resync();
    expect(t.reloads).toEqual({ alerts: 3, lbs: 1 });
    await t.release();
    t.stop();
    expect(t.listeners.size).toBe(0);
    t.alerts.write({ what: "rules", id: "x" });
    expect(t.published).toEqual([]);
  });
});
