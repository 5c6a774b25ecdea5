import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../open.js";

/** What one round removed. */
export interface AuthRowsPruned {
  /** better-auth's per-address request counters (`rate_limits`) whose window is over. */
  rateLimits: number;
  /** Failed sign-ins (`sign_in_failures`) older than the longest sign-in window. */
  signInFailures: number;
  /** Sessions past their expiry (better-auth removes one only when it is presented again). */
  sessions: number;
  /** Verification tokens past their expiry. */
  verifications: number;
}

export interface AuthRowsCutoffs {
  /** Epoch ms: a `rate_limits` row whose last request is older counts for nothing any more. */
  rateLimitsBefore: number;
  /** A failed sign-in older than this counts for no window. */
  signInFailuresBefore: Date;
  /** Sessions and verifications that expired before this. */
  expiredBefore: Date;
}

const rowsOf = (r: unknown) => (r as { rows: Record<string, unknown>[] }).rows;

/**
 * Keeps the tables an unauthenticated client makes the server write to bounded: every request to
 * /api/auth from a new address (or path) adds a `rate_limits` row in replica mode, every wrong
 * password two `sign_in_failures` rows, and neither store removes a key nobody uses again.
 *
 * A round deletes at most `batch` rows per statement and `maxBatches` statements per table (the
 * rest waits for the next round), so one round never holds a table or PGlite's event loop long.
 * The deletes are idempotent and skip rows another replica is deleting (`skip locked`), so every
 * replica may run them.
 */
export class AuthRows {
  constructor(
    private readonly db: Db,
    private readonly batch = 5_000,
    private readonly maxBatches = 20,
  ) {}

  async prune(cut: AuthRowsCutoffs): Promise<AuthRowsPruned> {
    return {
      rateLimits: await this.expire("rate_limits", sql`last_request < ${Math.floor(cut.rateLimitsBefore)}::bigint`),
      signInFailures: await this.expire("sign_in_failures", sql`at < ${cut.signInFailuresBefore.toISOString()}::timestamptz`),
      sessions: await this.expire("sessions", sql`expires_at < ${cut.expiredBefore.toISOString()}::timestamptz`),
      verifications: await this.expire("verifications", sql`expires_at < ${cut.expiredBefore.toISOString()}::timestamptz`),
    };
  }

  /** Deletes `table`'s rows matching `where`, a batch per statement, at most `maxBatches` statements. */
  private async expire(table: string, where: SQL): Promise<number> {
    const t = sql.identifier(table);
    let total = 0;
    for (let i = 0; i < this.maxBatches; i++) {
      const result = await this.db.execute(
        sql`with doomed as (select id from ${t} where ${where} limit ${this.batch}::int for update skip locked)
          , gone as (delete from ${t} where id in (select id from doomed) returning 1)
          select count(*)::int as n from gone`,
      );
      const n = Number(rowsOf(result)[0]?.n ?? 0);
      total += n;
      if (n < this.batch) break;
    }
    return total;
  }
}

/**
 * A fixed window per key counted in the database (`rate_limits`, the table better-auth's
 * per-address counters use, key `<prefix>:<key>`; one upsert per call, on the database's clock), so
 * in replica mode an address spreading its calls over the replicas meets one limit, not one per
 * replica. Rows whose window is over go with better-auth's (`AuthRows.prune`, every minute; windows
 * no longer than better-auth's longest). A database that does not answer refuses (false): what it
 * guards (the audit record of a signed-out call) is only ever a record of a call refused anyway.
 */
export class DbRateWindow {
  constructor(
    private readonly db: Db,
    readonly limit: number,
    readonly windowMs: number,
    private readonly prefix: string,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  async take(key: string): Promise<boolean> {
    const id = `${this.prefix}:${key}`.slice(0, 300);
    const w = Math.floor(this.windowMs);
    try {
      const result = await this.db.execute(
        sql`with t as (select floor(extract(epoch from clock_timestamp()) * 1000)::bigint as now)
          insert into rate_limits (id, key, count, last_request) select ${id}, ${id}, 1, t.now from t
          on conflict (key) do update set
            count = case when rate_limits.last_request <= (select now from t) - ${w}::bigint then 1 else rate_limits.count + 1 end,
            last_request = case when rate_limits.last_request <= (select now from t) - ${w}::bigint then (select now from t) else rate_limits.last_request end
          returning count`,
      );
      return Number(rowsOf(result)[0]?.count ?? Infinity) <= this.limit;
    } catch (err) {
      this.onError(err);
      return false;
    }
  }
}
