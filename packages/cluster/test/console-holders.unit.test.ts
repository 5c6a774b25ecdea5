import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { emptyInventory, type HostRecord } from "@nimbus/domain";
import type { Fleet, FleetEvent, HostConfig } from "@nimbus/fleet";
import { afterEach, describe, expect, it } from "vitest";
import type { ClusterBus } from "../src/bus.js";
import { ClusterFleet } from "../src/cluster-fleet.js";
import { ConsoleHolders } from "../src/console-holders.js";
import { InternalRpc } from "../src/internal-http.js";
import type { LeaseEvent, LeaseManager } from "../src/leases.js";

/**
 * A console a peer replica opened through this one (the host's owner) is closed on the agent once
 * that peer's heartbeat is gone, not when the SSH link ends; what it holds is bounded and forgotten
 * with the session or the host.
 */
describe("ConsoleHolders", () => {
  it("orphans are the sessions of holders not alive, each handed out once; closed sessions and gone hosts are forgotten", () => {
    const h = new ConsoleHolders(3);
    h.opened("kvm1", "s1", "r2");
    h.opened("kvm1", "s2", "r3");
    h.opened("kvm2", "s3", "r2");
    // Nothing known about the replicas (the directory could not be read): nothing is closed.
    expect(h.orphans(new Set())).toEqual([]);
    expect(h.orphans(new Set(["r1", "r2", "r3"]))).toEqual([]);
    h.closed("s3");
    expect(h.orphans(new Set(["r1", "r3"]))).toEqual([{ host: "kvm1", session: "s1", holder: "r2" }]);
    expect(h.orphans(new Set(["r1", "r3"]))).toEqual([]);
    h.hostGone("kvm1");
    expect(h.size).toBe(0);
    // Bounded: the oldest goes first.
    for (const s of ["a", "b", "c", "d"]) h.opened("kvm1", s, "r2");
    expect(h.size).toBe(3);
    expect(h.orphans(new Set(["r1"])).map((o) => o.session)).toEqual(["b", "c", "d"]);
  });
});

describe("ConsoleHolders and a holder restarted under the same id", () => {
  it("a new boot of a holder hands out its earlier boots' sessions once; a boot heard of before (a straggler) and other holders keep theirs", () => {
    const h = new ConsoleHolders();
    expect(h.restarted("r2", "r2@00000001")).toEqual([]);
    h.opened("kvm1", "s1", "r2", "r2@00000001");
    h.opened("kvm2", "s2", "r2", "r2@00000001");
    h.opened("kvm1", "s3", "r3", "r3@00000001");
    // Noted without a boot (a caller that sends none): never taken for an earlier boot.
    h.opened("kvm1", "s4", "r2");
    expect(h.restarted("r2", "r2@00000001")).toEqual([]);
    expect(h.restarted("r3", "r3@00000001")).toEqual([]);
    h.opened("kvm1", "s5", "r2", "r2@00000002");
    expect(h.restarted("r2", "r2@00000002")).toEqual([
      { host: "kvm1", session: "s1", holder: "r2" },
      { host: "kvm2", session: "s2", holder: "r2" },
    ]);
    // A late message of the first boot is no restart: the new boot's console stays.
    expect(h.restarted("r2", "r2@00000001")).toEqual([]);
    expect(h.restarted("r2", "r2@00000002")).toEqual([]);
    expect(h.size).toBe(3);
    expect(h.orphans(new Set(["r1"])).map((o) => o.session).sort()).toEqual(["s3", "s4", "s5"]);
  });
});

/**
 * r1, owner of kvm1, serving fleet.request over a real loopback listener: the agent calls it makes
 * (`calls`), its lease rounds (`round`) and the bus messages it hears (`heard`) are the test's.
 */
async function ownerOfKvm1(alive: () => string[], servers: Server[]) {
  const rec: HostRecord = {
    name: "kvm1", address: "10.0.0.1", port: 22, maintenance: false,
    connection: { state: "online", since: "2026-01-01T00:00:00.000Z", lastSeen: null, message: null, agentVersion: "1", capabilities: [], pinnedKey: null, offeredKey: null, nextRetryAt: null },
    inventory: emptyInventory(),
  };
  const calls: [string, unknown][] = [];
  let n = 0;
  const local = {
    start: async () => undefined,
    host: (h: string) => (h === "kvm1" ? rec : undefined),
    hosts: () => [rec],
    subscribe: () => () => undefined,
    request: async (_host: string, method: string, params: unknown) => (calls.push([method, params]), method === "console.open" ? { session: `s${++n}` } : { ok: true }),
  } as unknown as Fleet;
  const leaseListeners = new Set<(e: LeaseEvent) => void>();
  const leases = {
    owned: () => new Map([["kvm1", 1]]),
    owns: (h: string) => h === "kvm1",
    healthy: () => true,
    ownerOf: () => "r1",
    directory: { alive: () => alive().map((id) => ({ id, internalUrl: `http://${id}` })), url: () => undefined },
    subscribe: (l: (e: LeaseEvent) => void) => (leaseListeners.add(l), () => leaseListeners.delete(l)),
  } as unknown as LeaseManager;
  const busListeners = new Set<(m: { kind: string; from: string; payload: unknown; origin?: string; n?: number }) => void>();
  const bus = { origin: "r1@0000000a", publish: async () => undefined, subscribe: (l: never) => (busListeners.add(l), () => busListeners.delete(l)), onResync: () => () => undefined } as unknown as ClusterBus;
  const rpc = new InternalRpc({ secret: "s".repeat(40) });
  const configs: HostConfig[] = [{ name: "kvm1", address: "10.0.0.1", port: 22, user: "nimbus" }];
  const fleet = new ClusterFleet({ replicaId: "r1", hosts: configs, local, leases, bus, rpc });
  await fleet.start();
  const server = createServer((req, res) => void rpc.handle(req, res));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    fleet,
    calls,
    round: () => leaseListeners.forEach((l) => l({ type: "owners" })),
    heard: (from: string, origin: string) => busListeners.forEach((l) => l({ kind: "snapshot-request", from, payload: {}, origin, n: 1 })),
    open: (domain: string, from: string, boot?: string) => rpc.call(url, "fleet.request", { host: "kvm1", method: "console.open", params: { domain, cols: 80, rows: 24 }, from, boot }),
    close: (session: string, from: string) => rpc.call(url, "fleet.request", { host: "kvm1", method: "console.close", params: { session }, from }),
  };
}

