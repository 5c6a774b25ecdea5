import { emptyInventory, type HostRecord } from "@nimbus/domain";
import type { Fleet, FleetEvent, HostConfig } from "@nimbus/fleet";
import { describe, expect, it, vi } from "vitest";
import type { BusMessage, ClusterBus } from "../src/bus.js";
import { ClusterFleet } from "../src/cluster-fleet.js";
import { InternalRpc } from "../src/internal-http.js";
import type { LeaseEvent, LeaseManager } from "../src/leases.js";

/** ClusterFleet against in-memory stand-ins for the bus, the leases and the local fleet. */
const configs: HostConfig[] = ["kvm1", "kvm2", "kvm3"].map((name, i) => ({ name, address: `10.0.0.${i + 1}`, port: 22, user: "nimbus" }));

function record(name: string, patch: Partial<HostRecord> = {}, virt: unknown = null): HostRecord {
  return {
    name,
    address: "10.0.0.9",
    port: 22,
    maintenance: false,
    connection: { state: "online", since: "2026-01-01T00:00:00.000Z", lastSeen: null, message: null, agentVersion: "1", capabilities: [], pinnedKey: null, offeredKey: null, nextRetryAt: null },
    inventory: { ...emptyInventory(), virt: virt as HostRecord["inventory"]["virt"] },
    ...patch,
  };
}

function setup(opts: { maintenance?: (h: string) => Promise<boolean> } = {}) {
  const published: { kind: string; payload: unknown }[] = [];
  const busListeners = new Set<(m: BusMessage) => void>();
  const bus = {
    publish: async (kind: string, payload: unknown) => void published.push({ kind, payload: JSON.parse(JSON.stringify(payload)) }),
    subscribe: (l: (m: BusMessage) => void) => (busListeners.add(l), () => busListeners.delete(l)),
    onResync: () => () => undefined,
  } as unknown as ClusterBus;
  const deliver = (kind: string, payload: unknown, from = "r2") => {
    for (const l of busListeners) l({ kind, from, payload });
  };

  const owned = new Map<string, number>();
  const health = { ok: true };
  const leaseListeners = new Set<(e: LeaseEvent) => void>();
  const leases = {
    owned: () => owned,
    owns: (h: string) => owned.has(h),
    healthy: () => health.ok,
    ownerOf: (h: string) => (owned.has(h) ? "r1" : "r2"),
    waitForOwner: async (h: string) => (owned.has(h) ? "r1" : "r2"),
    directory: { url: () => "http://127.0.0.1:1" },
    subscribe: (l: (e: LeaseEvent) => void) => (leaseListeners.add(l), () => leaseListeners.delete(l)),
  } as unknown as LeaseManager;
  const take = (host: string, epoch: number) => {
    owned.set(host, epoch);
    for (const l of leaseListeners) l({ type: "acquired", host, epoch });
  };
  const lose = (host: string) => {
    owned.delete(host);
    for (const l of leaseListeners) l({ type: "released", host, reason: "rebalanced" });
  };

  const localRecords = new Map<string, HostRecord>();
  const localListeners = new Set<(e: FleetEvent) => void>();
  const added: { host: string; maintenance: boolean | undefined }[] = [];
  const removed: string[] = [];
  const local = {
    start: async () => undefined,
    host: (h: string) => localRecords.get(h),
    hosts: () => [...localRecords.values()],
    addHost: (c: HostConfig, initial: { maintenance?: boolean }) => {
      added.push({ host: c.name, maintenance: initial.maintenance });
      localRecords.set(c.name, record(c.name, { maintenance: initial.maintenance ?? false, connection: { ...record(c.name).connection, state: "connecting" } }));
    },
    removeHost: (h: string) => {
      removed.push(h);
      localRecords.delete(h);
    },
    subscribe: (l: (e: FleetEvent) => void) => (localListeners.add(l), () => localListeners.delete(l)),
    request: vi.fn(async () => ({ ok: true })),
    setMaintenance: vi.fn(),
  } as unknown as Fleet;
  const localEmit = (e: FleetEvent) => {
    if (e.type === "host") localRecords.set(e.host.name, e.host);
    for (const l of localListeners) l(e);
  };

  const rpc = new InternalRpc({ secret: "s".repeat(40) });
  const fleet = new ClusterFleet({ replicaId: "r1", hosts: configs, local, leases, bus, rpc, maintenance: opts.maintenance });
  const events: FleetEvent[] = [];
  fleet.subscribe((e) => events.push(e));
  return { fleet, rpc, health, published, deliver, take, lose, localEmit, added, removed, events, local, flush: () => new Promise((r) => setTimeout(r, 0)) };
}

