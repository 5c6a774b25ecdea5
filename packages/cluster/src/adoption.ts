import type { Operation } from "@nimbus/domain";
import type { OperationManager, OperationStore } from "@nimbus/fleet";
import { pino, type Logger } from "pino";
import type { LeaseEvent, LeaseManager } from "./leases.js";
import type { Queryable } from "./sql.js";

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
}

export class OperationAdoption {
  private readonly pending = new Set<string>();
  private flushing: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
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
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
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
      const { rows } = await this.opts.db.query<{ id: string }>(
        `update operations set replica = $1 where host = any($2::text[]) and state in ('pending', 'running') returning id`,
        [this.opts.replicaId, hosts],
      );
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
