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

export const REPLICA_TIMING = { heartbeatMs: 2_000, aliveMs: 6_000 } as const;

export class ReplicaDirectory {
  private aliveNow: ReplicaInfo[] = [];

  constructor(
    private readonly db: Queryable,
    readonly self: ReplicaInfo,
    private readonly aliveMs: number = REPLICA_TIMING.aliveMs,
  ) {}

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
    const { rows } = await this.db.query<{ id: string; internal_url: string }>(
      `select id, internal_url from cluster_replicas where heartbeat_at > now() - $1 * interval '1 millisecond' order by id`,
      [this.aliveMs],
    );
    this.aliveNow = rows.map((r) => ({ id: r.id, internalUrl: r.internal_url }));
    return this.aliveNow;
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