const hostMessage = (name: string, epoch: number, rec: HostRecord, changed: string[], full: boolean) => {
  const { inventory, ...base } = rec;
  const sections = full ? inventory : Object.fromEntries(changed.filter((c) => c in inventory).map((c) => [c, (inventory as Record<string, unknown>)[c]]));
  return { host: name, epoch, base, sections, changed, full };
};

describe("ClusterFleet", () => {
  it("hosts() is kept in step with host() through every kind of change (remote copies, takes, local changes, releases, maintenance)", async () => {
    const t = setup();
    const same = () => expect(t.fleet.hosts()).toEqual(configs.map((c) => t.fleet.host(c.name)));
    await t.fleet.start();
    same();
    t.deliver("hosts", { hosts: [hostMessage("kvm2", 3, record("kvm2", {}, { domains: [] }), ["connection"], true), hostMessage("kvm3", 1, record("kvm3"), ["connection"], true)] });
    same();
    expect(t.fleet.hosts().map((h) => h.connection.state)).toEqual(["connecting", "online", "online"]);
    t.deliver("host", hostMessage("kvm2", 3, record("kvm2", {}, { domains: ["x"] }), ["virt"], false));
    same();
    // Taken over (a higher epoch, then ours): the local record.
    t.take("kvm3", 2);
    await t.flush();
    same();
    t.localEmit({ type: "host", host: record("kvm3", {}, { v: "local" }), changed: ["virt"] });
    same();
    expect(t.fleet.hosts()[2]!.inventory.virt).toEqual({ v: "local" });
    // Handed back: the last record, saying it is being handed over.
    t.lose("kvm3");
    same();
    expect(t.fleet.hosts()[2]!.connection.state).toBe("connecting");
    // A new owner's copy over it.
    t.deliver("hosts", { hosts: [hostMessage("kvm3", 5, record("kvm3"), ["connection"], true)] });
    same();
    expect(t.fleet.hosts()[2]!.connection.state).toBe("online");
    // What one gets is a copy: a caller keeping it sees no later change in it.
    const before = t.fleet.hosts();
    t.deliver("host", hostMessage("kvm2", 3, record("kvm2", { connection: { ...record("kvm2").connection, state: "unreachable" } }), ["connection"], false));
    same();
    expect(before[1]!.connection.state).toBe("online");
  });

  it("lists every configured host: a placeholder until its owner reports, then the owner's copy", async () => {
    const t = setup();
    await t.fleet.start();
    expect(t.fleet.hosts().map((h) => [h.name, h.connection.state])).toEqual([["kvm1", "connecting"], ["kvm2", "connecting"], ["kvm3", "connecting"]]);
    expect(t.fleet.host("kvm1")!.address).toBe("10.0.0.1");
    // Made once per host, not at every call (/healthz and the topology's check list the fleet often).
    expect(t.fleet.host("kvm1")).toBe(t.fleet.hosts()[0]);
    expect(t.fleet.host("nope")).toBeUndefined();
    // It asked the others for their records at start.
    await t.flush();
    expect(t.published.map((p) => p.kind)).toEqual(["snapshot-request"]);
    t.deliver("hosts", { hosts: [hostMessage("kvm2", 3, record("kvm2", {}, { domains: [] }), ["connection"], true)] });
    expect(t.fleet.host("kvm2")!.connection.state).toBe("online");
    expect(t.events.at(-1)).toMatchObject({ type: "host", host: { name: "kvm2" } });
  });

  it("applies changes under the current epoch, drops a deposed owner's late ones, asks for a snapshot when it lacks the base", async () => {
    const t = setup();
    await t.fleet.start();
    t.deliver("host", hostMessage("kvm2", 5, record("kvm2", {}, { v: "new owner" }), ["virt"], true));
    // Epoch 4 is the previous owner: too late, dropped.
    t.deliver("host", hostMessage("kvm2", 4, record("kvm2", {}, { v: "old owner" }), ["virt"], false), "r3");
    expect(t.fleet.host("kvm2")!.inventory.virt).toEqual({ v: "new owner" });
    // A partial change under the same epoch merges.
    t.deliver("host", hostMessage("kvm2", 5, record("kvm2", { maintenance: true }, { v: "changed" }), ["virt", "maintenance"], false));
    expect(t.fleet.host("kvm2")!.inventory.virt).toEqual({ v: "changed" });
    expect(t.fleet.host("kvm2")!.maintenance).toBe(true);
    // A partial change for a host never seen: no half record, a snapshot request for that host.
    const before = t.events.length;
    t.deliver("host", hostMessage("kvm3", 2, record("kvm3", {}, { v: 1 }), ["virt"], false));
    await t.flush();
    expect(t.fleet.host("kvm3")!.connection.state).toBe("connecting");
    expect(t.events.length).toBe(before);
    // Asked a few milliseconds later, together with any other host missing by then (one request for a burst).
    await vi.waitFor(() => expect(t.published.at(-1)).toEqual({ kind: "snapshot-request", payload: { hosts: ["kvm3"] } }), { timeout: 1_000, interval: 5 });
    // Hosts not in the configuration are ignored.
    t.deliver("host", hostMessage("evil", 9, record("evil"), ["connection"], true));
    expect(t.fleet.host("evil")).toBeUndefined();
  });

  it("re-emits a remote host's job and console events, not its counters, and never one for a host it owns", async () => {
    const t = setup();
    await t.fleet.start();
    t.take("kvm1", 1);
    await t.flush();
    const n = t.events.length;
    t.deliver("event", { type: "job", host: "kvm2", job: { id: "op1" } });
    t.deliver("event", { type: "console-output", host: "kvm2", session: "s", data: "aGk=" });
    t.deliver("event", { type: "stats", host: "kvm2", at: 1, counters: {} });
    t.deliver("event", { type: "job", host: "kvm1", job: { id: "stale" } });
    t.deliver("event", { type: "job", host: "nope", job: { id: "x" } });
    expect(t.events.slice(n).map((e) => [e.type, (e as { host: string }).host])).toEqual([
      ["job", "kvm2"],
      ["console-output", "kvm2"],
    ]);
  });

  it("publishes its own hosts' changes with their epoch (changed sections only) and their jobs, not their counters", async () => {
    const t = setup();
    await t.fleet.start();
    t.take("kvm1", 7);
    await t.flush();
    t.published.length = 0;
    // The first message under an epoch is the whole record: nobody has to ask for it.
    t.localEmit({ type: "host", host: record("kvm1", {}, { v: 0 }), changed: ["connection"] });
    await vi.waitFor(() => expect(t.published.map((p) => p.kind)).toEqual(["hosts"]), { timeout: 1_000, interval: 5 });
    expect(t.published[0]).toMatchObject({ payload: { hosts: [{ host: "kvm1", epoch: 7, full: true, sections: { virt: { v: 0 } } }] } });
    t.published.length = 0;
    // Two changes close together: one message, the latest record, both changed parts.
    t.localEmit({ type: "host", host: record("kvm1", {}, { v: 1 }), changed: ["virt"] });
    t.localEmit({ type: "host", host: record("kvm1", { maintenance: true }, { v: 2 }), changed: ["maintenance"] });
    // A job event sends the host's changes first, then itself.
    t.localEmit({ type: "job", host: "kvm1", job: { id: "op" } as never });
    t.localEmit({ type: "stats", host: "kvm1", at: 1, counters: {} as never });
    await vi.waitFor(() => expect(t.published.map((p) => p.kind)).toEqual(["hosts", "event"]));
    const [sent] = (t.published[0]!.payload as { hosts: { sections: object; base: { maintenance: boolean } }[] }).hosts;
    expect(sent).toMatchObject({ host: "kvm1", epoch: 7, full: false, changed: ["virt", "maintenance"], sections: { virt: { v: 2 } }, base: { maintenance: true } });
    expect(Object.keys(sent!.sections)).toEqual(["virt"]);
    // Alone, a change goes out after a few milliseconds all the same.
    t.published.length = 0;
    t.localEmit({ type: "host", host: record("kvm1", {}, { v: 3 }), changed: ["virt"] });
    await vi.waitFor(() => expect(t.published.map((p) => p.kind)).toEqual(["hosts"]), { timeout: 1_000, interval: 5 });
    // Asked for a snapshot: every owned host, in full.
    t.published.length = 0;
    t.deliver("snapshot-request", {});
    await t.flush();
    expect(t.published).toHaveLength(1);
    expect(t.published[0]).toMatchObject({ kind: "hosts", payload: { hosts: [{ host: "kvm1", epoch: 7, full: true }] } });
  });

  it("a lease taken adds the host with its persisted maintenance flag; a lease lost closes it and keeps the last record", async () => {
    const t = setup({ maintenance: async (h) => h === "kvm3" });
    await t.fleet.start();
    t.take("kvm3", 2);
    await t.flush();
    expect(t.added).toEqual([{ host: "kvm3", maintenance: true }]);
    t.localEmit({ type: "host", host: record("kvm3", { maintenance: true }, { v: "mine" }), changed: ["virt"] });
    t.lose("kvm3");
    expect(t.removed).toEqual(["kvm3"]);
    // The last inventory stays; the connection says nobody here watches it any more.
    expect(t.fleet.host("kvm3")!.inventory.virt).toEqual({ v: "mine" });
    expect(t.fleet.host("kvm3")!.connection).toMatchObject({ state: "connecting", message: "being handed over to another server replica" });
    expect(t.events.at(-1)).toMatchObject({ type: "host", host: { name: "kvm3" }, changed: ["connection"] });
    // The next owner (epoch 3) replaces it; a late message from the owner before us (epoch 1) does not.
    t.deliver("host", hostMessage("kvm3", 1, record("kvm3", {}, { v: "stale" }), ["virt"], true), "r9");
    expect(t.fleet.host("kvm3")!.inventory.virt).toEqual({ v: "mine" });
    t.deliver("host", hostMessage("kvm3", 3, record("kvm3", {}, { v: "next owner" }), ["virt"], true));
    expect(t.fleet.host("kvm3")!.inventory.virt).toEqual({ v: "next owner" });
  });

  it("answers agent calls for its own hosts locally and refuses (moved) a relayed one for a host it does not hold", async () => {
    const t = setup();
    await t.fleet.start();
    t.take("kvm1", 1);
    await t.flush();
    t.localEmit({ type: "host", host: record("kvm1"), changed: ["connection"] });
    await expect(t.fleet.request("kvm1", "virt.snapshotList" as never, { domain: "d" } as never)).resolves.toEqual({ ok: true });
    // Leases not renewed lately (by the clock): nothing goes to the host, even before the fence fires.
    t.health.ok = false;
    await expect(t.fleet.request("kvm1", "virt.snapshotList" as never, { domain: "d" } as never)).rejects.toMatchObject({ code: "HOST_UNREACHABLE" });
    t.health.ok = true;
    await expect(t.fleet.request("nope", "virt.snapshotList" as never, {} as never)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("a maintenance flag for a host owned elsewhere waits for the owner: its answer, its error, or a clear error when it is gone, and nothing half-set", async () => {
    const t = setup();
    await t.fleet.start();
    t.deliver("host", hostMessage("kvm2", 1, record("kvm2"), ["connection"], true));
    // The owner is gone (nothing listens at its address) and no other takes the host: a clear error, no flag anywhere.
    await expect(t.fleet.setMaintenance("kvm2", true)).rejects.toMatchObject({ code: "HOST_UNREACHABLE" });
    expect(t.local.setMaintenance).not.toHaveBeenCalled();
    expect(t.fleet.host("kvm2")?.maintenance).toBe(false);
    expect(t.events.filter((e) => e.type === "host" && e.changed.includes("maintenance"))).toEqual([]);

    // The owner refuses (its own error reaches the caller), then sets it: answered, and shown here at once.
    const call = vi.spyOn(t.rpc, "call").mockRejectedValueOnce(Object.assign(new Error("kvm2 is being evacuated"), { code: "CONFLICT" })).mockResolvedValueOnce(null);
    await expect(t.fleet.setMaintenance("kvm2", true)).rejects.toThrow("kvm2 is being evacuated");
    expect(t.fleet.host("kvm2")?.maintenance).toBe(false);
    await t.fleet.setMaintenance("kvm2", true);
    expect(call.mock.calls.map((c) => [c[1], c[2]])).toEqual([
      ["fleet.setMaintenance", { host: "kvm2", on: true }],
      ["fleet.setMaintenance", { host: "kvm2", on: true }],
    ]);
    expect(t.fleet.host("kvm2")?.maintenance).toBe(true);
    expect(t.local.setMaintenance).not.toHaveBeenCalled();

    // Its own host: set here; an unknown host: refused.
    t.take("kvm1", 1);
    await t.flush();
    t.localEmit({ type: "host", host: record("kvm1"), changed: ["connection"] });
    await t.fleet.setMaintenance("kvm1", true);
    expect(t.local.setMaintenance).toHaveBeenCalledWith("kvm1", true);
    await expect(t.fleet.setMaintenance("nope", true)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("a host taken while no replica had it online is published once it answered, not while connecting; one taken from an owner that had it online, at once", async () => {
    const t = setup();
    await t.fleet.start();
    t.published.splice(0);
    const connecting = (name: string, patch: Partial<HostRecord> = {}) => record(name, { ...patch, connection: { ...record(name).connection, state: "connecting" } });
    const got: string[] = [];
    // What went out, gathered until `want` did (a connect's changes gather for up to 100 ms): nothing else went with or before it.
    const sent = async (...want: string[]) => {
      await vi.waitFor(
        () => {
          got.push(...t.published.splice(0).flatMap((p) => (p.kind === "hosts" ? (p.payload as { hosts: { host: string; base: HostRecord }[] }).hosts : [])).map((h) => `${h.host}:${h.base.connection.state}`));
          expect(got.length).toBeGreaterThanOrEqual(want.length);
        },
        { timeout: 2_000, interval: 5 },
      );
      return got.splice(0);
    };
    // A fleet's start: nobody reported kvm1 yet (the others show it not reported): its connecting is not news.
    t.take("kvm1", 1);
    await t.flush();
    t.localEmit({ type: "host", host: connecting("kvm1"), changed: ["connection"] });
    // A maintenance flag set meanwhile is news, connecting or not (and the only thing that went out).
    t.take("kvm2", 1);
    await t.flush();
    t.localEmit({ type: "host", host: connecting("kvm2", { maintenance: true }), changed: ["maintenance"] });
    expect(await sent("kvm2:connecting")).toEqual(["kvm2:connecting"]);
    // A replica starting meanwhile asks for every owned record: the one still connecting is not among them.
    t.deliver("snapshot-request", {});
    expect(await sent("kvm2:connecting")).toEqual(["kvm2:connecting"]);
    t.localEmit({ type: "host", host: record("kvm1"), changed: ["connection", "virt"] });
    expect(await sent("kvm1:online")).toEqual(["kvm1:online"]);
    // Published once: going back to connecting (a reconnect) is news.
    t.localEmit({ type: "host", host: connecting("kvm1"), changed: ["connection"] });
    expect(await sent("kvm1:connecting")).toEqual(["kvm1:connecting"]);
    // Taken over from an owner that had it online (killed): the others still show it online, so its connecting goes out.
    t.deliver("hosts", { hosts: [hostMessage("kvm3", 1, record("kvm3"), ["connection"], true)] });
    t.take("kvm3", 2);
    await t.flush();
    t.localEmit({ type: "host", host: connecting("kvm3"), changed: ["connection"] });
    expect(await sent("kvm3:connecting")).toEqual(["kvm3:connecting"]);
    t.fleet.stop();
  });
});
