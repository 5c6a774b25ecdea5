import type { LbApplyGuard } from "./load-balancers.js";
import { TenantLocks, type LockPool } from "./tenant-lock.js";

/** The little of a pg.Pool the guard needs: a dedicated connection for the lock, and queries. */
export interface GuardPool extends LockPool {
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

/**
 * Replica mode's "being applied" guard for load balancers (LoadBalancerService's `guard`): a
 * PostgreSQL advisory lock per load balancer, held on one dedicated connection while a replica
 * checks for an unfinished lb-apply and records its own (the row is inserted before the lock is
 * let go), behind an in-process queue. What says "being applied" is the operations table itself:
 * an lb-apply row still pending or running, whoever recorded it. A replica that dies holding the
 * lock loses its connection and PostgreSQL frees the lock; its unfinished lb-apply row is settled by
 * the edge host's owner (the dead replica's sweep, every 5 s).
 */
export class PgLbApplyGuard implements LbApplyGuard {
  private readonly local = new TenantLocks();

  constructor(private readonly pool: GuardPool) {}

  exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    return this.local.run(name, async () => {
      const client = await this.pool.connect();
      const key = `nimbus:lb-apply:${name}`;
      let healthy = false;
      try {
        await client.query("select pg_advisory_lock(hashtextextended($1, 0))", [key]);
        healthy = true;
        try {
          return await work();
        } finally {
          // A broken connection cannot unlock: closing it (release(true)) is what frees the lock.
          await client.query("select pg_advisory_unlock(hashtextextended($1, 0))", [key]).catch(() => (healthy = false));
        }
      } finally {
        client.release(!healthy);
      }
    });
  }

  async unfinished(name: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `select id from operations where kind = 'lb-apply' and target_type = 'load-balancer' and target_name = $1 and state in ('pending', 'running') limit 20`,
      [name],
    );
    return rows.map((r) => r.id);
  }
}
