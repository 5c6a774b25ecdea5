import { Worker } from "node:worker_threads";
import { ListenerSet } from "@nimbus/fleet";
import { pino, type Logger } from "pino";
import { REPLICA_TIMING, ReplicaDirectory, type ReplicaInfo } from "./replicas.js";
import { withTimeout, type Queryable } from "./sql.js";

/**
 * Host leases (table host_leases): which replica watches which host.
 *
 * Every round (one heartbeat, 2 s) a replica: beats; renews all its leases in ONE update
 * (`where owner = me`, expiry = database now() + leaseMs); reads who is alive and who owns what;
 * takes unowned or expired leases up to its fair share ceil(hosts / alive replicas); releases
 * surplus, at most `maxMoves` a round and only while some alive replica is below its share (so a
 * lease is never let go to nobody, and a balanced cluster never moves anything).
 *
 * Never two owners: a take needs `expires_at <= now()` on the database; an owner that has not
 * renewed successfully for `fenceMs` (< leaseMs) counting from when it SENT its last successful
 * renew drops its hosts (closing their SSH sessions) on its own. The renew it sent was executed
 * after it was sent, so the database's expiry is later than sent + leaseMs: the owner lets go at
 * least leaseMs - fenceMs before anyone else may take over.
 */
export interface LeaseTiming {
  heartbeatMs: number;
  leaseMs: number;
  fenceMs: number;
  aliveMs: number;
  /**
   * How long a replica announced as starting (ReplicaDirectory.announce, early in its boot) has
   * the free hosts the split gives it left free for it by the alive ones.
   */
  startingMs: number;
  /** Queries of one round give up after this long (a cut connection must not hang the round). */
  queryTimeoutMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = {
  heartbeatMs: REPLICA_TIMING.heartbeatMs,
  leaseMs: 6_000,
  fenceMs: 4_000,
  aliveMs: REPLICA_TIMING.aliveMs,
  startingMs: REPLICA_TIMING.startingMs,
  // Below fenceMs, well above a normal round: a renew answered late by a busy event loop (a
  // fleet's SSH handshakes) still counts, since the fence counts from when it was sent.
  queryTimeoutMs: 3_000,
};

/** ceil(hosts / replicas): what one replica may hold. */
export function fairShare(hosts: number, replicas: number): number {
  if (hosts <= 0) return 0;
  return Math.ceil(hosts / Math.max(1, replicas));
}

/** Moves per round when rebalancing: gentle, but 2,000 hosts still spread within a minute. */
export function defaultMaxMoves(hosts: number): number {
  return Math.max(16, Math.ceil(hosts / 20));
}

export interface RoundState {
  hosts: number;
  /** Alive replicas (this one included). */
  alive: readonly string[];
  me: string;
  /** Live leases per owner (alive or not). */
  held: ReadonlyMap<string, number>;
  /** Leases nobody holds now (never owned, released or expired). */
  free: number;
  maxMoves: number;
}

/**
 * What this replica does this round: take up to its share from the free leases (no per-round
 * bound: a dead replica's hosts must be re-owned at once), release what it holds over its share,
 * at most maxMoves, and only while an alive replica has room below its share to take them.
 */
export function planRound(s: RoundState): { take: number; release: number } {
  const alive = s.alive.includes(s.me) ? s.alive : [...s.alive, s.me];
  const share = fairShare(s.hosts, alive.length);
  const mine = s.held.get(s.me) ?? 0;
  const take = Math.max(0, Math.min(share - mine, s.free));
  if (mine <= share) return { take, release: 0 };
  const room = alive.filter((r) => r !== s.me).reduce((sum, r) => sum + Math.max(0, share - (s.held.get(r) ?? 0)), 0);
  return { take: 0, release: Math.min(mine - share, s.maxMoves, Math.max(0, room - s.free)) };
}

/**
 * Which alive replica each host goes to first: the hosts sorted by a hash of their name, cut into
 * as many equal runs as there are alive replicas (sorted ids), each run one replica's. Every
 * replica computes the same split from the same alive list, so replicas starting together take
 * disjoint halves in their first rounds instead of racing for random ones, a released host goes
 * to the replica that will keep it, and the runs are never larger than the fair share.
 */
export function preferredOwners(hosts: readonly string[], alive: readonly string[]): Map<string, string> {
  const ids = [...new Set(alive)].sort();
  const out = new Map<string, string>();
  if (!ids.length) return out;
  const ranked = hosts.map((h) => [hash32(h), h] as const).sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
  ranked.forEach(([, h], i) => out.set(h, ids[Math.floor((i * ids.length) / ranked.length)]!));
  return out;
}

/** process.hrtime in milliseconds: monotonic, and the same clock in every thread of the process. */
function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** FNV-1a with a final avalanche (murmur3's fmix32): stable across processes and versions. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** What a lease manager did (replica mode's /healthz; the benchmark prints it). */
export interface LeaseStats {
  rounds: number;
  failedRounds: number;
  renews: number;
  failedRenews: number;
  /** Renew round trips (sent to answer handled, so a busy event loop shows here): last and worst. */
  renewMs: { last: number; max: number };
  /** Longest time between two successful renews' sendings (the fence fires at fenceMs). */
  maxRenewGapMs: number;
  /** Longest round (state read, take or release). */
  maxRoundMs: number;
  fences: number;
  taken: number;
  released: Record<ReleaseReason, number>;
  /** Milliseconds from start() to the first host taken (null: none yet). */
  firstTakeMs: number | null;
}

/** When the owner must have let go of its hosts: fenceMs after it sent its last successful renew. */
export function fenceDeadline(lastRenewSentAt: number | null, fenceMs: number): number | null {
  return lastRenewSentAt === null ? null : lastRenewSentAt + fenceMs;
}

export type ReleaseReason = "fenced" | "lost" | "rebalanced" | "stopped";

export type LeaseEvent =
  | { type: "acquired"; host: string; epoch: number }
  | { type: "released"; host: string; reason: ReleaseReason }
  | { type: "owners" }
  /** This replica became, or stopped being, the one that runs the cluster's singletons. */
  | { type: "leader"; leader: boolean };

/**
 * One more lease, not a host: its holder runs what must run once per cluster (the autoscaler,
 * health history). Same rules as a host lease (renewed with them, fenced with them, epoch).
 */
export const LEADER_LEASE = "@leader";

export interface LeaseManagerOptions {
  /** A connection used by this manager only (a pg.Pool of its own): its failure is this replica's partition. */
  db: Queryable;
  /**
   * The connection the renewals go on (a pool of one, default `db`): a renew must never queue
   * behind a round's reads and takes.
   */
  renewDb?: Queryable;
  /**
   * Renew in a thread of its own on its own connection to this PostgreSQL URL (replica mode): the
   * main loop busy with a fleet's SSH handshakes then delays neither the renewals nor, through
   * the shared time of the last one, the fence's check. The thread renews only while the main
   * thread keeps running (`maxMainStallMs`, default 15 s). Needs the default clock.
   */
  renewThread?: { url: string; maxMainStallMs?: number };
  self: ReplicaInfo;
  hosts: readonly string[];
  timing?: Partial<LeaseTiming>;
  maxMoves?: number;
  /**
   * Hosts that cost nothing to hand over (not connected yet): released to a replica with room
   * beyond `maxMoves`, so a replica that joins a few seconds after another took the whole fleet
   * gets its share before the first one has connected it, not twenty rounds later.
   */
  movable?: (host: string) => boolean;
  /** Monotonic milliseconds (process.hrtime, one clock for every thread, by default); only ever compared with itself. */
  clock?: () => number;
  logger?: Logger;
}

export class LeaseManager {
  readonly timing: LeaseTiming;
  readonly directory: ReplicaDirectory;
  private readonly hostList: string[];
  private readonly hostSet: Set<string>;
  private readonly maxMoves: number;
  private readonly clock: () => number;
  private readonly logger: Logger;
  /** host -> epoch of the leases this replica acts on. */
  private readonly mine = new Map<string, number>();
  /** host -> owner of live leases, as of the last round. */
  private owners = new Map<string, string>();
  private readonly listeners: ListenerSet<LeaseEvent>;
  private lastRenewSentAt: number | null = null;
  private leader = false;
  private fenceTimer: NodeJS.Timeout | null = null;
  private roundTimer: NodeJS.Timeout | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private renewing: Promise<void> | null = null;
  private stopped = false;
  /**
   * Renewals run on their own fixed-rate timer, apart from the rounds: a round under a connect
   * storm (each of its queries waiting for a busy event loop) must not push the next renew past
   * the fence. Renews every min(heartbeat / 2, fence / 4).
   */
  private readonly renewEveryMs: number;
  private lastRenewAttemptAt: number | null = null;
  private lastRoundAt: number | null = null;
  /**
   * Takes and releases in flight, and how many ever started: a renew whose answer overlapped one
   * does not reconcile the hosts (it cannot tell which came first); the next renew does.
   */
  private mutating = 0;
  private mutations = 0;
  /** Hosts free in the last round: one meant for another replica is taken here only if it stays free a round. */
  private freeBefore = new Set<string>();
  private readonly preferred = new Map<string, Map<string, string>>();
  private startedAt: number | null = null;
  /** Renew thread mode: the thread, the times and counters shared with it, the main thread's beat. */
  private thread: { worker: Worker; times: Float64Array; counts: Int32Array; beat: NodeJS.Timeout } | null = null;
  private readonly counters: LeaseStats = {
    rounds: 0,
    failedRounds: 0,
    renews: 0,
    failedRenews: 0,
    renewMs: { last: 0, max: 0 },
    maxRenewGapMs: 0,
    maxRoundMs: 0,
    fences: 0,
    taken: 0,
    released: { fenced: 0, lost: 0, rebalanced: 0, stopped: 0 },
    firstTakeMs: null,
  };

