export interface BackoffPolicy {
  /** Delay before the first retry. */
  initialMs: number;
  /** Upper bound: a host down for hours is retried this often. */
  maxMs: number;
  /** 0-1: how much of each delay is randomised, so hosts that fell together do not retry together. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 30_000, jitter: 0.25 };

/**
 * Delay before retry number `attempt` (0-based): doubling from initialMs up to maxMs, minus up to
 * `jitter` of it at random. `random` is injectable so the schedule is testable.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(exponential * (1 - policy.jitter * random()));
}