describe("ClusterFleet closes the consoles of a holder that died", () => {
  const servers: Server[] = [];
  afterEach(() => Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r())))));

  it("a console opened through fleet.request by r2 is closed on the agent after the first lease round that finds r2 dead; one r2 closed itself is not", async () => {
    let alive = ["r1", "r2"];
    const { fleet, calls, round, open, close } = await ownerOfKvm1(() => alive, servers);
    await open("web1", "r2");
    await open("web2", "r2");
    // r2 closes its second console itself; the agent ends neither otherwise.
    await close("s2", "r2");
    calls.length = 0;
    round();
    expect(calls).toEqual([]);
    alive = ["r1"];
    round();
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toEqual([["console.close", { session: "s1" }]]);
    round();
    expect(calls).toHaveLength(1);
    fleet.stop();
  });
});

describe("ClusterFleet closes the consoles of a holder restarted under the same id", () => {
  const servers: Server[] = [];
  afterEach(() => Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r())))));

  it("r2's console is closed on the agent as soon as a later boot of r2 speaks on the bus, though r2 stays alive; the later boot's console and a straggler of the earlier boot change nothing", async () => {
    // r2 never stops being alive: its restart took less than a heartbeat window.
    const { fleet, calls, round, heard, open } = await ownerOfKvm1(() => ["r1", "r2"], servers);
    const settle = () => new Promise((r) => setTimeout(r, 0));
    heard("r2", "r2@00000001");
    await open("web1", "r2", "r2@00000001");
    calls.length = 0;
    round();
    heard("r2", "r2@00000001");
    await settle();
    expect(calls).toEqual([]);
    // r2 restarted: its first bus message (the new boot's snapshot request) closes the old console.
    heard("r2", "r2@00000002");
    await settle();
    expect(calls).toEqual([["console.close", { session: "s1" }]]);
    await open("web1", "r2", "r2@00000002");
    calls.length = 0;
    heard("r2", "r2@00000001");
    heard("r2", "r2@00000002");
    await settle();
    expect(calls).toEqual([]);
    // A relayed call from yet another boot, before any bus message of it: the old console goes first.
    await open("web2", "r2", "r2@00000003");
    expect(calls).toEqual([["console.close", { session: "s2" }], ["console.open", { domain: "web2", cols: 80, rows: 24 }]]);
    fleet.stop();
  });
});

describe("ClusterFleet tells its subscribers when a host changed owner", () => {
  it("a higher epoch over an online copy is announced as connecting first (the old owner's sessions ended), even when the new owner's first word is online; same epoch or older: nothing extra", async () => {
    const rec = (state: string): HostRecord => ({
      name: "kvm1", address: "10.0.0.1", port: 22, maintenance: false,
      connection: { state, since: "2026-01-01T00:00:00.000Z", lastSeen: null, message: null, agentVersion: "1", capabilities: [], pinnedKey: null, offeredKey: null, nextRetryAt: null },
      inventory: emptyInventory(),
    } as HostRecord);
    const message = (epoch: number, state: string) => {
      const { inventory, ...base } = rec(state);
      return { host: "kvm1", epoch, base, sections: inventory, changed: ["connection"], full: true };
    };
    const busListeners = new Set<(m: { kind: string; from: string; payload: unknown }) => void>();
    const bus = { publish: async () => undefined, subscribe: (l: never) => (busListeners.add(l), () => busListeners.delete(l)), onResync: () => () => undefined } as unknown as ClusterBus;
    const leases = { owned: () => new Map(), owns: () => false, healthy: () => true, directory: { alive: () => [], url: () => undefined }, subscribe: () => () => undefined } as unknown as LeaseManager;
    const local = { start: async () => undefined, host: () => undefined, hosts: () => [], subscribe: () => () => undefined } as unknown as Fleet;
    const fleet = new ClusterFleet({ replicaId: "r1", hosts: [{ name: "kvm1", address: "10.0.0.1", port: 22, user: "nimbus" }], local, leases, bus, rpc: new InternalRpc({ secret: "s".repeat(40) }) });
    await fleet.start();
    const states: string[] = [];
    fleet.subscribe((e) => e.type === "host" && states.push(e.host.connection.state));
    const deliver = (epoch: number, state: string) => busListeners.forEach((l) => l({ kind: "hosts", from: "r2", payload: { hosts: [message(epoch, state)] } }));
    deliver(1, "online");
    deliver(1, "online");
    expect(states).toEqual(["online", "online"]);
    deliver(2, "online");
    expect(states).toEqual(["online", "online", "connecting", "online"]);
    deliver(1, "online");
    deliver(3, "connecting");
    deliver(4, "online");
    expect(states).toEqual(["online", "online", "connecting", "online", "connecting", "online"]);
    fleet.stop();
  });
});