  constructor(private readonly opts: LeaseManagerOptions) {
    this.timing = { ...DEFAULT_LEASE_TIMING, ...opts.timing };
    if (this.timing.fenceMs >= this.timing.leaseMs) throw new Error("fenceMs must be shorter than leaseMs");
    this.renewEveryMs = Math.max(10, Math.floor(Math.min(this.timing.heartbeatMs / 2, this.timing.fenceMs / 4)));
    this.hostList = [...new Set(opts.hosts)];
    this.hostSet = new Set(this.hostList);
    this.maxMoves = opts.maxMoves ?? defaultMaxMoves(this.hostList.length);
    if (opts.clock && opts.renewThread) throw new Error("a renew thread shares the default clock");
    this.clock = opts.clock ?? monotonicMs;
    this.logger = opts.logger ?? pino({ level: "silent" });
    this.listeners = new ListenerSet(this.logger, "lease event");
    this.directory = new ReplicaDirectory(opts.db, opts.self, this.timing.aliveMs, this.timing.startingMs);
  }

  get id(): string {
    return this.opts.self.id;
  }

  /**
   * Registers the hosts and this replica (its first renew beats), then renews on its own timer and
   * runs a round every heartbeat, the first one at once: free hosts are taken now, not a heartbeat
   * later. Replicas booting together do not race for them: each announced itself early in its
   * boot (`directory.announce()`), and a replica leaves the free hosts the split gives to one
   * still starting free for it (doRound), so each takes its own share in its first round.
   */
  async start(): Promise<void> {
    this.startedAt = this.clock();
    // Once, at start: a busy database gets longer than a round's queries do.
    await withTimeout(this.opts.db.query(`insert into host_leases (host) select unnest($1::text[]) on conflict (host) do nothing`, [[...this.hostList, LEADER_LEASE]]), 30_000, "lease setup");
    if (this.opts.renewThread) await this.startThread(this.opts.renewThread);
    else {
      this.lastRenewAttemptAt = this.clock();
      await this.renew(30_000);
      this.scheduleRenew();
    }
    // Fixed rate from here: the first round now.
    this.lastRoundAt = this.clock() - this.timing.heartbeatMs;
    this.schedule();
  }

