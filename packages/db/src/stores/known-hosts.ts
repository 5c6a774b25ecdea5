import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "../open.js";
import { hostKeys } from "../schema/index.js";
import { textArray } from "./sql-arrays.js";
import { TickBatch } from "./tick-batch.js";

export interface HostKeyEntry {
  fingerprint: string;
  key: string;
}

export interface PinnedHostKey extends HostKeyEntry {
  host: string;
  acceptedAt: string;
  acceptedBy: string | null;
}

/**
 * Pinned SSH host keys. Implements `KnownHostsStore` from @nimbus/fleet. Lookups and first pins
 * made in the same tick share one query (a fleet connects all at once); every lookup still reads
 * the database, so a key another server replica accepted is seen at the next connect. A first pin
 * never overwrites one (insert if absent: two replicas, or two connections, racing to pin a host
 * keep the first key); only an admin's accept replaces a pin, and only the one they saw.
 */
export class DbKnownHosts {
  private readonly reads: TickBatch<string, HostKeyEntry | null>;
  private readonly pins: TickBatch<{ host: string } & HostKeyEntry, HostKeyEntry>;

  constructor(private readonly db: Db) {
    this.reads = new TickBatch(async (names) => {
      const byHost = await this.lookup(names);
      return names.map((n) => byHost.get(n) ?? null);
    });
    this.pins = new TickBatch<{ host: string } & HostKeyEntry, HostKeyEntry>(async (entries) => {
      // The first pin of a host in the batch is the one offered; the database keeps any earlier one.
      const first = new Map<string, HostKeyEntry>();
      for (const e of entries) if (!first.has(e.host)) first.set(e.host, e);
      const hosts = [...first.keys()];
      const rows = [...first.values()];
      const acceptedAt = new Date().toISOString();
      await this.db.execute(sql`
        insert into ${hostKeys} (host, fingerprint, key, accepted_at)
        select host, fingerprint, key, ${acceptedAt}::timestamptz
        from unnest(${textArray(hosts)}, ${textArray(rows.map((e) => e.fingerprint))}, ${textArray(rows.map((e) => e.key))})
             as u(host, fingerprint, key)
        on conflict (host) do nothing`);
      // A separate statement: it sees a pin another transaction committed while ours waited on it.
      const stored = await this.lookup(hosts);
      return entries.map((e) => stored.get(e.host)!);
      // Pins come one per handshake on a first start; 100 ms gathers dozens into one statement
      // (each a commit: ~3 ms of the event loop with the embedded database). The handshake goes
      // on meanwhile; the connection waits for its pin only at the end.
    }, 1_000, 100);
  }

  get(host: string): Promise<HostKeyEntry | null> {
    return this.reads.run(host);
  }

  /** Trust on first use: pins `entry` unless the host has a pin; resolves to the pin stored now. */
  pin(host: string, entry: HostKeyEntry): Promise<HostKeyEntry> {
    return this.pins.run({ host, fingerprint: entry.fingerprint, key: entry.key });
  }

  /** An admin accepted a changed key: replaces the pin `previous` (false when it is no longer that one). */
  async replace(host: string, previous: string, entry: HostKeyEntry & { acceptedBy?: string | null }): Promise<boolean> {
    const updated = await this.db
      .update(hostKeys)
      .set({ fingerprint: entry.fingerprint, key: entry.key, acceptedAt: new Date(), acceptedBy: entry.acceptedBy ?? null })
      .where(and(eq(hostKeys.host, host), eq(hostKeys.fingerprint, previous)))
      .returning({ host: hostKeys.host });
    return updated.length > 0;
  }

  async list(): Promise<PinnedHostKey[]> {
    const rows = await this.db.select().from(hostKeys).orderBy(asc(hostKeys.host));
    return rows.map((r) => ({ ...r, acceptedAt: r.acceptedAt.toISOString() }));
  }

  private async lookup(names: readonly string[]): Promise<Map<string, HostKeyEntry>> {
    const rows = await this.db.select().from(hostKeys).where(sql`${hostKeys.host} = any(${textArray([...new Set(names)])})`);
    return new Map(rows.map((r) => [r.host, { fingerprint: r.fingerprint, key: r.key }]));
  }
}
