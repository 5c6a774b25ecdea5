import { asc, eq } from "drizzle-orm";
import type { Db } from "../open.js";
import { hostKeys } from "../schema/index.js";

export interface HostKeyEntry {
  fingerprint: string;
  key: string;
}

export interface PinnedHostKey extends HostKeyEntry {
  host: string;
  acceptedAt: string;
  acceptedBy: string | null;
}

/** Pinned SSH host keys. Implements `KnownHostsStore` from @nimbus/fleet. */
export class DbKnownHosts {
  constructor(private readonly db: Db) {}

  async get(host: string): Promise<HostKeyEntry | null> {
    const [row] = await this.db.select().from(hostKeys).where(eq(hostKeys.host, host));
    return row ? { fingerprint: row.fingerprint, key: row.key } : null;
  }

  /** Pins (or re-pins, when an admin accepts a changed key) the key a host offers. */
  async set(host: string, entry: HostKeyEntry & { acceptedBy?: string | null }): Promise<void> {
    const values = { fingerprint: entry.fingerprint, key: entry.key, acceptedAt: new Date(), acceptedBy: entry.acceptedBy ?? null };
    await this.db
      .insert(hostKeys)
      .values({ host, ...values })
      .onConflictDoUpdate({ target: hostKeys.host, set: values });
  }

  async list(): Promise<PinnedHostKey[]> {
    const rows = await this.db.select().from(hostKeys).orderBy(asc(hostKeys.host));
    return rows.map((r) => ({ ...r, acceptedAt: r.acceptedAt.toISOString() }));
  }
}