  /** Lets go of every host (closing them first), then hands the leases back at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.roundTimer) clearTimeout(this.roundTimer);
    if (this.renewTimer) clearTimeout(this.renewTimer);
    await this.stopThread();
    await this.running?.catch(() => undefined);
    await this.renewing?.catch(() => undefined);
    this.dropAll("stopped");
    this.setLeader(false);
    this.clearFence();
    try {
      await this.q(`update host_leases set owner = null, expires_at = now() where owner = $1`, [this.id]);
      await this.directory.leave();
    } catch (err) {
      this.logger.warn({ err }, "leases not handed back; they expire on their own");
    }
  }

  subscribe(listener: (e: LeaseEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  /** The hosts this replica acts on now, with their epochs. */
  owned(): ReadonlyMap<string, number> {
    return this.mine;
  }

  owns(host: string): boolean {
    return this.mine.has(host);
  }

  /** False while this replica cannot renew (fenced, or not yet started): it then watches no host. */
  healthy(): boolean {
    const last = this.lastRenewSent();
    return last !== null && this.clock() - last < this.timing.fenceMs;
  }

  /** Whether this replica holds the leader lease now (runs the cluster's singletons). */
  isLeader(): boolean {
    return this.leader;
  }

  /** Counters and worst times since start (renew latency, gaps, fences, moves). */
  stats(): LeaseStats & { owned: number } {
    return { ...this.counters, renewMs: { ...this.counters.renewMs }, released: { ...this.counters.released }, owned: this.mine.size };
  }

