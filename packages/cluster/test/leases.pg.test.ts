import { afterEach, describe, expect, it, vi } from "vitest";
import type pg from "pg";
import { LEADER_LEASE, LeaseManager, fairShare, preferredOwners, type LeaseEvent, type LeaseTiming } from "../src/leases.js";
import { ReplicaDirectory } from "../src/replicas.js";
import { StartingAnnouncement } from "../src/announce.js";
import { openDatabase } from "@nimbus/db";
import { createTestTarget } from "@nimbus/db/testing";
import { freshDatabase, pool } from "./support/pg.js";
import { TcpProxy } from "./support/tcp-proxy.js";

/**
 * Leases on a real PostgreSQL (skipped without DATABASE_URL: scripts/test.sh runs this project
 * under with-postgres.sh). Timings are scaled down 10x so the suite takes seconds; the server-level
 * test runs the default 2 s / 6 s / 4 s.
 */
const FAST: LeaseTiming = { heartbeatMs: 300, leaseMs: 1_500, fenceMs: 1_000, aliveMs: 1_500, startingMs: 1_500, queryTimeoutMs: 400 };
const hosts = Array.from({ length: 12 }, (_, i) => `kvm${i + 1}`);

/** Every acquire and release of every manager, in the order they happened in this process. */
type Interval = { manager: string; host: string; from: number; to: number | null };

