import { asc, eq } from "drizzle-orm";
import { LbApplyParams, LoadBalancerSpec, NimbusError } from "@nimbus/domain";
import type { Db } from "../open.js";
import { sqlState, UNIQUE_VIOLATION } from "../errors.js";
import { loadBalancers } from "../schema/load-balancers.js";

export interface StoredLoadBalancer {
  spec: LoadBalancerSpec;
  appliedHash: string | null;
  applied: LbApplyParams | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

const toStored = (r: typeof loadBalancers.$inferSelect): StoredLoadBalancer => ({
  // Parsed again: a row edited by hand must not reach the config writer unchecked.
  spec: LoadBalancerSpec.parse(r.spec),
  appliedHash: r.appliedHash,
  applied: r.applied === null ? null : (LbApplyParams.safeParse(r.applied).data ?? null),
  createdBy: r.createdBy,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

/** The load balancers' specs, one row each. */
export class LoadBalancerStore {
  constructor(private readonly db: Db) {}

  async list(): Promise<StoredLoadBalancer[]> {
    return (await this.db.select().from(loadBalancers).orderBy(asc(loadBalancers.name))).map(toStored);
  }

  async get(name: string): Promise<StoredLoadBalancer | null> {
    const [row] = await this.db.select().from(loadBalancers).where(eq(loadBalancers.name, name));
    return row ? toStored(row) : null;
  }

  /** CONFLICT when the name is taken. */
  async insert(spec: LoadBalancerSpec, createdBy: string): Promise<StoredLoadBalancer> {
    const valid = LoadBalancerSpec.parse(spec);
    try {
      const [row] = await this.db.insert(loadBalancers).values({ name: valid.name, edgeHost: valid.edgeHost, spec: valid, createdBy }).returning();
      return toStored(row!);
    } catch (err) {
      if (sqlState(err) === UNIQUE_VIOLATION) throw new NimbusError("CONFLICT", `load balancer ${valid.name} already exists`, { name: valid.name });
      throw err;
    }
  }

  /** NOT_FOUND when there is no such load balancer. */
  async update(spec: LoadBalancerSpec): Promise<StoredLoadBalancer> {
    const valid = LoadBalancerSpec.parse(spec);
    const [row] = await this.db
      .update(loadBalancers)
      .set({ edgeHost: valid.edgeHost, spec: valid, updatedAt: new Date() })
      .where(eq(loadBalancers.name, valid.name))
      .returning();
    if (!row) throw new NimbusError("NOT_FOUND", `load balancer ${valid.name} not found`, { name: valid.name });
    return toStored(row);
  }

  async setApplied(name: string, hash: string | null, applied: LbApplyParams | null): Promise<void> {
    await this.db.update(loadBalancers).set({ appliedHash: hash, applied }).where(eq(loadBalancers.name, name));
  }

  /** True when a row was deleted. */
  async delete(name: string): Promise<boolean> {
    return (await this.db.delete(loadBalancers).where(eq(loadBalancers.name, name)).returning({ name: loadBalancers.name })).length > 0;
  }
}
