import { observe, byUrgency, type HealthCheck, type Hysteresis, type ProbeState, type RawCheck } from "@nimbus/domain";
import type { FleetView } from "@nimbus/fleet";
import { setImmediate as nextTurn } from "node:timers/promises";
import { HealthSources, RoundAbandoned, sameList, sameRawCheck, type CheckSource, type SourcesRound } from "./health-sources.js";

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
  /** Hosts read per turn of the event loop when the timer samples (default SLICE_HOSTS). */
  sliceHosts?: number;
  /** More raw checks to sample with the fleet's, e.g. network findings. Fresh objects at each
   * call: the monitor compares them with the last call's. */
  extraChecks?: () => RawCheck[];
  /** Acknowledgements kept across restarts: the ones stored, and where to write each change (null: gone). */
  acks?: { initial?: ReadonlyMap<string, AckEntry>; onChange?: (id: string, ack: AckEntry | null, why: "user" | "check") => void };
}

/** What the monitor keeps per check id: how many sources report it, the last raw result and its probe. */
interface CheckEntry {
  owners: number;
  raw: RawCheck | null;
  probe: ProbeState | undefined;
}

export type AckEntry = NonNullable<HealthCheck["ack"]>;

/**
 * A mass connect (a server's start, a fleet back after an outage; every replica sees it whole):
 * while at least this share of the hosts is connecting, the timer samples only every
 * MASS_CONNECT_EVERY-th period. Each host changes several times in its first second online (each
 * pushed section); a sample then evaluates it again each time, on every replica, for checks that
 * are "unknown" or settling anyway. A host that fails to connect still goes down two samples later.
 * A few hosts reconnecting in a small fleet are no mass connect (MASS_CONNECT_MIN).
 */
const MASS_CONNECT_SHARE = 0.1;
const MASS_CONNECT_MIN = 20;
const MASS_CONNECT_EVERY = 3;

/**
 * The timer's sample reads this many hosts' inputs per turn of the event loop, then lets the loop
 * turn: at 2,000 hosts one pass over every host's inputs was 10-45 ms (a busy machine), a turn a
 * page request waited behind; a slice is ~1-5 ms.
 */
const SLICE_HOSTS = 250;

/** Host connection checks fall after two samples: the SSH layer already retried. */
const HOST_HYSTERESIS: Hysteresis = { rise: 1, fall: 2 };

/**
 * A check with nothing pending: sampling the same raw result again would leave its probe and its
 * reported check as they are. "unknown" never moves the probe.
 */
const isSettled = (r: RawCheck, probe: ProbeState) => r.state === "unknown" || (probe.streak === 0 && (r.state === "ok") === probe.up);

/**
 * Samples the fleet's health from the in-memory inventory and applies rise/fall hysteresis, so a
 * check flips only after consecutive samples agree. Host connection checks fall after two samples,
 * everything else uses the default thresholds. A sample costs what changed: hosts whose inputs are
 * the same and whose checks have no flip pending are compared, not re-evaluated.
 */
export class HealthMonitor {
  private readonly entries = new Map<string, CheckEntry>();
  private readonly sources = new HealthSources();
  /** Ids more than one source reports (a VM crashed on two hosts): every source is then sampled. */
  private duplicates = 0;
  private readonly reported = new Map<string, HealthCheck>();
  private readonly listeners = new Set<(changes: HealthChanges) => void>();
  private timer: NodeJS.Timeout | null = null;
  /** Sorted on demand: sorting 10,000+ checks on every change would cost more than the change. */
  private snapshot: HealthCheck[] | null = [];
  private readonly acks: Map<string, AckEntry>;

  constructor(
    private readonly fleet: FleetView,
    private readonly opts: HealthMonitorOptions = {},
  ) {
    this.acks = new Map(opts.acks?.initial);
  }