  /** The owner of a host's live lease as of the last round (this replica's own view first). */
  ownerOf(host: string): string | undefined {
    if (this.mine.has(host)) return this.id;
    const o = this.owners.get(host);
    return o === this.id ? undefined : o;
  }

  /**
   * Resolves with the host's owner once one is known (other than `not`: an owner found dead), or
   * undefined after `timeoutMs`.
   */
  waitForOwner(host: string, timeoutMs: number, not?: string): Promise<string | undefined> {
    const current = () => {
      const o = this.ownerOf(host);
      return o === not ? undefined : o;
    };
    const now = current();
    if (now || this.stopped) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = (v: string | undefined) => {
        clearTimeout(timer);
        off();
        resolve(v);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const off = this.subscribe(() => {
        const o = current();
        if (o) done(o);
      });
    });
  }

  /** One round now (tests; the timer runs them otherwise). Rounds never overlap. */
  round(): Promise<void> {
    if (!this.running) {
      const started = this.clock();
      this.counters.rounds++;
      this.running = this.doRound()
        .catch((err: unknown) => {
          this.counters.failedRounds++;
          throw err;
        })
        .finally(() => {
          this.counters.maxRoundMs = Math.max(this.counters.maxRoundMs, Math.round(this.clock() - started));
          this.running = null;
        });
    }
    return this.running;
  }

  /** One renew now (and the heartbeat with it); never two at once. */
  renew(timeoutMs = this.timing.queryTimeoutMs): Promise<void> {
    this.renewing ??= this.doRenew(timeoutMs).finally(() => {
      this.renewing = null;
    });
    return this.renewing;
  }

  /** Fixed rate from the last round's start: a slow round does not stretch the next one's wait. */
  private schedule(): void {
    if (this.stopped) return;
    const delay = Math.max(0, (this.lastRoundAt ?? this.clock()) + this.timing.heartbeatMs - this.clock());
    this.roundTimer = setTimeout(() => {
      this.lastRoundAt = this.clock();
      void this.round().then(
        () => this.schedule(),
        (err: unknown) => {
          this.logger.warn({ err }, "lease round failed");
          this.schedule();
        },
      );
    }, delay);
  }

  private scheduleRenew(): void {
    if (this.stopped) return;
    const delay = Math.max(0, (this.lastRenewAttemptAt ?? this.clock()) + this.renewEveryMs - this.clock());
    this.renewTimer = setTimeout(() => {
      this.lastRenewAttemptAt = this.clock();
      void this.renew().then(
        () => this.scheduleRenew(),
        (err: unknown) => {
          this.logger.warn({ err }, "lease renew failed");
          this.scheduleRenew();
        },
      );
    }, delay);
  }

  private async doRenew(timeoutMs: number): Promise<void> {
    if (this.stopped) return;
    const sentAt = this.clock();
    const quiet = this.mutating === 0;
    const seq = this.mutations;
    this.counters.renews++;
    let renewed: { host: string; epoch: string }[];
    try {
      // One statement: heartbeat and renew commit together.
      renewed = await this.q<{ host: string; epoch: string }>(
        `with beat as (
           insert into cluster_replicas (id, internal_url, started_at, heartbeat_at) values ($1, $2, now(), now())
           on conflict (id) do update set internal_url = excluded.internal_url, heartbeat_at = now()
         )
         update host_leases set expires_at = now() + $3 * interval '1 millisecond' where owner = $1 returning host, epoch`,
        [this.id, this.opts.self.internalUrl, this.timing.leaseMs],
        { db: this.opts.renewDb ?? this.opts.db, timeoutMs },
      );
    } catch (err) {
      this.counters.failedRenews++;
      throw err;
    }
    if (this.stopped) return;
    this.renewed(sentAt, this.clock() - sentAt, renewed, quiet, seq);
  }

