import { and, eq, gt, lte, sql } from "drizzle-orm";
import { schema, type Db } from "@nimbus/db";
import { DEFAULT_SIGN_IN_LIMITS, pairKey, type FailedSignIns, type SignInLimits } from "./sign-in-limiter.js";

const { signInFailures } = schema;

/**
 * The same limits as SignInLimiter, counted in the database (`sign_in_failures`), so that with
 * several replicas behind a load balancer the attempts made through every replica count together
 * (in memory each replica would count alone: the limit multiplied by the replica count), and a
 * restart forgets nothing. One row per failure and key; a key's rows older than its window are
 * removed when it fails again, and a success removes the account's own rows.
 *
 * Times are the replicas' clocks (windows are minutes long; replicas' clocks agree to well within a
 * second under NTP), which keeps the injected test clock usable.
 */
export class DbSignInLimiter implements FailedSignIns {
  constructor(
    private readonly db: Db,
    private readonly limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  async retryAfter(account: string, ip: string): Promise<number | null> {
    const waits = await Promise.all([this.wait(pairKey(account, ip), this.limits.perAccountAndAddress), this.wait(`ip:${ip}`, this.limits.perAddress)]);
    const found = waits.filter((w): w is number => w !== null);
    return found.length ? Math.max(...found) : null;
  }

  async recordFailure(account: string, ip: string): Promise<void> {
    const at = new Date(this.now());
    await this.db.transaction(async (tx) => {
      await tx.insert(signInFailures).values([
        { key: pairKey(account, ip), at },
        { key: `ip:${ip}`, at },
      ]);
      for (const [key, limit] of [
        [pairKey(account, ip), this.limits.perAccountAndAddress],
        [`ip:${ip}`, this.limits.perAddress],
      ] as const) {
        await tx.delete(signInFailures).where(and(eq(signInFailures.key, key), lte(signInFailures.at, new Date(at.getTime() - limit.windowMs))));
      }
    });
  }

  async recordSuccess(account: string, ip: string): Promise<void> {
    await this.db.delete(signInFailures).where(eq(signInFailures.key, pairKey(account, ip)));
  }

  private async wait(key: string, limit: { failures: number; windowMs: number }): Promise<number | null> {
    const now = this.now();
    // The newest `failures` rows in the window; blocked when there are that many, until the oldest of them leaves it.
    const rows = await this.db
      .select({ at: signInFailures.at })
      .from(signInFailures)
      .where(and(eq(signInFailures.key, key), gt(signInFailures.at, new Date(now - limit.windowMs))))
      .orderBy(sql`${signInFailures.at} desc`)
      .limit(limit.failures);
    if (rows.length < limit.failures) return null;
    const freeing = [...rows].sort((a, b) => a.at.getTime() - b.at.getTime())[0]!.at.getTime();
    return Math.max(1, Math.ceil((freeing + limit.windowMs - now) / 1000));
  }
}
