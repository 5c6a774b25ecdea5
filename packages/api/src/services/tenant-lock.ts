/**
 * One create or delete at a time per tenant, in this process: the quota check and the recording
 * of the operation happen under it, so two creates sent at once cannot both take the last slot
 * (the second sees the first in flight). Several server replicas would need the lock in the
 * database; Nimbus runs one.
 */
export class TenantLocks {
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