  /** A renew's answer (from this loop or the renew thread): the fence moves on, the hosts are reconciled. */
  private renewed(sentAt: number, tookMs: number, renewed: { host: string; epoch: string }[], quiet: boolean, seq: number): void {
    const took = Math.round(tookMs);
    this.counters.renewMs.last = took;
    this.counters.renewMs.max = Math.max(this.counters.renewMs.max, took);
    if (this.lastRenewSentAt !== null && sentAt > this.lastRenewSentAt) this.counters.maxRenewGapMs = Math.max(this.counters.maxRenewGapMs, Math.round(sentAt - this.lastRenewSentAt));
    this.renewedAt(sentAt);
    // A take or release overlapped this renew: which one the database saw first is unknown here.
    if (!quiet || this.mutating > 0 || seq !== this.mutations) return;
    const held = new Map<string, number>();
    for (const r of renewed) if (this.hostSet.has(r.host)) held.set(r.host, Number(r.epoch));
    // What the database says is ours is what we act on: lost ones go, ones kept through a fence come back.
    for (const host of [...this.mine.keys()]) if (!held.has(host)) this.drop(host, "lost");
    for (const [host, epoch] of held) if (!this.mine.has(host)) this.acquire(host, epoch);
    this.setLeader(renewed.some((r) => r.host === LEADER_LEASE));
  }

  private async doRound(): Promise<void> {
    if (this.stopped) return;
    // Leases before the replicas: a lease read as expired belongs to a replica already read as dead.
    const leases = await this.q<{ host: string; owner: string | null; live: boolean }>(`select host, owner, (owner is not null and expires_at > now()) as live from host_leases`);
    const alive = (await this.directory.refresh()).map((r) => r.id);
    // Announced, booting, not renewing yet: their share of the free hosts is left to them (below).
    const starting = this.directory.starting().filter((r) => !alive.includes(r));
    if (this.stopped) return;
    const owners = new Map<string, string>();
    const counts = new Map<string, number>();
    const freeNow: string[] = [];
    const orphaned = new Set<string>();
    let leaderHeld = false;
    for (const l of leases) {
      if (l.host === LEADER_LEASE) leaderHeld = l.live;
      if (!this.hostSet.has(l.host)) continue;
      if (l.live && l.owner) {
        owners.set(l.host, l.owner);
        counts.set(l.owner, (counts.get(l.owner) ?? 0) + 1);
      } else {
        freeNow.push(l.host);
        // Expired under an owner (it died or was cut off): re-owned by the alive replicas at once.
        if (l.owner) orphaned.add(l.host);
      }
    }
    for (const h of this.mine.keys()) owners.set(h, this.id);
    this.owners = owners;
    if (!leaderHeld && !this.leader) {
      const won = await this.mutate(() =>
        this.q(
          `update host_leases set owner = $1, epoch = epoch + 1, expires_at = now() + $2 * interval '1 millisecond'
            where host = $3 and (owner is null or expires_at <= now()) returning epoch`,
          [this.id, this.timing.leaseMs, LEADER_LEASE],
        ),
      );
      if (this.stopped) return;
      if (won.length) this.setLeader(true);
    }
    const everyone = alive.includes(this.id) ? alive : [...alive, this.id];
    const preferred = this.preferredOwners(everyone);
    // Which free host is whose to take: for a host nobody holds (never taken, or handed back) the
    // split counts the replicas still starting too; a dead owner's expired host goes by the alive
    // ones only (re-owned at once, as ever), and a released host (below) only ever goes to an
    // alive replica. Once a starting replica beats, the alive list is what its split already was.
    const split = starting.length ? this.preferredOwners([...everyone, ...starting]) : preferred;
    const booting = new Set(starting);
    const splitOf = (h: string) => (orphaned.has(h) ? preferred : split).get(h)!;
    const movable = this.opts.movable ?? (() => false);
    const cheap = [...this.mine.keys()].filter((h) => movable(h)).length;
    const plan = planRound({ hosts: this.hostList.length, alive: everyone, me: this.id, held: counts, free: freeNow.length, maxMoves: this.maxMoves + cheap });
    const wasFree = this.freeBefore;
    this.freeBefore = new Set(freeNow);
    const share = fairShare(this.hostList.length, everyone.length);
    const room = (r: string) => (counts.get(r) ?? 0) < share;
    if (plan.take > 0) {
      // Ours by the split first; one meant for another alive replica once it stayed free a round,
      // or at once when that replica is full (a dead replica's hosts must not wait a round for
      // nobody); a free one meant for a replica still starting: not while it starts (startingMs
      // after it last said so at most).
      const ours = freeNow.filter((h) => splitOf(h) === this.id);
      const others = freeNow.filter((h) => {
        const p = splitOf(h);
        return p !== this.id && !booting.has(p) && (wasFree.has(h) || !room(p));
      });
      const want = [...ours, ...others].slice(0, plan.take);
      if (want.length) {
        const taken = await this.mutate(() =>
          this.q<{ host: string; epoch: string }>(
            `with free as (
               select host from host_leases
                where host = any($2::text[]) and (owner is null or expires_at <= now())
                for update skip locked
             )
             update host_leases l set owner = $1, epoch = l.epoch + 1, expires_at = now() + $3 * interval '1 millisecond'
               from free where l.host = free.host returning l.host, l.epoch`,
            [this.id, want, this.timing.leaseMs],
          ),
        );
        if (this.stopped) return;
        for (const t of taken) {
          this.owners.set(t.host, this.id);
          this.acquire(t.host, Number(t.epoch));
        }
        if (taken.length) {
          this.counters.taken += taken.length;
          this.counters.firstTakeMs ??= Math.round(this.clock() - (this.startedAt ?? 0));
          this.logger.info({ taken: taken.length, owned: this.mine.size }, "took host leases");
        }
      }
    } else if (plan.release > 0) {
      // Those the split gives to a replica with room go first: it keeps them, nothing moves twice.
      const rank = (h: string) => {
        const p = preferred.get(h);
        return (p && p !== this.id && room(p) ? 0 : p !== this.id ? 2 : 4) + (movable(h) ? 0 : 1);
      };
      // Beyond maxMoves only hosts that cost nothing to move.
      const ranked = [...this.mine.keys()].sort((a, b) => rank(a) - rank(b));
      const hosts: string[] = [];
      let costly = 0;
      for (const h of ranked) {
        if (hosts.length >= plan.release) break;
        if (!movable(h) && costly++ >= this.maxMoves) continue;
        hosts.push(h);
      }
      // Close first, then hand back: the next owner must never find our SSH session still open.
      for (const h of hosts) this.drop(h, "rebalanced");
      await this.mutate(() => this.q(`update host_leases set owner = null, expires_at = now() where owner = $1 and host = any($2::text[])`, [this.id, hosts]));
      for (const h of hosts) this.owners.delete(h);
      this.logger.info({ released: hosts.length, owned: this.mine.size }, "released host leases to rebalance");
    }
    this.emit({ type: "owners" });
  }

