import { sql } from "drizzle-orm";
import type { Db } from "../open.js";
import { MetricStore, type Pace } from "./metrics.js";
import { HistoryEvents } from "./metrics-events.js";

/** How many days each kind of history is kept. */
export interface RetentionPolicy {
  auditDays: number;
  healthDays: number;
  operationsDays: number;
}

export interface Pruned {
  audit: number;
  health: number;
  operations: number;
  /** Metric samples older than 24 h and rollups older than 30 days. */
  metrics: number;
  /** Acknowledgement and VIP events (health's retention; each VIP's latest stays). */
  events: number;
}

const rowsOf = (r: unknown) => (r as { rows: Record<string, unknown>[] }).rows;

/**
 * Removes history older than the policy keeps, a batch at a time (a statement deleting a year of
 * rows at once would hold the table, and on PGlite the event loop, for its whole length).
 *
 * - Audit records go through `audit_log_prune` (migration 0003): the table's trigger refuses every
 *   other DELETE, and lets this one remove only rows older than its cut-off, never a day-old one.
 * - Health transitions older than the cut-off go, except each check's latest, which says since
 *   when the check has been in its state.
 * - Operations finished before the cut-off go; unfinished ones stay whatever their age.
 * - Metric samples after 24 h, their 5-minute rollups after 30 days; timeline events with health.
 */
export class Retention {
  constructor(
    private readonly db: Db,
    private readonly policy: RetentionPolicy,
    private readonly batch = 5000,
    /** The running server's pace: `pace.deleteRows` a statement and a turn of the event loop between statements (PGlite runs them on its thread). */
    private readonly pace?: Pace,
  ) {
    if (pace) this.batch = pace.deleteRows;
  }

  async prune(): Promise<Pruned> {
    return {
      audit: await this.inBatches(() => sql`select audit_log_prune(${this.policy.auditDays}::int, ${this.batch}::int) as n`),
      health: await this.inBatches(
        () => sql`with doomed as (
            select h.id from health_history h
            where h.at < now() - make_interval(days => ${this.policy.healthDays}::int)
              and exists (select 1 from health_history later
                          where later.check_id = h.check_id and (later.at, later.id) > (h.at, h.id))
            order by h.id limit ${this.batch}::int)
          , gone as (delete from health_history where id in (select id from doomed) returning 1)
          select count(*)::int as n from gone`,
      ),
      operations: await this.inBatches(
        () => sql`with doomed as (
            select id from operations
            where finished_at < now() - make_interval(days => ${this.policy.operationsDays}::int)
              and state not in ('pending', 'running')
            order by finished_at limit ${this.batch}::int)
          , gone as (delete from operations where id in (select id from doomed) returning 1)
          select count(*)::int as n from gone`,
      ),
      metrics: await new MetricStore(this.db).prune(Date.now(), this.batch, this.pace),
      events: await new HistoryEvents(this.db).prune(this.policy.healthDays, this.batch, this.pace),
    };
  }

  private async inBatches(statement: () => ReturnType<typeof sql>): Promise<number> {
    let total = 0;
    for (;;) {
      await this.pace?.pause();
      const n = Number(rowsOf(await this.db.execute(statement()))[0]?.n ?? 0);
      total += n;
      if (n < this.batch) return total;
    }
  }
}
