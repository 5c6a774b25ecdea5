import {
  applyCheckResult,
  CHECK_LIMITS,
  cutText,
  initialCheckState,
  type CheckProbe,
  type CheckReport,
  type CheckSpec,
  realCheckTimers,
  type CheckState,
  type ChecksSection,
  type CheckTimers,
} from "@nimbus/domain";
import type { ChecksDriver } from "./drivers.js";

/** One probe: did it pass, and what it saw in a few stable words (no timings: they would change every probe). */
export interface ProbeOutcome {
  ok: boolean;
  message: string;
}
export type ProbeFn = (probe: CheckProbe, timeoutMs: number) => Promise<ProbeOutcome>;

interface Entry {
  spec: CheckSpec;
  key: string;
  state: CheckState;
  lastOk: boolean | null;
  lastResult: string;
  lastAt: string | null;
  timer: unknown;
}

/**
 * Runs the host's active checks, each every `intervalMs` (first ones spread over one interval so
 * a new plan does not probe everything at once), and keeps each one's HAProxy rise/fall state.
 * The section changes (and is pushed) only when a state, the health counter or what the probe
 * saw changes; a probe's time alone is not news. A probe that throws or outlives its timeout is
 * a failure. `configure` keeps the state of checks whose spec did not change.
 */
export class CheckRunner implements ChecksDriver {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly probe: ProbeFn,
    private readonly timers: CheckTimers = realCheckTimers,
  ) {}

  configure(specs: CheckSpec[]): void {
    const next = new Map(specs.slice(0, CHECK_LIMITS.perHost).map((s) => [s.id, s]));
    let changed = false;
    for (const [id, e] of this.entries) {
      const spec = next.get(id);
      if (spec && JSON.stringify(spec) === e.key) continue;
      this.timers.clearTimeout(e.timer);
      this.entries.delete(id);
      changed = true;
    }
    let i = 0;
    for (const spec of next.values()) {
      if (this.entries.has(spec.id)) continue;
      const entry: Entry = { spec, key: JSON.stringify(spec), state: initialCheckState(), lastOk: null, lastResult: "", lastAt: null, timer: null };
      this.entries.set(spec.id, entry);
      const spread = Math.floor((spec.timing.intervalMs * i++) / Math.max(next.size, 1));
      this.schedule(entry, spread);
      changed = true;
    }
    if (changed) this.emit();
  }

  async snapshot(): Promise<ChecksSection> {
    return { checks: [...this.entries.values()].map(report) };
  }

  watch(onChange: () => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }

  /** Stops every timer (the agent is ending). */
  stop(): void {
    for (const e of this.entries.values()) this.timers.clearTimeout(e.timer);
    this.entries.clear();
  }

  private schedule(entry: Entry, ms: number) {
    entry.timer = this.timers.setTimeout(() => void this.run(entry), ms);
  }

  private async run(entry: Entry) {
    const { probe, timing } = entry.spec;
    let outcome: ProbeOutcome;
    try {
      outcome = await withTimeout(this.probe(probe, timing.timeoutMs), timing.timeoutMs + 500, this.timers);
    } catch (err) {
      outcome = { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
    // Reconfigured meanwhile: this result belongs to a check that is gone.
    if (this.entries.get(entry.spec.id) !== entry) return;
    const at = this.timers.now().toISOString();
    const before = entry.state;
    const message = cutText(outcome.message, 200);
    entry.state = applyCheckResult(before, outcome.ok, at, timing);
    const news = entry.state.status !== before.status || entry.state.health !== before.health || entry.state.streak !== before.streak || message !== entry.lastResult;
    entry.lastOk = outcome.ok;
    entry.lastResult = message;
    entry.lastAt = at;
    this.schedule(entry, timing.intervalMs);
    if (news) this.emit();
  }

  private emit() {
    for (const l of this.listeners) l();
  }
}

const report = (e: Entry): CheckReport => ({
  id: e.spec.id,
  target: e.spec.target,
  category: e.spec.category,
  affects: e.spec.affects,
  tenants: e.spec.tenants,
  status: e.state.status,
  health: e.state.health,
  since: e.state.since,
  lastOk: e.lastOk,
  lastResult: e.lastResult,
  lastAt: e.lastAt,
});

function withTimeout<T>(p: Promise<T>, ms: number, timers: CheckTimers): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = timers.setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        timers.clearTimeout(t);
        resolve(v);
      },
      (e) => {
        timers.clearTimeout(t);
        reject(e);
      },
    );
  });
}
