import { describe, expect, it } from "vitest";
import { NimbusError } from "@nimbus/domain";
import type { BusMessage } from "../src/bus.js";
import { ALERTS_CHANGED, AUTOSCALE_STATE, AUTOSCALE_STATE_REQUEST, LB_SPECS_CHANGED, onLeader, shareCachedState } from "../src/shared-state.js";

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

describe("the autoscaler's state across replicas", () => {
  function replica(id: string, leading: boolean) {
    const published: { kind: string; payload: unknown }[] = [];
    const listeners = new Set<(m: BusMessage) => void>();
    const bus = {
      publish: async (kind: string, payload: unknown) => void published.push({ kind, payload }),
      subscribe: (l: (m: BusMessage) => void) => (listeners.add(l), () => listeners.delete(l)),
      onResync: () => () => {},
    };
    const changes = new Set<() => void>();
    let state: unknown = { suggestions: [], decisions: [] };
    const adopted: unknown[] = [];
    const registered = new Map<string, (input: unknown) => Promise<unknown>>();
    const decisions = {
      sharedState: () => state,
      adoptState: (s: unknown) => (adopted.push(s), typeof s === "object" && s !== null),
      onStateChange: (l: () => void) => (changes.add(l), () => changes.delete(l)),
      acceptHere: async (service: string, by: string) => ({ accepted: service, by, on: id }),
    };
    const leader = { leading, isLeader: () => leader.leading };
    const rpc = { register: (name: string, _schema: unknown, handler: (input: unknown) => Promise<unknown>) => void registered.set(name, handler) };
    const stop = shareCachedState({ replicaId: id, bus, autoscaleDecisions: decisions, leader, rpc: rpc as never });
    return {
      published, adopted, registered, leader, stop,
      change: (s: unknown) => ((state = s), changes.forEach((l) => l())),
      deliver: (kind: string, from: string, payload: unknown) => listeners.forEach((l) => l({ kind, from, payload })),
    };
  }

  it("the leader sends its state when it changes and when asked; a follower adopts it, never its own echo; a starting replica asks", () => {
    const leader = replica("r1", true);
    const follower = replica("r2", false);
    // Each asked once at start (whatever the leader decided before it started).
    expect([leader.published, follower.published]).toEqual([[{ kind: AUTOSCALE_STATE_REQUEST, payload: {} }], [{ kind: AUTOSCALE_STATE_REQUEST, payload: {} }]]);
    leader.published.length = follower.published.length = 0;
    const state = { suggestions: [{ service: "web", reason: "1 task", since: "t" }], decisions: [] };
    leader.change(state);
    expect(leader.published).toEqual([{ kind: AUTOSCALE_STATE, payload: { state } }]);
    // A follower's own changes (it does not decide) are not sent.
    follower.change({ suggestions: [], decisions: [] });
    expect(follower.published).toEqual([]);
    follower.deliver(AUTOSCALE_STATE, "r1", { state });
    follower.deliver(AUTOSCALE_STATE, "r2", { state: "echo" });
    expect(follower.adopted).toEqual([state]);
    // The leader never takes another's state as its own.
    leader.deliver(AUTOSCALE_STATE, "r2", { state: "stale" });
    expect(leader.adopted).toEqual([]);
    // Only the leader answers a request.
    follower.deliver(AUTOSCALE_STATE_REQUEST, "r3", {});
    expect(follower.published).toEqual([]);
    leader.deliver(AUTOSCALE_STATE_REQUEST, "r3", {});
    expect(leader.published.at(-1)).toEqual({ kind: AUTOSCALE_STATE, payload: { state } });
    // The accept handler is the leader's own, registered for its peers.
    expect([...leader.registered.keys()]).toEqual(["autoscale.accept"]);
    leader.stop();
    follower.stop();
  });

  it("onLeader: runs here when leading; else asks the peers one at a time (the hint first) until the leader answers; a non-leader or a silent peer is skipped, any other refusal stands; none leads: CONFLICT", async () => {
    const calls: string[] = [];
    const answers: Record<string, () => unknown> = {
      r2: () => {
        throw new NimbusError("CONFLICT", "this server replica does not lead the cluster", { notLeader: true });
      },
      r3: () => {
        throw new NimbusError("HOST_UNREACHABLE", "peer did not answer", { peer: true });
      },
      r4: () => "from r4",
    };
    const make = (leading: boolean, peers: string[], hint?: string) => ({
      replicaId: "r1",
      isLeader: () => leading,
      hint: () => hint,
      peers: () => ["r1", ...peers].map((id) => ({ id, internalUrl: `http://${id}` })),
      rpc: { call: async (url: string) => (calls.push(url), answers[url.slice(7)]!()) as never },
    });
    const here = async () => "here";
    expect(await onLeader(make(true, ["r2", "r4"]), "autoscale.accept", {}, here)).toBe("here");
    expect(calls).toEqual([]);
    expect(await onLeader(make(false, ["r2", "r3", "r4"]), "autoscale.accept", {}, here)).toBe("from r4");
    expect(calls).toEqual(["http://r2", "http://r3", "http://r4"]);
    calls.length = 0;
    expect(await onLeader(make(false, ["r2", "r3", "r4"], "r4"), "autoscale.accept", {}, here)).toBe("from r4");
    expect(calls).toEqual(["http://r4"]);
    await expect(onLeader(make(false, ["r2", "r3"]), "autoscale.accept", {}, here)).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/no server replica leads/) });
    answers["r2"] = () => {
      throw new NimbusError("NOT_FOUND", "no open suggestion for web");
    };
    await expect(onLeader(make(false, ["r2", "r4"]), "autoscale.accept", {}, here)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
