import { describe, expect, it } from "vitest";
import type { HostRecord, LiveEvent, Operation, Viewer } from "@nimbus/domain";
import { LiveHub } from "../src/services/live-hub.js";
import { maskHost } from "../src/services/projections.js";
import { ReplayIndex } from "../../cluster/src/replay.js";
import type { BusMessage } from "../../cluster/src/bus.js";
import type { HealthCheck } from "@nimbus/domain";
import type { HealthChanges } from "../src/services/health-monitor.js";
import { hypervisor, vm } from "../../domain/test/fixtures.js";
import { fakeFleet, twoTenants } from "./support/live-fleet.js";

/**
 * Two replicas in one process: each has a LiveHub with its own ReplayIndex over a bus of its own
 * (a fake with ClusterBus's numbering: per origin 1, 2, 3…, marks set before listeners run). The
 * fleet's records are one object, as replication makes them the same on both. A browser's stream
 * on A is cut; changes happen on hosts A and B own; it comes back on B with its last id.
 */
class FakeBus {
  private sent = 0;
  private readonly marks = new Map<string, number>();
  private readonly subs = new Set<(m: BusMessage) => void>();
  private readonly pubs = new Set<(m: BusMessage) => void>();
  constructor(readonly origin: string) {}
  watermark() {
    return new Map([...this.marks, [this.origin, this.sent]]);
  }
  subscribe(l: (m: BusMessage) => void) {
    this.subs.add(l);
    return () => this.subs.delete(l);
  }
  onPublished(l: (m: BusMessage) => void) {
    this.pubs.add(l);
    return () => this.pubs.delete(l);
  }
  publish(kind: string, payload: unknown): BusMessage {
    const m: BusMessage = { kind, from: this.origin, payload, origin: this.origin, n: ++this.sent };
    for (const l of this.pubs) l(m);
    return m;
  }
  deliver(m: BusMessage) {
    this.marks.set(m.origin!, Math.max(this.marks.get(m.origin!) ?? 0, m.n!));
    for (const l of this.subs) l(m);
  }
}

const acme: Viewer = { userId: "a", name: "A", role: "tenant", tenant: "acme" };
const staff: Viewer = { userId: "s", name: "S", role: "oncall", tenant: null };

const operation = (id: string, host: string, tenant: string | null, state: Operation["state"] = "running"): Operation => ({
  id,
  kind: "migrate",
  state,
  target: { type: "instance", name: `${tenant}-1` },
  host,
  tenant,
  requestedBy: "x",
  summary: `migrate ${tenant}-1 from ${host} to kvm2`,
  params: { destination: "kvm2" },
  progress: null,
  steps: [],
  error: null,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: null,
} as Operation);

/** The hubs' clock (ms): health replay compares times, and the ids carry seconds. */
const clock = { now: 1_800_000_000_000 };

