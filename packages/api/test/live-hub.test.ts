import { afterEach, describe, expect, it, vi } from "vitest";
import type { HealthCheck, HostRecord, LiveEvent, Operation, Viewer } from "@nimbus/domain";
import { LiveHub, StreamLimitReached, StreamRevoked, type LiveHubOptions } from "../src/services/live-hub.js";
import type { HealthChanges } from "../src/services/health-monitor.js";
import { hypervisor, vm } from "../../domain/test/fixtures.js";
import { fakeFleet, twoTenants } from "./support/live-fleet.js";

/** A fleet of two hypervisors whose changes the test announces by hand; `lookups` counts projection work. */
function setup(opts: LiveHubOptions = {}) {
  const hosts: HostRecord[] = [hypervisor("kvm1", [vm({ name: "acme-1", tenant: "acme" })]), hypervisor("kvm2", [vm({ name: "globex-1", tenant: "globex", nics: [] })])];
  const lookups = { count: 0 };
  const { fleet, emit } = fakeFleet(hosts, () => lookups.count++);
  const hub = new LiveHub(fleet, twoTenants(), { coalesceMs: 1, ...opts });
  const opListeners = new Set<(op: Operation) => void>();
  const healthListeners = new Set<(c: HealthChanges) => void>();
  hub.attach({
    operations: { subscribe: (l) => (opListeners.add(l), () => opListeners.delete(l)) },
    health: { subscribe: (l) => (healthListeners.add(l), () => healthListeners.delete(l)) },
    topology: { subscribe: () => () => {} },
  });
  const change = (name: string, ...changed: ("virt" | "net" | "node" | "connection" | "storage")[]) => {
    emit({ type: "host", host: hosts.find((h) => h.name === name)!, changed });
  };
  const health = (changes: HealthChanges) => {
    for (const l of healthListeners) l(changes);
  };
  const setCpu = (name: string, pct: number) => (hosts.find((h) => h.name === name)!.inventory.node!.cpuUsagePct = pct);
  return { hosts, hub, change, health, setCpu, lookups };
}

const check = (id: string, over: Partial<HealthCheck> = {}): HealthCheck => ({
  id,
  category: "instance",
  target: id,
  state: "crit",
  since: "2026-01-01T00:00:00.000Z",
  message: "crashed",
  affects: [],
  tenants: [],
  ack: null,
  ...over,
});

const acme: Viewer = { userId: "a", name: "A", role: "tenant", tenant: "acme" };
const globex: Viewer = { userId: "g", name: "G", role: "tenant", tenant: "globex" };
const staff: Viewer = { userId: "s", name: "S", role: "oncall", tenant: null };

