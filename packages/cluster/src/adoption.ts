import type { Operation } from "@nimbus/domain";
import type { OperationManager, OperationStore } from "@nimbus/fleet";
import { pino, type Logger } from "pino";
import type { LeaseEvent, LeaseManager } from "./leases.js";
import { REPLICA_TIMING } from "./replicas.js";
import type { Queryable } from "./sql.js";

/**
 * Operations the server itself drives (no agent job behind them: evacuations, swarm node builds
 * and removals, lb-apply). Their run lives in the process of the replica that started it, so a
 * lease taken over must not take one from a replica still alive (it would be settled as
 * "interrupted" while it runs); one whose replica is dead is taken by the owner of its host.
 */
export const SERVER_SIDE_KINDS = ["maintenance", "swarm-create", "swarm-add-worker", "swarm-remove-worker", "lb-apply"] as const;

/** `$1` this replica, `$2` the hosts, `$3` the server-side kinds, `$4` how long a heartbeat keeps a replica alive (ms). */
const TAKEABLE = `state in ('pending', 'running')
   and (kind <> all($3::text[]) or replica is null or replica = $1
        or not exists (select 1 from cluster_replicas r where r.id = operations.replica and r.heartbeat_at > now() - $4 * interval '1 millisecond'))`;
/** The unfinished operations of newly owned hosts, re-stamped with this replica's id. */
export const ADOPT_SQL = `update operations set replica = $1 where host = any($2::text[]) and ${TAKEABLE} returning id`;
/** The server-side operations of owned hosts whose replica died (swept now and then: no lease moves for them). */
export const SWEEP_SQL = `update operations set replica = $1 where host = any($2::text[]) and kind = any($3::text[]) and replica is distinct from $1 and ${TAKEABLE} returning id`;

/**
 * Adoption: when this replica takes a host's lease (its owner died, was cut off from the database,
 * or handed it over), it takes over the unfinished operations that run on that host: their rows
 * get this replica's id (operations.replica) and the local OperationManager follows them, settling
 * each from the host's agent exactly as after a restart (job.list; the agent's job id is the
 * operation id, so nothing is started a second time; a job the agent lost is settled from the
 * inventory). When the lease goes (fenced, lost, rebalanced) the local copies are dropped, never
 * finished: the next owner adopts them from the rows.
 *
 * Leases arriving together (a dead replica's whole share) are adopted with one query.
 */
export interface AdoptionOptions {
  replicaId: string;
  leases: Pick<LeaseManager, "subscribe" | "owns" | "owned">;
  db: Queryable;
  store: Pick<OperationStore, "get">;
  manager: Pick<OperationManager, "adopt" | "disown">;
  /** Told what was adopted and what was handed over (ClusterOperations keeps the view cluster-wide). */
  onAdopted?: (ops: readonly Operation[]) => void;
  onHandedOver?: (ops: readonly Operation[]) => void;
  logger?: Logger;
  /** How often the server-side operations of dead replicas on owned hosts are swept (default 5 s; 0: never). */
  sweepMs?: number;
}

export class OperationAdoption {
  private readonly pending = new Set<string>();
  private flushing: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private readonly logger: Logger;
  /** Adopted so far (tests and /metrics). */
  readonly stats = { adopted: 0, handedOver: 0, rounds: 0 };

  constructor(private readonly opts: AdoptionOptions) {
    this.logger = opts.logger ?? pino({ level: "silent" });
  }

  /** Follows the leases; hosts already owned (taken before this started) are adopted now. */
  start(): void {
    this.unsubscribe = this.opts.leases.subscribe((e) => this.onLease(e));
    for (const host of this.opts.leases.owned().keys()) this.onLease({ type: "acquired", host, epoch: 0 });
    const every = this.opts.sweepMs ?? 5_000;
    if (every > 0) {
      this.sweepTimer = setInterval(() => void this.sweep().catch((err: unknown) => this.logger.warn({ err }, "sweep of dead replicas' server-side operations failed")), every);
      this.sweepTimer.unref();
    }
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  /**
   * A server-side operation runs on the replica that was asked (or the owner of a host its plan
   * named at the time): when that replica dies, no lease of its host may move. The owner of the
   * host takes it over here, as after a restart (recovered: resumed or failed as "interrupted").
   */
  async sweep(): Promise<void> {
    const hosts = [...this.opts.leases.owned().keys()].filter((h) => this.opts.leases.owns(h));
    if (!hosts.length) return;
    const { rows } = await this.opts.db.query<{ id: string }>(SWEEP_SQL, [this.opts.replicaId, hosts, [...SERVER_SIDE_KINDS], REPLICA_TIMING.aliveMs]);
    if (rows.length) await this.take(rows.map((r) => r.id), hosts);
  }

  /** Resolves once every lease taken so far has been adopted (tests). */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private onLease(e: LeaseEvent): void {
    if (e.type === "acquired") {
      this.pending.add(e.host);
      this.flushing ??= this.flush().finally(() => (this.flushing = null));
    } else if (e.type === "released") {
      this.pending.delete(e.host);
      const dropped = this.opts.manager.disown(e.host);
      if (dropped.length) {
        this.stats.handedOver += dropped.length;
        this.logger.info({ host: e.host, reason: e.reason, operations: dropped.map((o) => o.id) }, "operations handed over with the host");
        this.opts.onHandedOver?.(dropped);
      }
    }
  }

  private async flush(): Promise<void> {
    // Let the other leases of this round arrive: one query for all of them.
    await new Promise((r) => setImmediate(r));
    while (this.pending.size) {
      const hosts = [...this.pending].filter((h) => this.opts.leases.owns(h));
      this.pending.clear();
      if (hosts.length) await this.adopt(hosts);
    }
  }

  private async adopt(hosts: string[]): Promise<void> {
    this.stats.rounds++;
    let ids: string[];
    try {
      const { rows } = await this.opts.db.query<{ id: string }>(ADOPT_SQL, [this.opts.replicaId, hosts, [...SERVER_SIDE_KINDS], REPLICA_TIMING.aliveMs]);
      ids = rows.map((r) => r.id);
    } catch (err) {
      // The database is away: the lease will not be renewed either, so the hosts go again; if it
      // comes back in time, the next acquisition (or the fence) decides.
      this.logger.warn({ err, hosts: hosts.length }, "operations of newly owned hosts not adopted; retrying");
      for (const h of hosts) this.pending.add(h);
      await new Promise((r) => setTimeout(r, 500));
      return;
    }
    if (!ids.length) return;
    await this.take(ids, hosts);
  }

  private async take(ids: string[], hosts: string[]): Promise<void> {
    const ops = (await Promise.all(ids.map((id) => this.opts.store.get(id)))).filter((o): o is Operation => o !== null);
    // Owned still (a lease may have gone while we read): the others are the next owner's.
    const mine = ops.filter((op) => this.opts.leases.owns(op.host));
    const taken = await this.opts.manager.adopt(mine);
    if (!taken.length) return;
    this.stats.adopted += taken.length;
    this.logger.info({ operations: taken.map((o) => o.id), hosts }, "adopted the unfinished operations of newly owned hosts");
    this.opts.onAdopted?.(taken);
  }
}