function cluster(opts: { maxOperations?: number; publishing?: () => boolean; sections?: boolean } = {}) {
  const hosts: HostRecord[] = [hypervisor("kvm1", [vm({ name: "acme-1", tenant: "acme" })]), hypervisor("kvm2", [vm({ name: "globex-1", tenant: "globex", nics: [] })])];
  const { fleet, emit } = fakeFleet(hosts);
  const tenants = twoTenants();
  const replica = (origin: string) => {
    const bus = new FakeBus(origin);
    const index = new ReplayIndex(bus, { isHost: (h) => hosts.some((x) => x.name === h), maxOperations: opts.maxOperations, publishing: opts.publishing });
    const opListeners = new Set<(op: Operation) => void>();
    const healthListeners = new Set<(c: HealthChanges) => void>();
    const checks: HealthCheck[] = [];
    const hub = new LiveHub(fleet, tenants, { coalesceMs: 1, replay: index, now: () => clock.now });
    hub.attach({
      operations: { subscribe: (l) => (opListeners.add(l), () => opListeners.delete(l)) },
      health: { subscribe: (l) => (healthListeners.add(l), () => healthListeners.delete(l)), checks: () => checks },
      topology: { subscribe: () => () => {} },
    });
    /** This replica's health monitor reports a change (each replica evaluates checks itself). */
    const health = (upsert: HealthCheck[], remove: string[] = []) => {
      for (const c of upsert) checks.splice(checks.findIndex((x) => x.id === c.id) >>> 0, 1, c);
      for (const id of remove) checks.splice(checks.findIndex((x) => x.id === id) >>> 0, 1);
      for (const l of healthListeners) l({ upsert, remove });
    };
    return { bus, index, hub, opListeners, health };
  };
  const a = replica("r1@aaaaaaaa");
  const b = replica("r2@bbbbbbbb");
  const owners: Record<string, typeof a> = { kvm1: a, kvm2: b };
  /** The owner publishes a host change; `to` (the other replica, unless it is dead) receives it; both fleets show it. */
  const change = (host: string, changed: ("virt" | "net" | "connection")[], mutate?: (h: HostRecord) => void, delivered = true) => {
    const record = hosts.find((h) => h.name === host)!;
    mutate?.(record);
    const owner = owners[host]!;
    // With `sections`, as ClusterFleet sends it: the base (connection) and the changed sections.
    const body = opts.sections ? { base: { name: host, connection: record.connection }, sections: changed.includes("virt") ? { virt: record.inventory.virt } : {} } : {};
    const m = owner.bus.publish("hosts", { hosts: [{ host, epoch: 1, changed, full: false, ...body }] });
    const other = owner === a ? b : a;
    if (delivered) other.bus.deliver(m);
    emit({ type: "host", host: record, changed });
  };
  /** An operation run by `owner`, published and received by the other. */
  const op = (owner: typeof a, o: Operation, delivered = true) => {
    const m = owner.bus.publish("operation", o);
    const other = owner === a ? b : a;
    if (delivered) other.bus.deliver(m);
    for (const l of owner.opListeners) l(o);
    if (delivered) for (const l of other.opListeners) l(o);
  };
  // With `sections`: each owner's first, whole record of its host, received by the other (what later changes are compared with).
  if (opts.sections)
    for (const host of ["kvm1", "kvm2"]) {
      const record = hosts.find((h) => h.name === host)!;
      const m = owners[host]!.bus.publish("hosts", { hosts: [{ host, epoch: 1, changed: ["connection", "virt"], full: true, base: { name: host, connection: record.connection }, sections: { virt: record.inventory.virt } }] });
      (owners[host] === a ? b : a).bus.deliver(m);
    }
  return { hosts, a, b, change, op, emit };
}

