import type { CheckStatus, CheckTiming } from "./spec.js";

/**
 * One check's state with HAProxy's health counter: `health` runs from 0 to rise+fall-1; a target
 * is UP at `rise` or above. A success raises it by one (reaching `rise` from below turns the
 * target UP, and UP jumps to the top so that it takes `fall` failures to fall); a failure lowers
 * it by one (falling below `rise` turns it DOWN, and DOWN drops to 0 so that it takes `rise`
 * successes to rise). So a target flapping one up, one down never changes state once it has one.
 * A new check is `unknown` until `rise` successes or `fall` failures in a row decide it.
 */
export interface CheckState {
  status: CheckStatus;
  health: number;
  /** Consecutive results while unknown (positive: successes, negative: failures). */
  streak: number;
  since: string | null;
}

export const initialCheckState = (): CheckState => ({ status: "unknown", health: 0, streak: 0, since: null });

export function applyCheckResult(prev: CheckState, ok: boolean, at: string, t: Pick<CheckTiming, "rise" | "fall">): CheckState {
  const top = t.rise + t.fall - 1;
  if (prev.status === "unknown") {
    const streak = ok ? Math.max(prev.streak, 0) + 1 : Math.min(prev.streak, 0) - 1;
    if (ok && streak >= t.rise) return { status: "up", health: top, streak: 0, since: at };
    if (!ok && -streak >= t.fall) return { status: "down", health: 0, streak: 0, since: at };
    return { ...prev, streak };
  }
  if (ok) {
    if (prev.status === "up") return { ...prev, health: top };
    const health = prev.health + 1;
    return health >= t.rise ? { status: "up", health: top, streak: 0, since: at } : { ...prev, health };
  }
  if (prev.status === "down") return { ...prev, health: 0 };
  const health = prev.health - 1;
  return health < t.rise ? { status: "down", health: 0, streak: 0, since: at } : { ...prev, health };
}

/**
 * How HAProxy writes a server in transition: "UP 1/3" is up with one failure of three counted,
 * "DOWN 1/2" is down with one success of two; plain "UP"/"DOWN" when settled.
 */
export function describeCheckState(s: CheckState, t: Pick<CheckTiming, "rise" | "fall">): string {
  if (s.status === "unknown") return s.streak === 0 ? "unknown" : s.streak > 0 ? `unknown, ${s.streak}/${t.rise} up` : `unknown, ${-s.streak}/${t.fall} down`;
  const top = t.rise + t.fall - 1;
  if (s.status === "up") return s.health === top ? "UP" : `UP ${top - s.health}/${t.fall}`;
  return s.health === 0 ? "DOWN" : `DOWN ${s.health}/${t.rise}`;
}
