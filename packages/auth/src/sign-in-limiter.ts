/**
 * Failed sign-ins, counted per source over a sliding window: per account from one address, and per
 * address across accounts. Only the source that failed is held back: five wrong passwords for the
 * admin from one address must not lock the admin out of their own account from another (anyone
 * could otherwise keep any account locked). Guessing one account from many addresses is bounded
 * by the per-address limits, the password policy's length and argon2's cost per attempt.
 * A successful sign-in clears the count of that account from that address.
 *
 * SignInLimiter keeps its state in this process's memory (lost on restart); replicas count in the
 * database instead (DbSignInLimiter, sign-in-limiter-db.ts), so attempts through every replica add up.
 */
export interface SignInLimits {
  /** Failures for one account from one address. */
  perAccountAndAddress: { failures: number; windowMs: number };
  /** Failures from one address, whatever the account. */
  perAddress: { failures: number; windowMs: number };
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = {
  perAccountAndAddress: { failures: 5, windowMs: 15 * 60_000 },
  perAddress: { failures: 20, windowMs: 15 * 60_000 },
};

/** What the sign-in hooks need: the in-memory limiter or the database one (replicas). */
export interface FailedSignIns {
  /** Seconds until `ip` may try `account` again, or null when it may now. */
  retryAfter(account: string, ip: string): number | null | Promise<number | null>;
  recordFailure(account: string, ip: string): void | Promise<void>;
  recordSuccess(account: string, ip: string): void | Promise<void>;
}

/** Bounds memory when someone sprays sign-ins at random account names. */
const MAX_KEYS = 50_000;

export class SignInLimiter implements FailedSignIns {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `ip` may try `account` again, or null when it may now. */
  retryAfter(account: string, ip: string): number | null {
    const waits = [
      this.wait(pairKey(account, ip), this.limits.perAccountAndAddress),
      this.wait(`ip:${ip}`, this.limits.perAddress),
    ].filter((w): w is number => w !== null);
    return waits.length ? Math.max(...waits) : null;
  }

  recordFailure(account: string, ip: string): void {
    const at = this.now();
    this.push(pairKey(account, ip), at, this.limits.perAccountAndAddress.windowMs);
    this.push(`ip:${ip}`, at, this.limits.perAddress.windowMs);
  }

  /** The address's own count stays: a spray that guesses one account right is still a spray. */
  recordSuccess(account: string, ip: string): void {
    this.failures.delete(pairKey(account, ip));
  }

  private wait(key: string, limit: { failures: number; windowMs: number }): number | null {
    const recent = this.recent(key, limit.windowMs);
    if (recent.length < limit.failures) return null;
    // Allowed again when enough of the oldest failures leave the window.
    const freeingFailure = recent[recent.length - limit.failures]!;
    return Math.max(1, Math.ceil((freeingFailure + limit.windowMs - this.now()) / 1000));
  }

  private recent(key: string, windowMs: number): number[] {
    const since = this.now() - windowMs;
    const kept = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (kept.length) this.failures.set(key, kept);
    else this.failures.delete(key);
    return kept;
  }

  private push(key: string, at: number, windowMs: number): void {
    const list = this.recent(key, windowMs);
    list.push(at);
    this.failures.delete(key); // re-insert: Map order becomes least recently failed first
    this.failures.set(key, list);
    if (this.failures.size > MAX_KEYS) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }
}

// JSON: neither part can forge the other's boundary.
export const pairKey = (account: string, ip: string) => `pair:${JSON.stringify([account, ip])}`;
