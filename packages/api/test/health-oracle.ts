import { byUrgency, evaluateHealth, observe, type HealthCheck, type HostRecord, type Hysteresis, type ProbeState, type RawCheck } from "@nimbus/domain";
import type { HealthChanges } from "../src/services/health-monitor.js";

/**
 * The health monitor as it was before sampling became incremental: it evaluates the whole fleet
 * at every sample. Kept as the oracle the incremental monitor must match sample for sample.
 */
export class HealthOracle {
  private readonly probes = new Map<string, ProbeState>();
  private readonly reported = new Map<string, HealthCheck>();
  private readonly acks = new Map<string, { by: string; at: string }>();
  readonly heard: HealthChanges[] = [];
  readonly transitions: HealthCheck[] = [];

  constructor(
    private readonly hosts: () => readonly HostRecord[],
    private readonly hysteresis?: Hysteresis,
    private readonly extraChecks: () => RawCheck[] = () => [],
  ) {}

  checks(): HealthCheck[] {
    return [...this.reported.values()].sort(byUrgency);
  }

  acknowledge(id: string, by: string, at: string): boolean {
    const check = this.reported.get(id);
    if (!check || check.state === "ok") return false;
    const ack = { by, at };
    this.acks.set(id, ack);
    const acked = { ...check, ack };
    this.reported.set(id, acked);
    this.heard.push({ upsert: [acked], remove: [] });
    return true;
  }

  sample(now: string) {
    const raw = [...evaluateHealth(this.hosts()), ...this.extraChecks()];
    const upsert: HealthCheck[] = [];
    const remove: string[] = [];
    const seen = new Set<string>();
    for (const r of raw) {
      seen.add(r.id);
      const h = r.category === "host" ? { rise: 1, fall: 2 } : this.hysteresis;
      const prevProbe = this.probes.get(r.id);
      const probe = r.state === "unknown" && prevProbe ? prevProbe : observe(prevProbe, r.state === "ok", now, h);
      this.probes.set(r.id, probe);
      const next = this.toCheck(r, probe, prevProbe === undefined);
      const prev = this.reported.get(r.id);
      if (!prev || prev.state !== next.state || prev.message !== next.message || prev.since !== next.since || !sameList(prev.affects, next.affects) || prev.ack !== next.ack) {
        this.reported.set(r.id, next);
        upsert.push(next);
        if (prev?.state !== next.state) this.transitions.push(next);
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
    if (upsert.length || remove.length) this.heard.push({ upsert, remove });
  }

  private toCheck(r: RawCheck, probe: ProbeState, first: boolean): HealthCheck {
    const state = probe.up ? "ok" : r.state === "ok" ? (this.reported.get(r.id)?.state ?? "warn") : r.state;
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
