/**
 * One create or delete at a time per tenant: the quota check and the recording of the operation
 * happen under it, so two creates sent at once cannot both take the last slot (the second sees
 * the first in flight).
 */
export interface TenantLockService {
  run<T>(tenant: string, work: () => Promise<T>): Promise<T>;
}

/** In this process (one server: the embedded default). */
export class TenantLocks implements TenantLockService {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(tenant: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(tenant) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(work);
    const tail = mine.catch(() => undefined);
    this.tails.set(tenant, tail);
    try {
      return await mine;
    } finally {
      // The last one out removes the entry, so the map holds only tenants with work queued.
      if (this.tails.get(tenant) === tail) this.tails.delete(tenant);
    }
  }
}

/** The little of a pg.Pool the database lock needs. */
export interface LockPool {
  connect(): Promise<{ query(text: string, values?: unknown[]): Promise<unknown>; release(destroy?: boolean): void }>;
}

/**
 * Across replicas (replica mode): a PostgreSQL advisory lock per tenant, held on one dedicated
 * connection for the duration of the work, behind the in-process lock (so one replica queues its
 * own requests in memory instead of holding a connection per waiting request). A replica that
 * dies while holding it loses its connection, and PostgreSQL frees the lock with it.
 *
 * `refresh` runs once the lock is held, before the work: the replica's view of creates in flight
 * elsewhere is reloaded from the operations table (a create recorded by another replica under
 * this lock is in the table before that replica let go of it), so the quota counts it even when
 * its bus message has not arrived yet.
 */
export class PgTenantLocks implements TenantLockService {
  private readonly local = new TenantLocks();

  constructor(
    private readonly pool: LockPool,
    private readonly refresh: () => Promise<void> = async () => {},
  ) {}

  run<T>(tenant: string, work: () => Promise<T>): Promise<T> {
    return this.local.run(tenant, async () => {
      const client = await this.pool.connect();
      const key = `nimbus:tenant:${tenant}`;
      let healthy = false;
      try {
        await client.query("select pg_advisory_lock(hashtextextended($1, 0))", [key]);
        healthy = true;
        try {
          await this.refresh();
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
}
