import { desc, eq } from "drizzle-orm";
import type { HealthState } from "@nimbus/domain";
import type { Db } from "../open.js";
import { healthHistory } from "../schema/index.js";

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
    const [last] = await this.list(t.checkId, { limit: 1 });
    if (last?.state === t.state) return false;
    await this.db.insert(healthHistory).values({ checkId: t.checkId, state: t.state, at: new Date(t.at), message: t.message });
    return true;
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
