import type { Queryable } from "./sql.js";

/**
 * The replicas of one cluster (table cluster_replicas): each one upserts its row every heartbeat;
 * one is alive while its heartbeat_at is within `aliveMs` of the DATABASE's now(). Local clocks
 * are never compared with each other.
 */
export interface ReplicaInfo {
  id: string;
  internalUrl: string;
}

export const REPLICA_TIMING = { heartbeatMs: 2_000, aliveMs: 6_000, startingMs: 10_000 } as const;

export class ReplicaDirectory {
  private aliveNow: ReplicaInfo[] = [];
  private startingNow: string[] = [];

  constructor(
    private readonly db: Queryable,
    readonly self: ReplicaInfo,
    private readonly aliveMs: number = REPLICA_TIMING.aliveMs,
    private readonly startingMs: number = REPLICA_TIMING.startingMs,
  ) {}

  /**
   * Says "starting" (early in the server's boot, before its leases start): started_at now and no
   * heartbeat since (a new row's heartbeat is -infinity; a restarted replica's is older than its
   * new start). Not alive: nobody releases hosts to it or counts it in a fair share. The alive
   * replicas only leave the free hosts the split gives it free for it, for at most `startingMs`,
   * so replicas booting together take disjoint shares in their first rounds without waiting.
   */
  async announce(): Promise<void> {
    await this.db.query(
      `insert into cluster_replicas (id, internal_url, started_at, heartbeat_at) values ($1, $2, now(), '-infinity')
       on conflict (id) do update set internal_url = excluded.internal_url, started_at = now()`,
      [this.self.id, this.self.internalUrl],
    );
  }

  /** Records that this replica is alive now (database time). */
  async heartbeat(): Promise<void> {
    await this.db.query(
      `insert into cluster_replicas (id, internal_url, started_at, heartbeat_at) values ($1, $2, now(), now())
       on conflict (id) do update set internal_url = excluded.internal_url, heartbeat_at = now()`,
      [this.self.id, this.self.internalUrl],
    );
  }

  /** The replicas alive now, this one included once it has beaten; cached for `alive()`/`url()`. */
  async refresh(): Promise<ReplicaInfo[]> {
    const { rows } = await this.db.query<{ id: string; internal_url: string; alive: boolean }>(
      `select id, internal_url, heartbeat_at > now() - $1 * interval '1 millisecond' as alive from cluster_replicas
        where heartbeat_at > now() - $1 * interval '1 millisecond'
           or (heartbeat_at < started_at and started_at > now() - $2 * interval '1 millisecond')
        order by id`,
      [this.aliveMs, this.startingMs],
    );
    this.aliveNow = rows.filter((r) => r.alive).map((r) => ({ id: r.id, internalUrl: r.internal_url }));
    this.startingNow = rows.filter((r) => !r.alive && r.id !== this.self.id).map((r) => r.id);
    return this.aliveNow;
  }

  /** Replicas announced as starting and not alive yet (this one never), as of the last refresh. */
  starting(): readonly string[] {
    return this.startingNow;
  }

  /** As of the last refresh. */
  alive(): readonly ReplicaInfo[] {
    return this.aliveNow;
  }

  url(id: string): string | undefined {
    return this.aliveNow.find((r) => r.id === id)?.internalUrl;
  }

  /** A clean stop: the others need not wait for the heartbeat to age. */
  async leave(): Promise<void> {
    await this.db.query(`delete from cluster_replicas where id = $1`, [this.self.id]);
  }
}