  start() {
    this.sample();
    this.timer = setInterval(() => {
      if (!this.slicing && this.due()) void this.sampleInSlices();
    }, this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  /** Periods passed without a sample during a mass connect. */
  private held = 0;
  /** A sample in slices is under way (the timer starts none while it is). */
  private slicing = false;

  /** One period of the timer: a sample, or only every MASS_CONNECT_EVERY-th during a mass connect. Public so tests can step it. */
  tick(now?: string) {
    if (this.due()) this.sample(now);
  }

  private due(): boolean {
    if (this.connectingMany() && ++this.held < MASS_CONNECT_EVERY) return false;
    this.held = 0;
    return true;
  }

  private connectingMany(): boolean {
    const hosts = this.fleet.hosts();
    let connecting = 0;
    for (const h of hosts) if (h.connection.state === "connecting") connecting++;
    return connecting >= MASS_CONNECT_MIN && connecting >= hosts.length * MASS_CONNECT_SHARE;
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A sample in slices under way ends without applying.
    this.sources.abandon();
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

  /** Marks a failing check as seen, with an optional note; false when there is no such failing check. */
  acknowledge(id: string, by: string, at = new Date().toISOString(), note?: string): boolean {
    const check = this.reported.get(id);
    if (!check || check.state === "ok") return false;
    // One object in both maps, so the next sample sees the same ack and reports no change.
    const ack: AckEntry = note ? { by, at, note } : { by, at };
    this.acks.set(id, ack);
    this.opts.acks?.onChange?.(id, ack, "user");
    const acked = { ...check, ack };
    this.reported.set(id, acked);
    this.publish({ upsert: [acked], remove: [] });
    return true;
  }

  /** Takes an acknowledgement back (acknowledged by mistake, or nobody is on it after all); false when the check has none. */
  unacknowledge(id: string): boolean {
    const check = this.reported.get(id);
    if (!check || !this.forgetAck(id, "user")) return false;
    const open = { ...check, ack: null };
    this.reported.set(id, open);
    this.publish({ upsert: [open], remove: [] });
    return true;
  }

  /**
   * Replica mode: the acknowledgements as stored, after another replica changed them (nothing is
   * written back); the checks whose acknowledgement moved are published as changed.
   */
  replaceAcks(stored: ReadonlyMap<string, AckEntry>): void {
    const upsert: HealthCheck[] = [];
    for (const id of new Set([...this.acks.keys(), ...stored.keys()])) {
      const next = stored.get(id) ?? null;
      if (JSON.stringify(next) === JSON.stringify(this.acks.get(id) ?? null)) continue;
      if (next) this.acks.set(id, next);
      else this.acks.delete(id);
      const check = this.reported.get(id);
      if (!check) continue;
      const changed = { ...check, ack: next };
      this.reported.set(id, changed);
      upsert.push(changed);
    }
    if (upsert.length) this.publish({ upsert, remove: [] });
  }

  /** Drops a check's acknowledgement, here and where it is kept; false when it had none. */
  private forgetAck(id: string, why: "user" | "check" = "check"): boolean {
    if (!this.acks.delete(id)) return false;
    this.opts.acks?.onChange?.(id, null, why);
    return true;
  }

  private publish(changes: HealthChanges) {
    this.snapshot = null;
    for (const l of this.listeners) l(changes);
  }

  /** One sample; public so tests can step the monitor without timers. */
  sample(now = new Date().toISOString()) {
    this.applyRound(this.sources.refresh(this.fleet.hosts(), this.opts.extraChecks?.() ?? []), now);
  }

  /**
   * One sample as the timer takes it: the hosts' inputs read `sliceHosts` at a time with a turn of
   * the event loop between, then applied and published in one turn (what changed, usually little).
   * A synchronous `sample` meanwhile takes over: this one then ends without applying.
   */
  async sampleInSlices(now = new Date().toISOString()): Promise<void> {
    this.slicing = true;
    try {
      const steps = this.sources.refreshInSlices(this.fleet.hosts(), () => this.opts.extraChecks?.() ?? [], this.opts.sliceHosts ?? SLICE_HOSTS);
      for (;;) {
        const r = steps.next();
        if (r.done) return this.applyRound(r.value, now);
        await nextTurn();
      }
    } catch (err) {
      if (!(err instanceof RoundAbandoned)) throw err;
    } finally {
      this.slicing = false;
    }
  }

  private applyRound({ sources, gone }: SourcesRound, now: string) {
    const upsert: HealthCheck[] = [];
    const retired: string[] = [];
    for (const source of sources) {
      if (source.checks !== source.applied) this.own(source, source.checks, retired);
      else if (source.settled && !this.duplicates) continue;
      let settled = true;
      for (const r of source.checks) settled = this.apply(r, now, upsert) && settled;
      source.settled = settled;
    }
    for (const source of gone) this.own(source, [], retired);
    const remove = this.removeUnowned(retired);
    if (upsert.length || remove.length) this.publish({ upsert, remove });
  }

  /** Counts who reports each id, so an id is dropped only once no source reports it. */
  private own(source: CheckSource, checks: readonly RawCheck[], retired: string[]) {
    for (const r of checks) {
      const e = this.entries.get(r.id);
      if (!e) this.entries.set(r.id, { owners: 1, raw: null, probe: undefined });
      else if (++e.owners === 2) this.duplicates++;
    }
    for (const r of source.applied) {
      const e = this.entries.get(r.id)!;
      if (--e.owners === 1) this.duplicates--;
      else if (e.owners === 0) retired.push(r.id);
    }
    source.applied = checks;
  }

  /** Samples one raw check; true when it is settled afterwards. */
  private apply(r: RawCheck, now: string, upsert: HealthCheck[]): boolean {
    const e = this.entries.get(r.id)!;
    const prevProbe = e.probe;
    if (prevProbe && e.raw && isSettled(r, prevProbe) && sameRawCheck(e.raw, r)) return true;
    // "unknown" (connecting) is neither pass nor fail: keep the last verdict.
    const probe = r.state === "unknown" && prevProbe ? prevProbe : observe(prevProbe, r.state === "ok", now, r.category === "host" ? HOST_HYSTERESIS : this.opts.hysteresis);
    e.probe = probe;
    e.raw = r;
    const next = this.toCheck(r, probe, prevProbe === undefined);
    const prev = this.reported.get(r.id);
    if (!prev || prev.state !== next.state || prev.message !== next.message || prev.since !== next.since || !sameList(prev.affects, next.affects) || prev.ack !== next.ack) {
      this.reported.set(r.id, next);
      upsert.push(next);
      if (prev?.state !== next.state) this.opts.onTransition?.(next);
    }
    return isSettled(r, probe);
  }

  /** Drops the retired ids no source reports any more, in the order they were first reported. */
  private removeUnowned(retired: readonly string[]): string[] {
    const gone = new Set(retired.filter((id) => this.entries.get(id)?.owners === 0));
    for (const id of gone) {
      this.entries.delete(id);
      this.forgetAck(id);
    }
    const remove = gone.size > 1 ? [...this.reported.keys()].filter((id) => gone.has(id)) : [...gone].filter((id) => this.reported.has(id));
    for (const id of remove) this.reported.delete(id);
    return remove;
  }

  private toCheck(r: RawCheck, probe: ProbeState, first: boolean): HealthCheck {
    // While the probe still reports "up", show ok even if this one sample failed (hysteresis),
    // but keep the failing message visible as a hint.
    const state = probe.up ? "ok" : r.state === "ok" ? (this.reported.get(r.id)?.state ?? "warn") : r.state;
    // An acknowledgement lasts until the check is ok again.
    if (state === "ok") this.forgetAck(r.id);
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
