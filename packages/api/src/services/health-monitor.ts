import { evaluateHealth, observe, byUrgency, type HealthCheck, type Hysteresis, type ProbeState, type RawCheck } from "@nimbus/domain";
import type { FleetView } from "@nimbus/fleet";

/** What changed in one sample (or acknowledgement): checks new or different, and ids gone. */
export interface HealthChanges {
  upsert: HealthCheck[];
  remove: string[];
}

export interface HealthMonitorOptions {
  /** Sampling period of the in-memory evaluation; no host is contacted. */
  intervalMs?: number;
  hysteresis?: Hysteresis;
  /** Called for each reported state change, e.g. to keep a history in the database. */
  onTransition?: (check: HealthCheck) => void;
  /** More raw checks to sample with the fleet's, e.g. network findings. */
  extraChecks?: () => RawCheck[];
}

/**
 * Samples the fleet's health from the in-memory inventory and applies rise/fall hysteresis, so a
 * check flips only after consecutive samples agree. Host connection checks fall after two samples
 * (the SSH layer already retried), everything else uses the default thresholds.
 */
export class HealthMonitor {
  private readonly probes = new Map<string, ProbeState>();
  private readonly reported = new Map<string, HealthCheck>();
  private readonly listeners = new Set<(changes: HealthChanges) => void>();
  private timer: NodeJS.Timeout | null = null;
  /** Sorted on demand: sorting 10,000+ checks on every change would cost more than the change. */
  private snapshot: HealthCheck[] | null = [];
  private readonly acks = new Map<string, { by: string; at: string }>();

  constructor(
    private readonly fleet: FleetView,
    private readonly opts: HealthMonitorOptions = {},
  ) {}

  start() {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Every check, worst first (the same order the web keeps when it applies changes). */
  checks(): readonly HealthCheck[] {
    this.snapshot ??= [...this.reported.values()].sort(byUrgency);
    return this.snapshot;
  }

  /** Listeners hear only what changed; the full list is `checks()`. */
  subscribe(l: (changes: HealthChanges) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Marks a failing check as seen; false when there is no such failing check. */
  acknowledge(id: string, by: string, at = new Date().toISOString()): boolean {
    const check = this.reported.get(id);
    if (!check || check.state === "ok") return false;
    // One object in both maps, so the next sample sees the same ack and reports no change.
    const ack = { by, at };
    this.acks.set(id, ack);
    const acked = { ...check, ack };
    this.reported.set(id, acked);
    this.publish({ upsert: [acked], remove: [] });
    return true;
  }

  private publish(changes: HealthChanges) {
    this.snapshot = null;
    for (const l of this.listeners) l(changes);
  }

  /** One sample; public so tests can step the monitor without timers. */
  sample(now = new Date().toISOString()) {
    const raw = [...evaluateHealth(this.fleet.hosts()), ...(this.opts.extraChecks?.() ?? [])];
    const upsert: HealthCheck[] = [];
    const remove: string[] = [];
    const seen = new Set<string>();
    for (const r of raw) {
      seen.add(r.id);
      const h = r.category === "host" ? { rise: 1, fall: 2 } : (this.opts.hysteresis ?? undefined);
      const prevProbe = this.probes.get(r.id);
      // "unknown" (connecting) is neither pass nor fail: keep the last verdict.
      const probe = r.state === "unknown" && prevProbe ? prevProbe : observe(prevProbe, r.state === "ok", now, h);
      this.probes.set(r.id, probe);
      const next = this.toCheck(r, probe, prevProbe === undefined);
      const prev = this.reported.get(r.id);
      if (!prev || prev.state !== next.state || prev.message !== next.message || prev.since !== next.since || !sameList(prev.affects, next.affects) || prev.ack !== next.ack) {
        this.reported.set(r.id, next);
        upsert.push(next);
        if (prev?.state !== next.state) this.opts.onTransition?.(next);
      }
    }
    for (const id of [...this.reported.keys()]) {
      if (!seen.has(id)) {
        this.reported.delete(id);
        this.acks.delete(id);
        this.probes.delete(id);
        remove.push(id);
      }
    }
    if (upsert.length || remove.length) this.publish({ upsert, remove });
  }

  private toCheck(r: RawCheck, probe: ProbeState, first: boolean): HealthCheck {
    // While the probe still reports "up", show ok even if this one sample failed (hysteresis),
    // but keep the failing message visible as a hint.
    const state = probe.up ? "ok" : r.state === "ok" ? (this.reported.get(r.id)?.state ?? "warn") : r.state;
    // An acknowledgement lasts until the check is ok again.
    if (state === "ok") this.acks.delete(r.id);
    const pending = probe.streak > 0 ? ` (${probe.up ? "failing" : "recovering"}, ${probe.streak} sample${probe.streak > 1 ? "s" : ""})` : "";
    return {
      id: r.id,
      category: r.category,
      target: r.target,
      state: first && r.state === "unknown" ? "unknown" : state,
      since: probe.since,
      message: r.message + pending,
      affects: [...new Set(r.affects)],
      tenants: [...new Set(r.tenants)],
      ack: this.acks.get(r.id) ?? null,
    };
  }
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
