/**
 * Failed sign-ins, counted per account and per client address over a sliding window. Only
 * failures count: a user who signs in successfully clears their account's count.
 *
 * State lives in this process's memory: it is lost on restart, and with several replicas each
 * counts on its own (the effective limit is multiplied by the replica count).
 */
export interface SignInLimits {
  perAccount: { failures: number; windowMs: number };
  perIp: { failures: number; windowMs: number };
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = {
  perAccount: { failures: 5, windowMs: 15 * 60_000 },
  perIp: { failures: 20, windowMs: 15 * 60_000 },
};

/** Bounds memory when someone sprays sign-ins at random account names. */
const MAX_KEYS = 50_000;

export class SignInLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until a new attempt is allowed, or null when it is allowed now. */
  retryAfter(account: string, ip: string): number | null {
    const waits = [
      this.wait(`account:${account}`, this.limits.perAccount),
      this.wait(`ip:${ip}`, this.limits.perIp),
    ].filter((w): w is number => w !== null);
    return waits.length ? Math.max(...waits) : null;
  }

  recordFailure(account: string, ip: string): void {
    const at = this.now();
    this.push(`account:${account}`, at, this.limits.perAccount.windowMs);
    this.push(`ip:${ip}`, at, this.limits.perIp.windowMs);
  }

  recordSuccess(account: string): void {
    this.failures.delete(`account:${account}`);
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
