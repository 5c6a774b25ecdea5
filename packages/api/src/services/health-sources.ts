import { hostCheckInputs, hostChecks, storageCheckInputs, storageChecks, swarmCheckInputs, swarmChecks, type HostRecord, type RawCheck } from "@nimbus/domain";
import { InputTape } from "./input-tape.js";

/** The raw checks of one host, of the storage pair, of the swarm, or the extra checks. */
export interface CheckSource {
  /** Replaced, never edited, and only when a check differs: identity tells "changed". */
  checks: readonly RawCheck[];
  /** The monitor's bookkeeping: the checks it last applied, and whether none had a flip pending. */
  applied: readonly RawCheck[];
  settled: boolean;
}

interface TrackedSource {
  name: string;
  tape: InputTape;
  source: CheckSource;
  round: number;
}

const tracked = (name = ""): TrackedSource => ({ name, tape: new InputTape(), source: { checks: [], applied: [], settled: false }, round: 0 });

export interface SourcesRound {
  sources: CheckSource[];
  gone: CheckSource[];
}

/** Thrown into a sliced round that another round overtook. */
export class RoundAbandoned extends Error {}

/**
 * The fleet's raw health, split by what each part reads, so a sample re-evaluates only the hosts
 * whose inputs changed and the fleet-wide checks only when one of theirs did. Together the
 * sources list exactly what `evaluateHealth` returns, in the same order, then the extra checks.
 */
export class HealthSources {
  private readonly hosts = new Map<string, TrackedSource>();
  /** The hosts in last sample's order: the fleet's order rarely changes, and an index beats a lookup. */
  private order: TrackedSource[] = [];
  private readonly storage = tracked();
  private readonly swarm = tracked();
  private readonly extra = tracked().source;
  private round = 0;

  /** Brings every source up to date; `gone` are the sources of hosts no longer in the fleet. */
  refresh(hosts: readonly HostRecord[], extra: readonly RawCheck[]): SourcesRound {
    const steps = this.refreshInSlices(hosts, () => extra, Infinity);
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
    }
  }

  /**
   * The same, `slice` hosts at a time: the generator pauses after each slice (the caller lets the
   * event loop turn) and returns the round after the last; the fleet-wide sources are read at the
   * end. A round that is abandoned leaves no harm: the next one reads every host again.
   */
  *refreshInSlices(hosts: readonly HostRecord[], extra: () => readonly RawCheck[], slice: number): Generator<void, SourcesRound, void> {
    const round = ++this.round;
    const sources: CheckSource[] = [];
    const order: TrackedSource[] = [];
    let visited = 0;
    let inSlice = 0;
    for (const h of hosts) {
      if (++inSlice > slice) {
        inSlice = 1;
        yield;
        // Another round began meanwhile (a synchronous sample): this one is void.
        if (round !== this.round) throw new RoundAbandoned();
      }
      let t = this.order[order.length];
      if (t?.name !== h.name) t = this.hosts.get(h.name);
      if (!t) this.hosts.set(h.name, (t = tracked(h.name)));
      order.push(t);
      if (t.round !== round) visited++;
      t.round = round;
      if (t.tape.changed(hostCheckInputs, h)) replace(t.source, hostChecks(h));
      sources.push(t.source);
    }
    if (this.storage.tape.changed(storageCheckInputs, hosts)) replace(this.storage.source, storageChecks(hosts));
    if (this.swarm.tape.changed(swarmCheckInputs, hosts)) replace(this.swarm.source, swarmChecks(hosts));
    replace(this.extra, extra());
    sources.push(this.storage.source, this.swarm.source, this.extra);
    this.order = order;
    return { sources, gone: visited < this.hosts.size ? this.forget(round) : [] };
  }

  /** Voids a sliced round under way (it throws RoundAbandoned at its next slice). */
  abandon() {
    this.round++;
  }

  private forget(round: number): CheckSource[] {
    const gone: CheckSource[] = [];
    for (const [name, t] of this.hosts) {
      if (t.round === round) continue;
      this.hosts.delete(name);
      gone.push(t.source);
    }
    return gone;
  }
}

/**
 * Keeps the old array when nothing in it differs, e.g. a VM that went from shutoff to paused
 * (neither running nor crashed), so the monitor need not look at the host's checks again.
 */
function replace(source: CheckSource, checks: readonly RawCheck[]) {
  if (checks.length !== source.checks.length || checks.some((c, i) => !sameRawCheck(c, source.checks[i]!))) source.checks = checks;
}

export const sameRawCheck = (a: RawCheck, b: RawCheck) =>
  a === b ||
  (a.id === b.id && a.state === b.state && a.message === b.message && a.target === b.target && a.category === b.category && sameList(a.affects, b.affects) && sameList(a.tenants, b.tenants));

export const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
