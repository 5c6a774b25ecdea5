import pg from "pg";
import { REPLICA_TIMING, ReplicaDirectory, type ReplicaInfo } from "./replicas.js";
import { withTimeout } from "./sql.js";

/**
 * "Starting" in the cluster's table while a server boots (ReplicaDirectory.announce): said as soon
 * as the process starts (loading the server's modules alone takes seconds) and said again every
 * heartbeat until its leases start, so the alive replicas leave its share of the free hosts free
 * for it while it really boots; a boot that died stops saying it, and the claim lapses startingMs
 * after the last time. Replicas started together thereby take disjoint shares in their first lease
 * rounds, which run at once. Best effort: not reachable, or not migrated yet (the very first
 * start: `ensure()` again after the migrations), the first round takes what it finds free and a
 * replica that joins later gets its share by rebalancing. Only pg and this package's small
 * modules are loaded here (`@nimbus/cluster/announce`), so a server's entry can run it first.
 */
export class StartingAnnouncement {
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;
  private ok: Promise<boolean>;
  /**
   * The first attempt was not stored (on a cluster's very first start the table does not exist
   * until a replica's migrations create it). Misses are retried every `retryMs`, not only each
   * heartbeat, so a replica booting beside the one that migrates is announced within `retryMs` of
   * the table's creation; the one that migrated waits `retryMs` x 3 before its first lease round
   * (`settleAfterMiss`) so that it sees them.
   */
  missedFirst = false;

  constructor(
    readonly url: string,
    readonly self: ReplicaInfo,
    private readonly everyMs: number = REPLICA_TIMING.heartbeatMs,
    private readonly retryMs: number = 100,
  ) {
    this.ok = this.say().then((ok) => {
      this.missedFirst = !ok;
      return ok;
    });
    this.timer = setInterval(() => void this.say(), this.everyMs);
    this.timer.unref();
  }

  /** After a first miss: long enough for replicas booting beside this one to be announced (their retries). */
  async settleAfterMiss(): Promise<void> {
    if (!this.missedFirst || this.stopped) return;
    await new Promise((resolve) => setTimeout(resolve, this.retryMs * 3).unref());
  }

  /** Whether the last attempt was stored; tries once more when it was not. */
  async ensure(): Promise<boolean> {
    if (await this.ok) return true;
    this.ok = this.say();
    return this.ok;
  }

  /** No more refreshes (the leases start now: their first renew makes the replica alive). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.timer = null;
    this.retry = null;
    await this.ok.catch(() => undefined);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private async say(): Promise<boolean> {
    if (this.stopped) return false;
    try {
      if (!this.client) {
        const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 1_500 });
        c.on("error", () => {
          if (this.client === c) this.client = null;
        });
        await withTimeout(c.connect(), 3_000, "replica announce");
        if (this.stopped) {
          await c.end().catch(() => undefined);
          return false;
        }
        this.client = c;
      }
      await withTimeout(new ReplicaDirectory(this.client, this.self).announce(), 3_000, "replica announce");
      return true;
    } catch {
      const c = this.client;
      this.client = null;
      await c?.end().catch(() => undefined);
      // One retry pending at a time, each after the previous attempt ended (an unreachable database is not flooded).
      if (!this.stopped && !this.retry) {
        this.retry = setTimeout(() => {
          this.retry = null;
          void this.say();
        }, this.retryMs);
        this.retry.unref();
      }
      return false;
    }
  }
}