  /** The split for this list of replicas (cached: it changes only when a replica comes or goes). */
  private preferredOwners(replicas: readonly string[]): Map<string, string> {
    const key = [...new Set(replicas)].sort().join("\n");
    let owners = this.preferred.get(key);
    if (!owners) {
      // Two splits at most are in use at a time (alive, and alive + starting).
      if (this.preferred.size >= 4) this.preferred.clear();
      owners = preferredOwners(this.hostList, replicas);
      this.preferred.set(key, owners);
    }
    return owners;
  }

  private async mutate<T>(work: () => Promise<T>): Promise<T> {
    this.mutating++;
    this.mutations++;
    if (this.thread) {
      Atomics.add(this.thread.counts, 0, 1);
      Atomics.add(this.thread.counts, 1, 1);
    }
    try {
      return await work();
    } finally {
      this.mutating--;
      if (this.thread) Atomics.sub(this.thread.counts, 0, 1);
    }
  }

  /** When the last successful renew was sent: ours, or the renew thread's if it is newer. */
  private lastRenewSent(): number | null {
    const shared = this.thread?.times[0] ?? 0;
    if (shared > 0 && (this.lastRenewSentAt === null || shared > this.lastRenewSentAt)) return shared;
    return this.lastRenewSentAt;
  }

