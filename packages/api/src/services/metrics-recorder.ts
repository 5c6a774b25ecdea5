import {
  CounterRates,
  FleetSampleRound,
  SAMPLE_INTERVAL_MS,
  VipWatch,
  type HistoryEvent,
  type ObjectSample,
  type Resolution,
  type StoredPoint,
  type TransitionRow,
  type VipChange,
} from "@nimbus/domain";
import type { FleetView } from "@nimbus/fleet";

/** What the API reads metric history from (@nimbus/db's MetricWriter: the database and the samples not written yet). */
export interface MetricsReader {
  /** `rawFrom`: with rollups, buckets from this instant on are read from the samples (`rollupTailFrom`). */
  series(object: string, index: number, range: { from: number; to: number }, resolution: Resolution, step: number, rawFrom?: number): Promise<StoredPoint[]>;
}

/** What the API reads the health timeline from (@nimbus/db's HistoryEvents). */
export interface HistoryReader {
  list(q: { from: number; to: number; kinds: readonly HistoryEvent["kind"][]; subjects?: readonly string[]; limit: number }): Promise<HistoryEvent[]>;
  lastVipEvents(before: number | null): Promise<HistoryEvent[]>;
  transitions(sel: { ids?: readonly string[]; all?: boolean }, range: { from: number; to: number }, limit: number): Promise<{ rows: TransitionRow[]; before: TransitionRow[]; truncated: boolean }>;
}

export interface MetricsRecorderOptions {
  /** Where each sample batch goes (a MetricWriter). */
  record: (samples: ObjectSample[]) => unknown;
  /** Where VIP holder changes go (HistoryEvents.append). */
  vipEvents: (events: HistoryEvent[]) => unknown;
  /** The VIP holders last recorded, so a restart records no move that did not happen. */
  vipHolders?: ReadonlyMap<string, string | null>;
  sampleEveryMs?: number;
  /** The VIP watch looks more often than samples are taken: a failover's duration is measured in seconds. */
  vipEveryMs?: number;
  /**
   * Hosts sampled (with their VMs) and handed to `record` in one turn of the event loop (default
   * 200, ~2,200 samples at 10 VMs a host): a whole round at 2,000 x 10 (22,000 samples: taking
   * them, the writer's rollup sums and rows) was one 80-170 ms turn on a loaded machine.
   */
  slice?: number;
  /** Waits for the next turn between two slices (default `setImmediate`). */
  nextTurn?: (f: () => void) => void;
}

export const vipEvent = (c: VipChange): HistoryEvent =>
  c.holder
    ? { at: c.at, kind: "vip-held", subject: c.vip, actor: c.holder, previous: c.previous, detail: c.cause }
    : { at: c.at, kind: "vip-lost", subject: c.vip, actor: null, previous: c.previous, detail: c.cause };

/**
 * Records history from the in-memory inventory, never from a host: every 10 s one sample of every
 * host, VM, datastore and service (a loop over the fleet, 200 hosts a turn of the event loop), and every second
 * who holds each NFS VIP (a change is written with its cause). The agents' counters
 * (`stats.counters` pushes, fleet events of type "stats") become rates here as they arrive, and
 * each sample takes the latest fresh ones.
 */
export class MetricsRecorder {
  private readonly vip: VipWatch;
  private timers: NodeJS.Timeout[] = [];
  readonly rates = new CounterRates();
  private unsubscribe: (() => void) | null = null;
  /** Slices of a round not sampled yet, oldest first (one per turn; each returns its samples). */
  private readonly queue: (() => ObjectSample[])[] = [];
  private pumping = false;

  constructor(
    private readonly fleet: FleetView,
    private readonly opts: MetricsRecorderOptions,
  ) {
    this.vip = new VipWatch(opts.vipHolders);
  }

  start() {
    const every = (ms: number, f: () => void) => {
      const t = setInterval(f, ms);
      t.unref();
      this.timers.push(t);
    };
    this.unsubscribe = this.fleet.subscribe((e) => {
      if (e.type === "stats") this.rates.push(e.host, e.counters, e.at);
      else if (e.type === "host" && e.changed.includes("connection") && e.host.connection.state !== "online") this.rates.forget(e.host.name);
    });
    this.watchVip();
    this.sample();
    every(this.opts.sampleEveryMs ?? SAMPLE_INTERVAL_MS, () => this.sample());
    every(this.opts.vipEveryMs ?? 1_000, () => this.watchVip());
  }

  /** Stops sampling; samples taken and not handed over yet are handed over now (the writer's flush follows). */
  stop() {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (let next = this.queue.shift(); next; next = this.queue.shift()) this.deliver(next());
  }

  /**
   * One sample of the fleet (the hosts as they are now); public so tests step it without timers.
   * The first slice of hosts is sampled and recorded at once, the rest one slice a turn, then the
   * datastores and services; a round never overtakes an earlier one. Returns the round's number
   * of slices (turns).
   */
  sample(now = Date.now()): number {
    const hosts = this.fleet.hosts();
    const round = new FleetSampleRound(Math.floor(now / 1000) * 1000, this.rates);
    const slice = Math.max(1, this.opts.slice ?? 200);
    let turns = 0;
    for (let i = 0; i < hosts.length; i += slice, turns++) this.queue.push(() => round.hosts(hosts.slice(i, i + slice)));
    this.queue.push(() => round.finish());
    if (!this.pumping) this.pump();
    return turns + 1;
  }

  private deliver(samples: ObjectSample[]) {
    if (samples.length) this.opts.record(samples);
  }

  private pump() {
    const next = this.queue.shift();
    if (!next) {
      this.pumping = false;
      return;
    }
    this.pumping = true;
    this.deliver(next());
    if (!this.queue.length) {
      this.pumping = false;
      return;
    }
    (this.opts.nextTurn ?? setImmediate)(() => this.pump());
  }

  /** One look at the VIP holders; public for tests. */
  watchVip(now = new Date().toISOString()): HistoryEvent[] {
    const events = this.vip.update(this.fleet.hosts(), now).map(vipEvent);
    if (events.length) this.opts.vipEvents(events);
    return events;
  }
}
