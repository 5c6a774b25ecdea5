import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LeaseManager, fairShare, preferredOwners, type LeaseEvent, type LeaseStats } from "../src/leases.js";
import { ReplicaDirectory } from "../src/replicas.js";
import { freshDatabase, pool } from "./support/pg.js";

/**
 * Two replicas starting together on a fleet while one's event loop is busy (issue 16: a cold
 * start of 2 replicas on 2,000 hosts took 57 s; rounds and renewals starved under the SSH
 * handshakes). Default timing (2 s rounds, 6 s leases, fence at 4 s): the busy one must renew in
 * time, neither may fence or lose a host, and each ends with its fair share, every host taken once.
 */
const hosts = Array.from({ length: 400 }, (_, i) => `kvm${String(i + 1).padStart(4, "0")}`);

describe("two replicas starting together, one of them busy", () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("take disjoint fair shares in their first rounds: no fence, no flap, every host taken once", async () => {
    const { url, target } = await freshDatabase();
    cleanups.push(() => target.remove());
    const admin = pool(url);
    cleanups.push(() => admin.end());

    // r2: its own thread, its loop blocked 450 ms of every 500 (each answer waits up to that long).
    const busyEvents: LeaseEvent[] = [];
    const worker = new Worker(new URL("./support/busy-lease-worker.mjs", import.meta.url), {
      execArgv: [],
      workerData: { url, id: "r2", hosts, busyMs: 450, everyMs: 500 },
    });
    const messages: Record<string, unknown>[] = [];
    worker.on("message", (m: Record<string, unknown>) => {
      messages.push(m);
      if (m["event"]) busyEvents.push(m["event"] as LeaseEvent);
    });
    cleanups.push(() => worker.terminate());
    const next = (key: string) =>
      vi.waitFor(
        () => {
          const m = messages.find((x) => key in x);
          if (!m) throw new Error(`no ${key} from the busy replica yet`);
          messages.splice(messages.indexOf(m), 1);
          return m[key];
        },
        { timeout: 20_000, interval: 20 },
      );

    // r1: this thread, idle.
    const p1 = pool(url);
    const r1 = new LeaseManager({ db: p1, self: { id: "r1", internalUrl: "http://127.0.0.1/r1" }, hosts });
    const idleEvents: LeaseEvent[] = [];
    r1.subscribe((e) => idleEvents.push(e));
    cleanups.push(async () => {
      await r1.stop();
      await p1.end();
    });
    await next("loaded");
    // As the servers do early in their boot: both say they are starting.
    for (const id of ["r1", "r2"]) await new ReplicaDirectory(admin, { id, internalUrl: `http://127.0.0.1/${id}` }).announce();
    worker.postMessage({ type: "go" });
    await Promise.all([r1.start(), next("started")]);

    const share = fairShare(hosts.length, 2);
    const acquired = (events: LeaseEvent[]) => events.filter((e) => e.type === "acquired").length;
    await vi.waitFor(() => expect([r1.owned().size, acquired(busyEvents)]).toEqual([share, share]), { timeout: 15_000, interval: 50 });
    worker.postMessage({ type: "stats" });
    const busyBefore = (await next("stats")) as LeaseStats;
    // Two more rounds and four more renewals under load (longer than the 4 s fence): nothing moves, nothing fences.
    await new Promise((r) => setTimeout(r, 4_500));

    worker.postMessage({ type: "stats" });
    const busy = (await next("stats")) as LeaseStats & { owned: number };
    const idle = r1.stats();
    const releases = [...idleEvents, ...busyEvents].filter((e) => e.type === "released");
    expect(releases, "no host was let go during the start").toEqual([]);
    expect([idle.fences, busy.fences]).toEqual([0, 0]);
    expect([idle.owned, busy.owned]).toEqual([share, share]);
    // The busy replica's renewals kept coming well inside the fence (4 s) although its rounds crawled.
    expect(busy.maxRenewGapMs).toBeLessThan(3_000);
    expect(busy.renews - busyBefore.renews).toBeGreaterThanOrEqual(4);

    // The table agrees: every host owned, each taken exactly once (epoch 1), split as the hash says.
    const { rows } = await admin.query<{ host: string; owner: string; epoch: number }>(`select host, owner, epoch::int as epoch from host_leases where host <> '@leader' and expires_at > now()`);
    expect(rows).toHaveLength(hosts.length);
    expect(rows.filter((r) => r.epoch !== 1)).toEqual([]);
    const split = preferredOwners(hosts, ["r1", "r2"]);
    expect(rows.filter((r) => split.get(r.host) !== r.owner)).toEqual([]);

    worker.postMessage({ type: "stop" });
    await next("stopped");
  }, 30_000);
});