describe("host leases on PostgreSQL", () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function cluster(n: number, opts: { proxied?: boolean; timing?: Partial<LeaseTiming>; announce?: string[] } = {}) {
    const { url, target } = await freshDatabase();
    cleanups.push(() => target.remove());
    const intervals: Interval[] = [];
    const managers: { m: LeaseManager; pool: pg.Pool; proxy?: TcpProxy }[] = [];
    const add = async (id: string, proxied = opts.proxied) => {
      let proxy: TcpProxy | undefined;
      if (proxied) {
        proxy = new TcpProxy(new URL(url).hostname, Number(new URL(url).port));
        await proxy.start();
        cleanups.push(() => proxy!.stop());
      }
      const p = pool(proxy ? proxy.url(url) : url);
      const m = new LeaseManager({ db: p, self: { id, internalUrl: `http://127.0.0.1/${id}` }, hosts, timing: { ...FAST, ...opts.timing }, maxMoves: 2 });
      m.subscribe((e: LeaseEvent) => {
        if (e.type === "acquired") intervals.push({ manager: id, host: e.host, from: performance.now(), to: null });
        if (e.type === "released" || (e.type === "leader" && !e.leader)) {
          const host = e.type === "released" ? e.host : LEADER_LEASE;
          const open = intervals.find((i) => i.manager === id && i.host === host && i.to === null)!;
          open.to = performance.now();
        }
        if (e.type === "leader" && e.leader) intervals.push({ manager: id, host: LEADER_LEASE, from: performance.now(), to: null });
      });
      cleanups.push(async () => {
        await m.stop();
        await p.end().catch(() => undefined);
      });
      await m.start();
      managers.push({ m, pool: p, proxy });
      return managers.at(-1)!;
    };
    const admin = pool(url);
    // Said "starting" before anyone starts, as servers booting together do (announceReplica).
    for (const id of opts.announce ?? []) await new ReplicaDirectory(admin, { id, internalUrl: `http://127.0.0.1/${id}` }).announce();
    for (let i = 0; i < n; i++) await add(`r${i + 1}`);
    return { url, managers, add, intervals, admin };
  }

  /** No host is acted on by two managers at any instant (the intervals of one host never overlap). */
  function neverTwoOwners(intervals: Interval[]) {
    for (const host of [...hosts, LEADER_LEASE]) {
      const mine = intervals.filter((i) => i.host === host).sort((a, b) => a.from - b.from);
      for (let k = 1; k < mine.length; k++) {
        const prev = mine[k - 1]!;
        expect(prev.to, `${host}: ${prev.manager} still held it when ${mine[k]!.manager} took it`).not.toBeNull();
        expect(prev.to!).toBeLessThanOrEqual(mine[k]!.from);
      }
    }
  }

  const ownedCounts = (ms: { m: LeaseManager }[]) => ms.map(({ m }) => m.owned().size);

  it("two replicas share the hosts evenly, each host with exactly one owner in the table and in the views", async () => {
    const { managers, intervals, admin } = await cluster(2);
    cleanups.push(() => admin.end());
    await vi.waitFor(() => expect(ownedCounts(managers)).toEqual([6, 6]), { timeout: 10_000, interval: 50 });
    const { rows } = await admin.query<{ host: string; owner: string; live: boolean }>(`select host, owner, expires_at > now() as live from host_leases where host <> '@leader' order by host`);
    expect(rows).toHaveLength(hosts.length);
    for (const r of rows) {
      expect(r.live).toBe(true);
      expect(managers.find(({ m }) => m.id === r.owner)!.m.owns(r.host)).toBe(true);
      expect(managers.filter(({ m }) => m.owns(r.host))).toHaveLength(1);
    }
    // One leader, and the leader lease is not counted as a host.
    expect(managers.filter(({ m }) => m.isLeader())).toHaveLength(1);
    // Each sees the other's hosts (as of its next round).
    const theirs = rows.find((r) => r.owner === "r2")!.host;
    await vi.waitFor(() => expect(managers[0]!.m.ownerOf(theirs)).toBe("r2"), { timeout: 5_000, interval: 20 });
    neverTwoOwners(intervals);
  });

  it("a replica that stops renewing (its database route cut) lets go first; the others take over its hosts within 10 s, never two owners, even while another replica is starting", async () => {
    const { url, managers, intervals, admin } = await cluster(3, { proxied: true });
    cleanups.push(() => admin.end());
    await vi.waitFor(() => expect(ownedCounts(managers)).toEqual([4, 4, 4]), { timeout: 10_000, interval: 50 });
    // r4 says it is starting meanwhile: a dead owner's expired hosts still go to the alive replicas at once.
    const r4 = new StartingAnnouncement(url, { id: "r4", internalUrl: "http://127.0.0.1/r4" }, 100);
    cleanups.push(() => r4.stop());
    expect(await r4.ensure()).toBe(true);
    // The leader is the one cut off: leadership moves too.
    const victim = managers.find(({ m }) => m.isLeader())!;
    const others = managers.filter((x) => x !== victim);
    const itsHosts = [...victim.m.owned().keys()];
    const epochs = new Map(victim.m.owned());
    const cutAt = performance.now();
    victim.proxy!.cut();
    // Restored before anything is stopped, should an assertion below fail (a cut pool never ends).
    let restored = false;
    cleanups.push(() => restored || victim.proxy!.restore());
    // Its own view: empty within fenceMs + a round.
    await vi.waitFor(() => expect(victim.m.owned().size).toBe(0), { timeout: 5_000, interval: 20 });
    const fencedAfter = performance.now() - cutAt;
    expect(victim.m.healthy()).toBe(false);
    expect(others.every(({ m }) => m.healthy())).toBe(true);
    // The others: all of its hosts, split between them.
    await vi.waitFor(() => expect(itsHosts.every((h) => others.some(({ m }) => m.owns(h)))).toBe(true), { timeout: 10_000, interval: 20 });
    await vi.waitFor(() => expect(others.filter(({ m }) => m.isLeader())).toHaveLength(1), { timeout: 10_000, interval: 20 });
    expect(victim.m.isLeader()).toBe(false);
    const takenAfter = performance.now() - cutAt;
    console.log(`partitioned replica let go after ${Math.round(fencedAfter)} ms; its hosts re-owned after ${Math.round(takenAfter)} ms (lease ${FAST.leaseMs} ms)`);
    expect(fencedAfter).toBeLessThan(FAST.fenceMs + FAST.heartbeatMs + 200);
    expect(takenAfter).toBeLessThan(10_000);
    expect(ownedCounts(others).every((c) => c === 6)).toBe(true);
    neverTwoOwners(intervals);
    const peer = new ReplicaDirectory(admin, { id: "r1", internalUrl: "http://127.0.0.1/r1" }, FAST.aliveMs, FAST.startingMs);
    await peer.refresh();
    expect(peer.starting()).toEqual(["r4"]);
    await r4.stop();
    // Every take-over bumped the epoch.
    const { rows } = await admin.query<{ host: string; epoch: string }>(`select host, epoch from host_leases where host = any($1)`, [itsHosts]);
    for (const r of rows) expect(Number(r.epoch)).toBeGreaterThan(epochs.get(r.host)!);

    // Back on the network: it rejoins and gets hosts back, without anyone flapping.
    victim.proxy!.restore();
    restored = true;
    await vi.waitFor(() => expect(ownedCounts(managers)).toEqual([4, 4, 4]), { timeout: 15_000, interval: 50 });
    const moves = intervals.length;
    // Ten more rounds: nothing moves.
    const until = performance.now() + FAST.heartbeatMs * 10;
    await vi.waitFor(() => expect(performance.now()).toBeGreaterThan(until), { timeout: 5_000, interval: FAST.heartbeatMs });
    expect(intervals.length).toBe(moves);
    neverTwoOwners(intervals);
  });

  it("a joining replica gets its share at most maxMoves a round, and then nothing moves", async () => {
    const { managers, add, intervals } = await cluster(1);
    await vi.waitFor(() => expect(ownedCounts(managers)).toEqual([12]), { timeout: 10_000, interval: 50 });
    const before = intervals.length;
    await add("r2");
    await vi.waitFor(() => expect(ownedCounts(managers)).toEqual([6, 6]), { timeout: 15_000, interval: 20 });
    // 6 hosts moved (each: one release, one acquire), 2 per round: at least 3 rounds.
    const moved = intervals.slice(before);
    expect(moved.filter((i) => i.manager === "r2")).toHaveLength(6);
    const releases = moved.filter((i) => i.manager === "r1").length;
    expect(releases).toBe(0);
    const closes = intervals.filter((i) => i.manager === "r1" && i.to !== null).map((i) => i.to!).sort((a, b) => a - b);
    expect(closes).toHaveLength(6);
    // Released in pairs, a round apart.
    expect(closes[5]! - closes[0]!).toBeGreaterThan(FAST.heartbeatMs * 1.5);
    const settled = intervals.length;
    const until = performance.now() + FAST.heartbeatMs * 10;
    await vi.waitFor(() => expect(performance.now()).toBeGreaterThan(until), { timeout: 5_000, interval: FAST.heartbeatMs });
    expect(intervals.length).toBe(settled);
    expect(ownedCounts(managers)).toEqual([6, 6]);
    expect(fairShare(hosts.length, 2)).toBe(6);
    neverTwoOwners(intervals);
  });

  it("a replica takes the free hosts in its first round at once, not a heartbeat after its start", async () => {
    // Rounds 5 s apart: only a first round at start can take them within the wait below.
    const { managers, intervals, admin } = await cluster(1, { timing: { heartbeatMs: 5_000 } });
    cleanups.push(() => admin.end());
    await vi.waitFor(() => expect(ownedCounts(managers)).toEqual([12]), { timeout: 4_000, interval: 20 });
    expect(managers[0]!.m.stats().firstTakeMs).toBeLessThan(5_000);
    neverTwoOwners(intervals);
  });

  it("replicas announced as starting get the free hosts of their split left for them: each host taken once, none moved; one that never comes has its share taken once startingMs passed", async () => {
    // r2 and r3 say they are starting; r1 starts now, r2 later, r3 never.
    const { managers, add, intervals, admin } = await cluster(1, { announce: ["r2", "r3"], timing: { startingMs: 4_000 } });
    cleanups.push(() => admin.end());
    const r1 = managers[0]!.m;
    const three = preferredOwners(hosts, ["r1", "r2", "r3"]);
    const share = (id: string) => hosts.filter((h) => three.get(h) === id).sort();
    await vi.waitFor(() => expect([...r1.owned().keys()].sort()).toEqual(share("r1")), { timeout: 3_000, interval: 20 });
    // More rounds while r2 and r3 still start: r1 leaves their hosts free.
    const rounds = r1.stats().rounds;
    await vi.waitFor(() => expect(r1.stats().rounds).toBeGreaterThan(rounds + 2), { timeout: 3_000, interval: 20 });
    expect([...r1.owned().keys()].sort()).toEqual(share("r1"));
    const free = await admin.query<{ host: string }>(`select host from host_leases where host <> '@leader' and (owner is null or expires_at <= now()) order by host`);
    expect(free.rows.map((r) => r.host).sort()).toEqual([...share("r2"), ...share("r3")].sort());
    const r2 = (await add("r2")).m;
    await vi.waitFor(() => expect([...r2.owned().keys()].sort()).toEqual(share("r2")), { timeout: 3_000, interval: 20 });
    // r3 never beats: once its startingMs passed, r1 and r2 take its hosts, fair shares, nothing released.
    await vi.waitFor(() => expect(ownedCounts(managers)).toEqual([6, 6]), { timeout: 10_000, interval: 50 });
    expect(intervals.filter((i) => i.host !== LEADER_LEASE && i.to !== null)).toEqual([]);
    const { rows } = await admin.query<{ host: string; epoch: number }>(`select host, epoch::int as epoch from host_leases where host <> '@leader' and expires_at > now()`);
    expect(rows).toHaveLength(hosts.length);
    expect(rows.filter((r) => r.epoch !== 1)).toEqual([]);
    neverTwoOwners(intervals);
  });

  it("a server says it is starting from its first moment and again every heartbeat until its leases start; once it stops saying it, the claim lapses", async () => {
    const { url, target } = await freshDatabase();
    cleanups.push(() => target.remove());
    const admin = pool(url);
    cleanups.push(() => admin.end());
    const peer = new ReplicaDirectory(admin, { id: "r1", internalUrl: "http://127.0.0.1/r1" }, FAST.aliveMs, 600);
    const startedAt = async () => (await admin.query<{ at: string }>(`select started_at::text as at from cluster_replicas where id = 'r9'`)).rows[0]?.at;
    const a = new StartingAnnouncement(url, { id: "r9", internalUrl: "http://127.0.0.1/r9" }, 100);
    cleanups.push(() => a.stop());
    expect(await a.ensure()).toBe(true);
    expect((await peer.refresh()).map((r) => r.id)).toEqual([]);
    expect(peer.starting()).toEqual(["r9"]);
    const first = await startedAt();
    await vi.waitFor(async () => expect(await startedAt()).not.toBe(first), { timeout: 3_000, interval: 50 });
    await a.stop();
    const last = await startedAt();
    await vi.waitFor(async () => {
      await peer.refresh();
      expect(peer.starting()).toEqual([]);
    }, { timeout: 3_000, interval: 50 });
    expect(await startedAt()).toBe(last);
    // Nothing to reach: false, and stopping is quiet.
    const nowhere = new StartingAnnouncement("postgres://nobody:x@127.0.0.1:1/none", { id: "r8", internalUrl: "http://127.0.0.1/r8" });
    expect(await nowhere.ensure()).toBe(false);
    await nowhere.stop();
  });

  it("on a cluster's very first start (no tables yet) a booting server is announced right after another's migrations create them, not a heartbeat later, and the one that migrated waits for it", async () => {
    const target = await createTestTarget();
    cleanups.push(() => target.remove());
    const url = (target.options as { url: string }).url;
    // A heartbeat of a minute: only the retries after a miss can store it in time.
    const booting = new StartingAnnouncement(url, { id: "r2", internalUrl: "http://127.0.0.1/r2" }, 60_000, 50);
    cleanups.push(() => booting.stop());
    expect(await booting.ensure()).toBe(false);
    expect(booting.missedFirst).toBe(true);
    // Another server migrates the empty database (as its start does).
    const migrating = new StartingAnnouncement(url, { id: "r1", internalUrl: "http://127.0.0.1/r1" }, 60_000, 50);
    cleanups.push(() => migrating.stop());
    await (await openDatabase(target.options)).close();
    expect(await migrating.ensure()).toBe(true);
    await migrating.settleAfterMiss();
    const admin = pool(url);
    cleanups.push(() => admin.end());
    const peer = new ReplicaDirectory(admin, { id: "r1", internalUrl: "http://127.0.0.1/r1" }, FAST.aliveMs, 5_000);
    await peer.refresh();
    expect(peer.starting()).toContain("r2");
  });

  it("a clean stop hands the leases back at once: the other takes them without waiting for expiry", async () => {
    const { managers, intervals } = await cluster(2);
    await vi.waitFor(() => expect(ownedCounts(managers)).toEqual([6, 6]), { timeout: 10_000, interval: 50 });
    const t0 = performance.now();
    await managers[0]!.m.stop();
    await vi.waitFor(() => expect(managers[1]!.m.owned().size).toBe(12), { timeout: 5_000, interval: 20 });
    // Within a couple of rounds, well before a lease would have expired plus the alive window.
    expect(performance.now() - t0).toBeLessThan(FAST.leaseMs + FAST.aliveMs);
    neverTwoOwners(intervals);
  });
});