async function take(gen: AsyncGenerator<{ id: string; event: LiveEvent }>, n: number) {
  const out: { id: string; event: LiveEvent }[] = [];
  while (out.length < n) {
    const next = await gen.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

/** The next storage event (host summaries of the same flush come first). */
async function nextStorage(gen: AsyncGenerator<{ id: string; event: LiveEvent }>) {
  for (;;) {
    const [m] = await take(gen, 1);
    if (!m || m.event.type === "storage") return m!;
  }
}

describe("LiveHub", () => {
  it("starts a new stream with a reset, then delivers projected changes", async () => {
    const { hub, change } = setup();
    const gen = hub.stream(staff, null, undefined);
    expect((await take(gen, 1))[0]!.event).toEqual({ type: "reset" });
    change("kvm1", "virt");
    const events = (await take(gen, 2)).map((m) => m.event.type);
    expect(events).toEqual(["hosts", "host-instances"]);
    await gen.return(undefined);
  });

  it("gives a tenant only its instances, with host names masked, and nothing for hosts without them", async () => {
    const { hub, change } = setup();
    const gen = hub.stream(acme, null, undefined);
    await take(gen, 1);
    change("kvm2", "virt"); // globex only: nothing for acme
    change("kvm1", "virt");
    const [msg] = await take(gen, 1);
    expect(msg!.event.type).toBe("host-instances");
    const json = JSON.stringify(msg!.event);
    expect(json).toContain("acme-1");
    expect(json).not.toContain("globex");
    expect(json).not.toContain("kvm1");
    await gen.return(undefined);
  });

  it("replays what a browser missed when it comes back within the grace period, and resets for an id of another process", async () => {
    const { hub, change } = setup({ idleGraceMs: 5_000, now: () => 0 });
    const first = hub.stream(staff, null, undefined);
    const [reset] = await take(first, 1);
    change("kvm1", "virt");
    const got = await take(first, 2);
    await first.return(undefined);
    change("kvm2", "virt");
    const again = hub.stream(staff, got[1]!.id, undefined);
    const replayed = await take(again, 1);
    expect(replayed[0]!.event).toMatchObject({ type: "hosts", summaries: [{ name: "kvm2" }] });
    await again.return(undefined);
    const foreign = hub.stream(staff, "otherboot:5", undefined);
    expect((await take(foreign, 1))[0]!.event).toEqual({ type: "reset" });
    expect(reset!.id.split(":")[0]).not.toBe("otherboot");
    await foreign.return(undefined);
  });

  it("ends a stream whose session no longer validates", async () => {
    const { hub } = setup();
    let valid = true;
    const gen = hub.stream(acme, null, undefined, { revalidate: async () => valid, revalidateMs: 10 });
    await take(gen, 1);
    valid = false;
    await expect(gen.next()).rejects.toBeInstanceOf(StreamRevoked);
  });

  it("says which instances arrived on, left or changed state on a host since its last event, each viewer its own names only (a paged list's count moved at a row it has not loaded)", async () => {
    const { hub, change, hosts } = setup();
    const staffGen = hub.stream(staff, null, undefined);
    const acmeGen = hub.stream(acme, null, undefined);
    await take(staffGen, 1);
    await take(acmeGen, 1);
    const instancesEvent = async (gen: AsyncGenerator<{ id: string; event: LiveEvent }>) => {
      for (;;) {
        const [m] = await take(gen, 1);
        if (m!.event.type === "host-instances") return m!.event;
      }
    };
    // kvm1 loses acme-1 and gains acme-2 and a globex VM.
    hosts[0]!.inventory.virt!.domains = [vm({ name: "acme-2", tenant: "acme" }), vm({ name: "globex-9", tenant: "globex", nics: [] })];
    change("kvm1", "virt");
    expect(await instancesEvent(staffGen)).toMatchObject({ host: "kvm1", added: ["acme-2", "globex-9"], removed: ["acme-1"] });
    const own = await instancesEvent(acmeGen);
    expect(own).toMatchObject({ added: ["acme-2"], removed: ["acme-1"] });
    expect(JSON.stringify(own)).not.toContain("globex");
    // Nothing arrived or left: neither list is sent; a state change is named (a filter by state gained or lost it).
    hosts[0]!.inventory.virt!.domains[0]!.state = "shutoff";
    change("kvm1", "virt");
    const same = await instancesEvent(staffGen);
    expect("added" in same || "removed" in same).toBe(false);
    expect(same).toMatchObject({ restated: ["acme-2"] });
    expect(await instancesEvent(acmeGen)).toMatchObject({ restated: ["acme-2"] });
    // Globex's VM leaving is not acme's news: its event (if any) names nothing of globex.
    hosts[0]!.inventory.virt!.domains = hosts[0]!.inventory.virt!.domains.slice(0, 1);
    change("kvm1", "virt");
    expect(await instancesEvent(staffGen)).toMatchObject({ removed: ["globex-9"] });
    await staffGen.return(undefined);
    await acmeGen.return(undefined);
  });

  it("batches the host summaries of one flush into one event", async () => {
    const { hub, change } = setup();
    const gen = hub.stream(staff, null, undefined);
    await take(gen, 1);
    change("kvm1", "node");
    change("kvm2", "node");
    const [msg] = await take(gen, 1);
    expect(msg!.event).toMatchObject({ type: "hosts", summaries: [{ name: "kvm1" }, { name: "kvm2" }] });
    await gen.return(undefined);
  });

  it("sends storage mounts only when they changed, datastore usage every time it does", async () => {
    const { hub, change, hosts } = setup();
    const nfs = { serverRunning: true, keepalivedState: "master", vip: { address: "10.10.0.100", heldHere: true }, exports: [], datastores: [{ path: "/instance", totalBytes: 100, usedBytes: 10 }] };
    hosts[1]!.inventory.storage = { nfs, mounts: [] } as never;
    const gen = hub.stream(staff, null, undefined);
    await take(gen, 1);
    change("kvm2", "storage");
    const first = await nextStorage(gen);
    expect(first.event).toMatchObject({ type: "storage", storage: { datastores: [{ usedPct: 10 }], mounts: [{ host: "kvm1", target: "/instance" }] } });
    nfs.datastores[0]!.usedBytes = 85;
    change("kvm2", "storage");
    const usage = await nextStorage(gen);
    expect(usage.event).toMatchObject({ type: "storage", storage: { datastores: [{ usedPct: 85 }] } });
    expect("mounts" in (usage.event as Extract<LiveEvent, { type: "storage" }>).storage).toBe(false);
    hosts[0]!.inventory.storage!.mounts.push({ source: "10.10.0.100:/instance2", target: "/instance2", fstype: "nfs4" });
    change("kvm1", "storage");
    const mounts = await nextStorage(gen);
    expect((mounts.event as Extract<LiveEvent, { type: "storage" }>).storage.mounts).toHaveLength(2);
    await gen.return(undefined);
  });

  it("sends a host summary again only when it changed", async () => {
    const { hub, change, setCpu } = setup();
    const gen = hub.stream(staff, null, undefined);
    await take(gen, 1);
    change("kvm1", "node");
    await take(gen, 1);
    change("kvm1", "node"); // same summary: nothing
    setCpu("kvm2", 77);
    change("kvm2", "node");
    const [msg] = await take(gen, 1);
    expect(msg!.event).toEqual({ type: "hosts", summaries: [expect.objectContaining({ name: "kvm2", cpuUsagePct: 77 })] });
    await gen.return(undefined);
  });

  it("pushes only the health checks that changed or went away, and only to staff", async () => {
    const { hub, change, health } = setup();
    const staffGen = hub.stream(staff, null, undefined);
    const tenantGen = hub.stream(acme, null, undefined);
    await take(staffGen, 1);
    await take(tenantGen, 1);
    const crashed = check("instance:acme-1", { tenants: ["acme"] });
    health({ upsert: [crashed], remove: ["instance:old"] });
    expect((await take(staffGen, 1))[0]!.event).toEqual({ type: "health-changes", upsert: [crashed], remove: ["instance:old"] });
    // The tenant's next event is its own instance change: no health in between, not even its own.
    change("kvm1", "virt");
    expect((await take(tenantGen, 1))[0]!.event.type).toBe("host-instances");
    await staffGen.return(undefined);
    await tenantGen.return(undefined);
  });

  describe("audiences without a browser", () => {
    afterEach(() => vi.useRealTimers());

    /** A staff browser sees one change of kvm1, then closes; returns the last id it got. */
    async function staffSeesKvm1AndLeaves(hub: LiveHub, change: (name: string, ...c: "virt"[]) => void) {
      const gen = hub.stream(staff, null, undefined);
      await take(gen, 1);
      change("kvm1", "virt");
      const got = await take(gen, 2);
      await gen.return(undefined);
      return got[1]!.id;
    }

    it("projects nothing once the last browser has left", async () => {
      vi.useFakeTimers();
      const { hub, change, health, lookups } = setup({ idleGraceMs: 0 });
      const first = hub.stream(staff, null, undefined);
      await take(first, 1);
      await first.return(undefined);
      lookups.count = 0; // a stream takes who runs what as it starts
      change("kvm1", "virt", "net");
      health({ upsert: [check("instance:x")], remove: [] });
      vi.advanceTimersByTime(10);
      expect(lookups.count).toBe(0);
      // The same change with a browser listening is projected: the count above can see work.
      const again = hub.stream(staff, null, undefined);
      await take(again, 1);
      change("kvm1", "virt");
      vi.advanceTimersByTime(10);
      expect(lookups.count).toBeGreaterThan(0);
      await again.return(undefined);
    });

    it("projects nothing for a tenant nobody of which listens, while staff do", async () => {
      const { hub, change } = setup({ idleGraceMs: 0 });
      const tenantGen = hub.stream(acme, null, undefined);
      const [first] = await take(tenantGen, 1);
      await tenantGen.return(undefined);
      const staffGen = hub.stream(staff, null, undefined);
      await take(staffGen, 1);
      change("kvm1", "virt"); // acme's VM: skipped for acme
      await take(staffGen, 2);
      // Acme's history has a hole now: its browser comes back to a reset, not an empty replay.
      const again = hub.stream(acme, first!.id, undefined);
      expect((await take(again, 1))[0]!.event).toEqual({ type: "reset" });
      await again.return(undefined);
      await staffGen.return(undefined);
    });

    it("resets a browser that comes back after events were skipped", async () => {
      let clock = 0;
      const { hub, change } = setup({ idleGraceMs: 1_000, now: () => clock });
      const lastId = await staffSeesKvm1AndLeaves(hub, change);
      // Globex's browser sees the flush happen that staff, gone for longer than the grace period, miss.
      const witness = hub.stream(globex, null, undefined);
      await take(witness, 1);
      clock = 1_000;
      change("kvm2", "virt");
      await take(witness, 1);
      const again = hub.stream(staff, lastId, undefined);
      expect((await take(again, 1))[0]!.event).toEqual({ type: "reset" });
      await again.return(undefined);
      await witness.return(undefined);
    });

    it("replays for a browser that comes back after the grace period when nothing changed meanwhile", async () => {
      let clock = 0;
      const { hub, change } = setup({ idleGraceMs: 1_000, now: () => clock });
      const lastId = await staffSeesKvm1AndLeaves(hub, change);
      clock = 60_000;
      const again = hub.stream(staff, lastId, undefined);
      change("kvm2", "virt");
      expect((await take(again, 1))[0]!.event).toMatchObject({ type: "hosts", summaries: [{ name: "kvm2" }] });
      await again.return(undefined);
    });

    it("sends a state equal to one sent before the hole again after the browser refetched", async () => {
      const { hub, change, setCpu } = setup({ idleGraceMs: 0 });
      const first = hub.stream(staff, null, undefined);
      await take(first, 1);
      setCpu("kvm1", 10);
      change("kvm1", "node");
      const [sent] = await take(first, 1);
      expect(sent!.event).toMatchObject({ type: "hosts", summaries: [{ cpuUsagePct: 10 }] });
      await first.return(undefined);
      const witness = hub.stream(globex, null, undefined);
      await take(witness, 1);
      setCpu("kvm1", 90);
      change("kvm1", "node"); // no staff browser: the next one will refetch and see 90
      change("kvm2", "virt"); // same flush, seen by the witness
      await take(witness, 1);
      const again = hub.stream(staff, sent!.id, undefined);
      expect((await take(again, 1))[0]!.event).toEqual({ type: "reset" });
      setCpu("kvm1", 10);
      change("kvm1", "node");
      expect((await take(again, 1))[0]!.event).toMatchObject({ type: "hosts", summaries: [{ name: "kvm1", cpuUsagePct: 10 }] });
      await again.return(undefined);
      await witness.return(undefined);
    });
  });
});

describe("LiveHub limits", () => {
  const acme2: Viewer = { userId: "a2", name: "A2", role: "tenant", tenant: "acme" };

  it("refuses a user's stream past the per-user limit, and takes one again once a stream closes", async () => {
    const { hub } = setup({ maxStreamsPerUser: 2 });
    const open = [hub.stream(acme, null, undefined), hub.stream(acme, null, undefined)];
    for (const g of open) await take(g, 1);
    const extra = hub.stream(acme, null, undefined);
    await expect(extra.next()).rejects.toThrow(/already have 2 live connections/);
    // Another user is not held back by acme's streams.
    const other = hub.stream(acme2, null, undefined);
    expect((await take(other, 1))[0]!.event).toEqual({ type: "reset" });
    await open[0]!.return(undefined);
    const again = hub.stream(acme, null, undefined);
    expect((await take(again, 1))[0]!.event).toEqual({ type: "reset" });
    for (const g of [open[1]!, other, again]) await g.return(undefined);
    expect(hub.subscriberCount()).toBe(0);
  });

  it("refuses streams from one address past the per-address limit, whoever opens them", async () => {
    const { hub } = setup({ maxStreamsPerAddress: 3 });
    const from = (v: Viewer, address: string) => hub.stream(v, null, undefined, { address });
    const open = [from(acme, "10.0.0.7"), from(acme2, "10.0.0.7"), from(globex, "10.0.0.7")];
    for (const g of open) await take(g, 1);
    await expect(from(staff, "10.0.0.7").next()).rejects.toBeInstanceOf(StreamLimitReached);
    const elsewhere = from(staff, "10.0.0.8");
    expect((await take(elsewhere, 1))[0]!.event).toEqual({ type: "reset" });
    for (const g of [...open, elsewhere]) await g.return(undefined);
  });

  it("holds eight streams per user by default and refuses the ninth", async () => {
    const { hub } = setup();
    const open = Array.from({ length: 8 }, () => hub.stream(acme, null, undefined));
    for (const g of open) await take(g, 1);
    await expect(hub.stream(acme, null, undefined).next()).rejects.toBeInstanceOf(StreamLimitReached);
    for (const g of open) await g.return(undefined);
  });

  it("bounds the replay ring by size: a browser whose missed events outweigh it gets a reset", async () => {
    const { hub, health } = setup({ ringSize: 10_000, idleGraceMs: 60_000, now: () => 0 });
    const gen = hub.stream(staff, null, undefined);
    await take(gen, 1);
    const big = (i: number) => check(`instance:big-${i}`, { message: "x".repeat(3_000) });
    for (let i = 0; i < 5; i++) health({ upsert: [big(i)], remove: [] });
    const got = await take(gen, 5);
    await gen.return(undefined);
    // Five events of ~3 KB in a 10 KB ring: the first two are gone, the last three can be replayed.
    const fromFirst = hub.stream(staff, got[0]!.id, undefined);
    expect((await take(fromFirst, 1))[0]!.event).toEqual({ type: "reset" });
    await fromFirst.return(undefined);
    const fromSecond = hub.stream(staff, got[1]!.id, undefined);
    expect((await take(fromSecond, 3)).map((m) => m.id)).toEqual(got.slice(2).map((m) => m.id));
    await fromSecond.return(undefined);
  });
});