type Msg = { id: string; event: LiveEvent };
async function take(gen: AsyncGenerator<Msg>, n: number): Promise<Msg[]> {
  const out: Msg[] = [];
  while (out.length < n) {
    const next = await gen.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

const setState = (name: string, state: "running" | "paused") => (h: HostRecord) => {
  h.inventory.virt!.domains = h.inventory.virt!.domains.map((d) => (d.name === name ? { ...d, state } : d));
};

describe("LiveHub replay across replicas (cluster cursor)", () => {
  it("a staff browser cut off on A resumes on B with exactly what it missed, in order, then live events; no reset", async () => {
    const { a, b, change, op } = cluster();
    const abortA = new AbortController();
    const onA = a.hub.stream(staff, null, abortA.signal);
    expect((await take(onA, 1))[0]!.event.type).toBe("reset");
    change("kvm1", ["virt"], setState("acme-1", "paused"));
    const seen = await take(onA, 2);
    expect(seen.map((m) => m.event.type)).toEqual(["hosts", "host-instances"]);
    const last = seen.at(-1)!.id;
    expect(last).toMatch(/^[0-9a-f]{8}:\d+:\d+~r1@aaaaaaaa=\d+(,r2@bbbbbbbb=\d+)?$/);
    abortA.abort();
    await onA.next();

    // While the browser is away: B's host changes, an operation on B, A's host changes (B hears it; then A dies).
    change("kvm2", ["virt"], setState("globex-1", "paused"));
    op(b, operation("op-1", "kvm2", "globex"));
    change("kvm1", ["net"]);
    await new Promise((r) => setTimeout(r, 5));

    const abortB = new AbortController();
    const onB = b.hub.stream(staff, last, abortB.signal);
    const replayed = await take(onB, 4);
    expect(replayed.map((m) => m.event.type)).toEqual(["hosts", "host-instances", "operation", "host-network"]);
    const [summaries, instances, operationEvent, network] = replayed.map((m) => m.event);
    expect(summaries).toMatchObject({ summaries: [{ name: "kvm2" }, { name: "kvm1" }] });
    expect(instances).toMatchObject({ host: "kvm2", instances: [{ name: "globex-1", state: "paused" }] });
    expect(operationEvent).toMatchObject({ operation: { id: "op-1" } });
    expect(network).toMatchObject({ network: { host: "kvm1" } });
    // The last replayed event carries B's cursor now: replaying from it gives nothing more.
    expect(b.index.changesSince(replayed.at(-1)!.id.split("~")[1]!)).toEqual({ hosts: [], operations: [] });
    // Then live: the next event is the next change, nothing else in between.
    change("kvm2", ["virt"], setState("globex-1", "running"));
    const live = await take(onB, 2);
    expect(live.map((m) => m.event.type)).toEqual(["hosts", "host-instances"]);
    expect(live[1]!.event).toMatchObject({ host: "kvm2", instances: [{ state: "running" }] });
    abortB.abort();
    await onB.next();
  });

  it("an own host's change still gathered for the bus: its event waits for the message, so its cursor counts it and B sends it no more", async () => {
    let gathered = false;
    const { a, b, hosts, emit } = cluster({ publishing: () => gathered });
    const abort = new AbortController();
    const onA = a.hub.stream(staff, null, abort.signal);
    await take(onA, 1);
    // A's fleet applies the change at once (its browsers hear of it), the bus message follows ~20 ms later.
    const kvm1 = hosts.find((h) => h.name === "kvm1")!;
    setState("acme-1", "paused")(kvm1);
    gathered = true;
    emit({ type: "host", host: kvm1, changed: ["virt"] });
    setTimeout(() => {
      const m = a.bus.publish("hosts", { hosts: [{ host: "kvm1", epoch: 1, changed: ["virt"], full: false }] });
      gathered = false;
      b.bus.deliver(m);
    }, 20);
    const seen = await take(onA, 2);
    expect(seen[1]!.event).toMatchObject({ type: "host-instances", host: "kvm1" });
    const cursor = seen.at(-1)!.id.split("~")[1]!;
    expect(cursor).toContain("r1@aaaaaaaa=1");
    // Resumed on B from it: nothing to replay.
    expect(b.index.changesSince(cursor)).toEqual({ hosts: [], operations: [] });
    abort.abort();
    await onA.next();
  });

  it("a bus that stays busy holds an own change's event at most ~50 ms: it goes out with the cursor it has", async () => {
    const { a, hosts, emit } = cluster({ publishing: () => true });
    const abort = new AbortController();
    const onA = a.hub.stream(staff, null, abort.signal);
    await take(onA, 1);
    const kvm1 = hosts.find((h) => h.name === "kvm1")!;
    setState("acme-1", "paused")(kvm1);
    emit({ type: "host", host: kvm1, changed: ["virt"] });
    const seen = await take(onA, 2);
    expect(seen[1]!.event).toMatchObject({ type: "host-instances", host: "kvm1", instances: [{ state: "paused" }] });
    abort.abort();
    await onA.next();
  });

  it("a change A published but B never received (A killed first) was seen by the browser or is replayed, never lost", async () => {
    const { b, a, change } = cluster();
    const abort = new AbortController();
    const onA = a.hub.stream(staff, null, abort.signal);
    await take(onA, 1);
    change("kvm1", ["virt"], setState("acme-1", "paused"));
    const seen = await take(onA, 2);
    abort.abort();
    // B's own change after the browser's cursor, and one of A's that never reached B.
    change("kvm2", ["virt"], setState("globex-1", "paused"));
    change("kvm1", ["net"], undefined, false);
    await new Promise((r) => setTimeout(r, 5));
    const onB = b.hub.stream(staff, seen.at(-1)!.id, undefined);
    const replayed = await take(onB, 2);
    expect(replayed.map((m) => m.event.type)).toEqual(["hosts", "host-instances"]);
    expect(replayed[1]!.event).toMatchObject({ host: "kvm2" });
  });

  it("a tenant's replay holds its own instances and operations only, with host tokens, never a host name", async () => {
    const { a, b, change, op } = cluster();
    const abort = new AbortController();
    const onA = a.hub.stream(acme, null, abort.signal);
    await take(onA, 1);
    change("kvm1", ["virt"], setState("acme-1", "paused"));
    const [seen] = await take(onA, 1);
    expect(seen!.event).toMatchObject({ type: "host-instances", host: maskHost("kvm1") });
    abort.abort();
    change("kvm2", ["virt", "net"], setState("globex-1", "paused"));
    op(b, operation("op-globex", "kvm2", "globex"));
    op(a, operation("op-acme", "kvm1", "acme"));
    change("kvm1", ["virt"], setState("acme-1", "running"));
    await new Promise((r) => setTimeout(r, 5));
    const onB = b.hub.stream(acme, seen!.id, undefined);
    const replayed = await take(onB, 2);
    expect(replayed.map((m) => m.event)).toEqual([
      { type: "operation", operation: expect.objectContaining({ id: "op-acme", host: maskHost("kvm1"), params: {} }) },
      { type: "host-instances", host: maskHost("kvm1"), instances: [expect.objectContaining({ name: "acme-1", state: "running", host: maskHost("kvm1") })] },
    ]);
    const json = JSON.stringify(replayed);
    for (const secret of ["kvm1", "kvm2", "globex"]) expect(json).not.toContain(secret);
    // Nothing else was queued for it: the next event is a live one of its own.
    change("kvm1", ["virt"], setState("acme-1", "paused"));
    const [next] = await take(onB, 1);
    expect(next!.event).toMatchObject({ type: "host-instances", instances: [{ state: "paused" }] });
  });

  it("a cursor older than what B keeps gets a reset, as today", async () => {
    const { a, b, op } = cluster({ maxOperations: 2 });
    const onA = a.hub.stream(staff, null, undefined);
    await take(onA, 1);
    op(a, operation("op-0", "kvm1", null));
    const [seen] = await take(onA, 1);
    for (let i = 1; i <= 3; i++) op(b, operation(`op-${i}`, "kvm2", null));
    const onB = b.hub.stream(staff, seen!.id, undefined);
    expect((await take(onB, 1))[0]!.event).toEqual({ type: "reset" });
  });

  it("hostile cursors are refused with a reset: never a throw, never a replay of anything", async () => {
    const { b } = cluster();
    const hostile = [
      "x".repeat(1400),
      "abcd:1~",
      "abcd:1~r1@aaaaaaaa=-5",
      "abcd:1~r1@aaaaaaaa=1e3",
      "abcd:1~r1@aaaaaaaa=99999999999999999999",
      "abcd:1~r1@aaaaaaaa=1,r1@aaaaaaaa=2",
      "abcd:1~" + Array.from({ length: 17 }, (_, i) => `r${i}@aaaaaaaa=1`).join(","),
      "abcd:1~__proto__=1",
      "abcd:1~r1@zz=1",
      "abcd:1~~~",
      // Well formed, but from no replica this one has heard of.
      "abcd:1~ghost@12345678=5",
    ];
    for (const id of hostile) {
      const gen = b.hub.stream(staff, id, undefined);
      expect((await take(gen, 1))[0]!.event).toEqual({ type: "reset" });
      await gen.return(undefined);
    }
  });

  it("the same replica still replays from its own ring (ids keep the local position), and a reset's id is a cursor too", async () => {
    const { a, b, change } = cluster();
    const abort = new AbortController();
    const onA = a.hub.stream(staff, null, abort.signal);
    const [reset] = await take(onA, 1);
    expect(reset!.id).toContain("~r1@aaaaaaaa=");
    change("kvm1", ["virt"], setState("acme-1", "paused"));
    const seen = await take(onA, 2);
    abort.abort();
    await onA.next();
    change("kvm1", ["net"]);
    await new Promise((r) => setTimeout(r, 5));
    const again = a.hub.stream(staff, seen.at(-1)!.id, undefined);
    // The summary did not change with the network: only the network event was made, and replayed.
    expect((await take(again, 1)).map((m) => m.event.type)).toEqual(["host-network"]);
    // B resumes from the reset's id: everything since (both of A's changes) comes as state.
    const onB = b.hub.stream(staff, reset!.id, undefined);
    // Each in the order its change came: instances (virt) before network (net).
    expect((await take(onB, 3)).map((m) => m.event.type)).toEqual(["hosts", "host-instances", "host-network"]);
  });

  it("a cut inside a flush replays that flush: only each flush's last event says everything up to it was seen", async () => {
    const { a, b, change, hosts } = cluster();
    const onA = a.hub.stream(staff, null, undefined);
    await take(onA, 1);
    // Two hosts change in one flush (announced together, projected together).
    setState("acme-1", "paused")(hosts[0]!);
    setState("globex-1", "paused")(hosts[1]!);
    change("kvm1", ["virt"]);
    change("kvm2", ["virt"]);
    const flush = await take(onA, 3);
    expect(flush.map((m) => m.event.type)).toEqual(["hosts", "host-instances", "host-instances"]);
    const [, middle, last] = flush;
    // Cut after kvm1's instances: B sends kvm2's (and kvm1's again: state, harmless); after the last one, nothing.
    const fromMiddle = b.hub.stream(staff, middle!.id, undefined);
    const replayed = await take(fromMiddle, 3);
    expect(replayed.map((m) => m.event.type === "host-instances" && m.event.host)).toEqual([false, "kvm1", "kvm2"]);
    expect(b.index.changesSince(last!.id.split("~")[1]!)).toEqual({ hosts: [], operations: [] });
  });

  it("staff get the health checks that changed on the new replica since shortly before the cursor; tenants never get health", async () => {
    const { a, b, op } = cluster();
    // The replicas have heard from each other (a cursor naming no origin B knows is refused).
    op(a, operation("op-0", "kvm1", null, "succeeded"));
    const check = (id: string, state: HealthCheck["state"]): HealthCheck => ({ id, category: "host", target: id, state, since: "2026-01-01T00:00:00.000Z", message: "", affects: [], tenants: ["acme"], ack: null });
    b.health([check("old", "ok"), check("gone", "crit")]);
    clock.now += 60_000;
    const onA = a.hub.stream(staff, null, undefined);
    const [reset] = await take(onA, 1);
    const tenantOnA = a.hub.stream(acme, null, undefined);
    const [tenantReset] = await take(tenantOnA, 1);
    clock.now += 1_000;
    b.health([check("new", "crit")], ["gone"]);
    const onB = b.hub.stream(staff, reset!.id, undefined);
    expect((await take(onB, 1))[0]!.event).toEqual({ type: "health-changes", upsert: [check("new", "crit")], remove: ["gone"] });
    // The tenant's replay has nothing (no host of its changed), and no health: its next event is a reset-free live one.
    const tenantOnB = b.hub.stream(acme, tenantReset!.id, undefined);
    const next = take(tenantOnB, 1); // (subscribed from here)
    b.opListeners.forEach((l) => l(operation("op-t", "kvm1", "acme")));
    expect((await next)[0]!.event).toMatchObject({ type: "operation", operation: { id: "op-t" } });
  });

  it("a replay names the instances that arrived on, left or changed state on a host since the cursor, as live events do; a tenant only its own", async () => {
    const { a, b, change } = cluster({ sections: true });
    const abort = new AbortController();
    const onA = a.hub.stream(staff, null, abort.signal);
    const tenantA = a.hub.stream(acme, null, undefined);
    await take(onA, 1);
    const [tenantReset] = await take(tenantA, 1);
    change("kvm1", ["virt"], setState("acme-1", "paused"));
    const seen = await take(onA, 2);
    expect(seen[1]!.event).toMatchObject({ type: "host-instances", host: "kvm1", restated: ["acme-1"] });
    abort.abort();
    await onA.next();
    // Away: acme-1 runs again, globex-1 leaves kvm2 and acme-2 arrives there.
    change("kvm1", ["virt"], setState("acme-1", "running"));
    change("kvm2", ["virt"], (h) => {
      h.inventory.virt!.domains = [vm({ name: "acme-2", tenant: "acme", nics: [] })];
    });
    await new Promise((r) => setTimeout(r, 5));
    const onB = b.hub.stream(staff, seen.at(-1)!.id, undefined);
    const replayed = (await take(onB, 3)).map((m) => m.event);
    expect(replayed.map((e) => e.type)).toEqual(["hosts", "host-instances", "host-instances"]);
    expect(replayed[1]).toMatchObject({ host: "kvm1", restated: ["acme-1"] });
    expect(replayed[1]).not.toHaveProperty("added");
    expect(replayed[2]).toMatchObject({ host: "kvm2", added: ["acme-2"], removed: ["globex-1"] });
    // The tenant (from its opening reset on A): its own instances only, under host tokens; globex-1 is not named.
    const tenantB = b.hub.stream(acme, tenantReset!.id, undefined);
    const forTenant = (await take(tenantB, 2)).map((m) => m.event);
    expect(forTenant).toEqual([
      expect.objectContaining({ type: "host-instances", host: maskHost("kvm1"), restated: ["acme-1"] }),
      expect.objectContaining({ type: "host-instances", host: maskHost("kvm2"), added: ["acme-2"] }),
    ]);
    const json = JSON.stringify(forTenant);
    for (const secret of ["kvm1", "kvm2", "globex"]) expect(json).not.toContain(secret);
  });

  it("a tenant whose last instance on a host left hears of it in a replay (under the token), as live", async () => {
    const { a, b, change } = cluster({ sections: true });
    const tenantA = a.hub.stream(acme, null, undefined);
    const [reset] = await take(tenantA, 1);
    change("kvm1", ["virt"], (h) => {
      h.inventory.virt!.domains = [];
    });
    await new Promise((r) => setTimeout(r, 5));
    const tenantB = b.hub.stream(acme, reset!.id, undefined);
    expect((await take(tenantB, 1))[0]!.event).toEqual({ type: "host-instances", host: maskHost("kvm1"), instances: [], removed: ["acme-1"] });
  });
});