  private async startThread(spec: { url: string; maxMainStallMs?: number }): Promise<void> {
    const shared = new SharedArrayBuffer(24);
    const times = new Float64Array(shared, 0, 2);
    const counts = new Int32Array(shared, 16, 2);
    times[1] = this.clock();
    // The main thread's beat: the renew thread stops renewing when this stops.
    const beat = setInterval(() => {
      times[1] = this.clock();
    }, 250);
    const worker = new Worker(new URL("./renew-thread.mjs", import.meta.url), {
      workerData: {
        url: spec.url,
        id: this.id,
        internalUrl: this.opts.self.internalUrl,
        leaseMs: this.timing.leaseMs,
        everyMs: this.renewEveryMs,
        timeoutMs: this.timing.queryTimeoutMs,
        maxMainStallMs: spec.maxMainStallMs ?? 15_000,
        shared,
      },
      // Plain JavaScript: no loader needed (a TypeScript loader given to the server is not one a worker can use).
      execArgv: [],
    });
    this.thread = { worker, times, counts, beat };
    let first: ((err?: Error) => void) | null = null;
    const firstAnswer = new Promise<void>((resolve, reject) => {
      first = (err) => (err ? reject(err) : resolve());
    });
    worker.on("message", (m: { type: string; sentAt?: number; tookMs?: number; rows?: { host: string; epoch: string }[]; quiet?: boolean; seq?: number; message?: string }) => {
      if (m.type === "renewed") {
        this.counters.renews++;
        if (!this.stopped) this.renewed(m.sentAt!, m.tookMs!, m.rows!, m.quiet!, m.seq!);
        first?.();
        first = null;
      } else if (m.type === "failed") {
        this.counters.renews++;
        this.counters.failedRenews++;
        this.logger.warn({ err: m.message }, "lease renew failed");
        first?.(new Error(m.message));
        first = null;
      }
    });
    worker.on("error", (err) => {
      // No renewals any more: the fence lets go of the hosts in time.
      this.logger.error({ err }, "lease renew thread failed");
      first?.(err);
      first = null;
    });
    await withTimeout(firstAnswer, 35_000, "first lease renew");
  }

  private async stopThread(): Promise<void> {
    const t = this.thread;
    if (!t) return;
    clearInterval(t.beat);
    const stopped = new Promise<void>((resolve) => t.worker.on("message", (m: { type: string }) => m.type === "stopped" && resolve()));
    t.worker.postMessage({ type: "stop" });
    await withTimeout(stopped, 2_000, "renew thread stop").catch(() => undefined);
    await t.worker.terminate();
    // What the thread renewed last still counts for the last moments (healthy()); nothing renews from now.
  }

  private renewedAt(sentAt: number): void {
    // A slow answer must not move the deadline back.
    if (this.lastRenewSentAt !== null && sentAt < this.lastRenewSentAt) return;
    this.lastRenewSentAt = sentAt;
    this.clearFence();
    const deadline = fenceDeadline(sentAt, this.timing.fenceMs)!;
    this.fenceTimer = setTimeout(() => this.fence(), Math.max(0, deadline - this.clock()));
  }

  private fence(): void {
    this.fenceTimer = null;
    // The renew thread renewed meanwhile (its answer still queued behind a busy loop): not a fence.
    const last = this.lastRenewSent();
    if (last !== null && last !== this.lastRenewSentAt && this.clock() < last + this.timing.fenceMs) return this.renewedAt(last);
    this.setLeader(false);
    if (!this.mine.size) return;
    this.counters.fences++;
    this.logger.warn({ hosts: this.mine.size, sinceRenewMs: this.lastRenewSentAt === null ? null : Math.round(this.clock() - this.lastRenewSentAt) }, "cannot renew host leases: letting go of every host before they expire");
    this.dropAll("fenced");
  }

  private clearFence(): void {
    if (this.fenceTimer) clearTimeout(this.fenceTimer);
    this.fenceTimer = null;
  }

  private setLeader(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.logger.info({ leader }, leader ? "leading the cluster's singletons" : "no longer leading the cluster's singletons");
    this.emit({ type: "leader", leader });
  }

  private acquire(host: string, epoch: number): void {
    this.mine.set(host, epoch);
    this.emit({ type: "acquired", host, epoch });
  }

  private drop(host: string, reason: ReleaseReason): void {
    if (!this.mine.delete(host)) return;
    this.counters.released[reason]++;
    this.emit({ type: "released", host, reason });
  }

  private dropAll(reason: ReleaseReason): void {
    for (const host of [...this.mine.keys()]) this.drop(host, reason);
  }

  private emit(e: LeaseEvent): void {
    this.listeners.emit(e);
  }

  private async q<R extends Record<string, unknown>>(text: string, values?: unknown[], on?: { db?: Queryable; timeoutMs?: number }): Promise<R[]> {
    const { rows } = await withTimeout((on?.db ?? this.opts.db).query<R>(text, values), on?.timeoutMs ?? this.timing.queryTimeoutMs, "lease query");
    return rows;
  }
}
