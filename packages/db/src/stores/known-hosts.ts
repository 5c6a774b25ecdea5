import { asc, inArray, sql } from "drizzle-orm";
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
 * Pinned SSH host keys. Implements `KnownHostsStore` from @nimbus/fleet. Lookups and pins made in
 * the same tick share one query (a fleet connects all at once); every lookup still reads the
 * database, so a key another server replica accepted is seen at the next connect.
 */
export class DbKnownHosts {
  private readonly reads: TickBatch<string, HostKeyEntry | null>;
  private readonly writes: TickBatch<{ host: string } & HostKeyEntry & { acceptedBy?: string | null }, void>;

  constructor(private readonly db: Db) {
    this.reads = new TickBatch(async (names) => {
      const rows = await this.db.select().from(hostKeys).where(inArray(hostKeys.host, [...new Set(names)]));
      const byHost = new Map(rows.map((r) => [r.host, { fingerprint: r.fingerprint, key: r.key }]));
      return names.map((n) => byHost.get(n) ?? null);
    });
    this.writes = new TickBatch<{ host: string } & HostKeyEntry & { acceptedBy?: string | null }, void>(async (entries) => {
      // One row per host (the last pin of a host in the batch wins), upserted in one statement.
      const latest = new Map(entries.map((e) => [e.host, e]));
      const rows = [...latest.values()];
      const acceptedAt = new Date().toISOString();
      await this.db.execute(sql`
        insert into ${hostKeys} (host, fingerprint, key, accepted_at, accepted_by)
        select host, fingerprint, key, ${acceptedAt}::timestamptz, accepted_by
        from unnest(${textArray(rows.map((e) => e.host))}, ${textArray(rows.map((e) => e.fingerprint))},
                    ${textArray(rows.map((e) => e.key))}, ${textArray(rows.map((e) => e.acceptedBy ?? null))})
             as u(host, fingerprint, key, accepted_by)
        on conflict (host) do update set fingerprint = excluded.fingerprint, key = excluded.key,
          accepted_at = excluded.accepted_at, accepted_by = excluded.accepted_by`);
      return entries.map(() => undefined);
      // Pins come one per handshake on a first start; 100 ms gathers dozens into one statement
      // (each a commit: ~3 ms of the event loop with the embedded database). The handshake goes
      // on meanwhile; the connection waits for its pin only at the end.
    }, 1_000, 100);
  }

  get(host: string): Promise<HostKeyEntry | null> {
    return this.reads.run(host);
  }

  /** Pins (or re-pins, when an admin accepts a changed key) the key a host offers. */
  set(host: string, entry: HostKeyEntry & { acceptedBy?: string | null }): Promise<void> {
    return this.writes.run({ host, ...entry });
  }

  async list(): Promise<PinnedHostKey[]> {
    const rows = await this.db.select().from(hostKeys).orderBy(asc(hostKeys.host));
    return rows.map((r) => ({ ...r, acceptedAt: r.acceptedAt.toISOString() }));
  }
}
