import { desc, eq, sql } from "drizzle-orm";
import type { HealthState } from "@nimbus/domain";
import type { Db } from "../open.js";
import { healthHistory } from "../schema/index.js";
import { textArray } from "./sql-arrays.js";

export interface HealthTransition {
  checkId: string;
  state: HealthState;
  at: string;
  message: string;
}

/** When each health check changed state, so "broken since" survives a server restart. */
export class HealthHistory {
  constructor(private readonly db: Db) {}

  /**
   * Records a transition. A state equal to the check's last recorded one is not a transition
   * (a restarted server re-reports every check) and is skipped: returns false.
   */
  async append(t: HealthTransition): Promise<boolean> {
    return (await this.appendMany([t])) === 1;
  }

  /**
   * Records transitions in order, skipping each that repeats its check's last state; returns how
   * many were recorded. Two queries per batch however big, so the first minute of a 2,000-host
   * fleet (every check goes from nothing to ok) costs a handful.
   */
  async appendMany(ts: readonly HealthTransition[]): Promise<number> {
    if (!ts.length) return 0;
    const last = new Map<string, string>();
    const ids = [...new Set(ts.map((t) => t.checkId))];
    const rows = await this.db
      .selectDistinctOn([healthHistory.checkId], { checkId: healthHistory.checkId, state: healthHistory.state })
      .from(healthHistory)
      .where(sql`${healthHistory.checkId} = any(${textArray(ids)})`)
      .orderBy(healthHistory.checkId, desc(healthHistory.at), desc(healthHistory.id));
    for (const r of rows) last.set(r.checkId, r.state);
    const fresh = ts.filter((t) => {
      if (last.get(t.checkId) === t.state) return false;
      last.set(t.checkId, t.state);
      return true;
    });
    if (!fresh.length) return 0;
    // In the batch's order (ordinality): two transitions of one check at the same instant keep it.
    await this.db.execute(sql`
      insert into ${healthHistory} (check_id, state, at, message)
      select check_id, state, at::timestamptz, message
      from unnest(${textArray(fresh.map((t) => t.checkId))}, ${textArray(fresh.map((t) => t.state))},
                  ${textArray(fresh.map((t) => t.at))}, ${textArray(fresh.map((t) => t.message))})
           with ordinality as u(check_id, state, at, message, n)
      order by n`);
    return fresh.length;
  }

  /** Newest first. */
  async list(checkId: string, opts: { limit: number }): Promise<HealthTransition[]> {
    const rows = await this.db
      .select()
      .from(healthHistory)
      .where(eq(healthHistory.checkId, checkId))
      .orderBy(desc(healthHistory.at), desc(healthHistory.id))
      .limit(opts.limit);
    return rows.map((r) => ({ checkId: r.checkId, state: r.state as HealthState, at: r.at.toISOString(), message: r.message }));
  }
}

/**
 * Collects transitions as the health monitor reports them and records them in batches, at most
 * every `intervalMs`, one batch at a time and in order. A failed batch is logged, not retried:
 * the history is a record for people, and the live state never depends on it.
 */
export class HealthHistoryWriter {
  private pending: HealthTransition[] = [];
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly history: HealthHistory,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs = 500,
  ) {}

  push(t: HealthTransition): void {
    this.pending.push(t);
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.intervalMs);
  }

  /** Writes what is pending; resolves when it (and every earlier batch) is recorded. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length) this.chain = this.chain.then(() => this.history.appendMany(batch)).then(() => undefined, this.onError);
    return this.chain;
  }
}
