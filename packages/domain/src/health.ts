import { z } from "zod";

/**
 * Health checks flip only after `rise` consecutive passes or `fall` consecutive failures, the way
 * HAProxy and keepalived do, so one lost probe does not page anyone.
 */
export const HealthState = z.enum(["ok", "warn", "crit", "unknown"]);
export type HealthState = z.infer<typeof HealthState>;

export const HealthCheck = z.object({
  id: z.string(),
  category: z.enum(["host", "storage", "swarm", "network", "instance"]),
  /** What is checked, in words: "kvm2 agent", "VIP 10.0.0.100". */
  target: z.string(),
  state: HealthState,
  since: z.string(),
  message: z.string(),
  /** What breaks when this check fails: hosts, instances, services, tenants. */
  affects: z.array(z.string()),
  tenants: z.array(z.string()),
  /** Someone on call has seen it (with what they are doing about it); cleared when the check recovers or by un-acknowledging. */
  ack: z.object({ by: z.string(), at: z.string(), note: z.string().max(500).optional() }).nullable().default(null),
});
export type HealthCheck = z.infer<typeof HealthCheck>;

export interface Hysteresis {
  rise: number;
  fall: number;
}
export const DEFAULT_HYSTERESIS: Hysteresis = { rise: 2, fall: 3 };

export interface ProbeState {
  /** The reported state: only changes after enough consecutive samples. */
  up: boolean;
  /** Consecutive samples disagreeing with `up`. */
  streak: number;
  since: string;
}

export function observe(prev: ProbeState | undefined, sampleOk: boolean, at: string, h: Hysteresis = DEFAULT_HYSTERESIS): ProbeState {
  if (!prev) return { up: sampleOk, streak: 0, since: at };
  if (sampleOk === prev.up) return { ...prev, streak: 0 };
  const streak = prev.streak + 1;
  const needed = prev.up ? h.fall : h.rise;
  return streak >= needed ? { up: sampleOk, streak: 0, since: at } : { ...prev, streak };
}

const order: Record<HealthState, number> = { crit: 0, warn: 1, unknown: 2, ok: 3 };
export const byUrgency = (a: HealthCheck, b: HealthCheck) =>
  order[a.state] - order[b.state] || a.since.localeCompare(b.since) || a.id.localeCompare(b.id);

export const worstState = (checks: readonly Pick<HealthCheck, "state">[]): HealthState =>
  checks.reduce<HealthState>((w, c) => (order[c.state] < order[w] ? c.state : w), "ok");
