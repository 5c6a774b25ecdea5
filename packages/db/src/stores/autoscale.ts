import { eq } from "drizzle-orm";
import { ScalingPolicy } from "@nimbus/domain";
import type { Db } from "../open.js";
import { swarmScalingPolicies } from "../schema/autoscale.js";

/** The swarm's scaling policies, one per service. A row that no longer parses (an older shape) is skipped, not fatal. */
export class ScalingPolicies {
  constructor(private readonly db: Db) {}

  async list(): Promise<(ScalingPolicy & { updatedBy: string; updatedAt: string })[]> {
    const rows = await this.db.select().from(swarmScalingPolicies).orderBy(swarmScalingPolicies.service);
    return rows.flatMap((r) => {
      const p = ScalingPolicy.safeParse(r.policy);
      return p.success ? [{ ...p.data, updatedBy: r.updatedBy, updatedAt: r.updatedAt.toISOString() }] : [];
    });
  }

  async set(policy: ScalingPolicy, by: string): Promise<ScalingPolicy> {
    const p = ScalingPolicy.parse(policy);
    const updatedAt = new Date();
    await this.db
      .insert(swarmScalingPolicies)
      .values({ service: p.service, policy: p, updatedBy: by, updatedAt })
      .onConflictDoUpdate({ target: swarmScalingPolicies.service, set: { policy: p, updatedBy: by, updatedAt } });
    return p;
  }

  /** True when there was one. */
  async remove(service: string): Promise<boolean> {
    const gone = await this.db.delete(swarmScalingPolicies).where(eq(swarmScalingPolicies.service, service)).returning({ service: swarmScalingPolicies.service });
    return gone.length > 0;
  }
}
