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
  /** Queries of one round give up after this long (a cut connection must not hang the round). */
  queryTimeoutMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = {
  heartbeatMs: REPLICA_TIMING.heartbeatMs,
  leaseMs: 6_000,
  fenceMs: 4_000,
  aliveMs: REPLICA_TIMING.aliveMs,
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
  self: ReplicaInfo;
  hosts: readonly string[];
  timing?: Partial<LeaseTiming>;
  maxMoves?: number;
  /** Monotonic milliseconds (performance.now by default); only ever compared with itself. */
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
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly opts: LeaseManagerOptions) {
    this.timing = { ...DEFAULT_LEASE_TIMING, ...opts.timing };
    if (this.timing.fenceMs >= this.timing.leaseMs) throw new Error("fenceMs must be shorter than leaseMs");
    this.hostList = [...new Set(opts.hosts)];
    this.hostSet = new Set(this.hostList);
    this.maxMoves = opts.maxMoves ?? defaultMaxMoves(this.hostList.length);
    this.clock = opts.clock ?? (() => performance.now());
    this.logger = opts.logger ?? pino({ level: "silent" });
    this.listeners = new ListenerSet(this.logger, "lease event");
    this.directory = new ReplicaDirectory(opts.db, opts.self, this.timing.aliveMs);
  }

  get id(): string {
    return this.opts.self.id;
  }

  /**
   * Registers the hosts and this replica, then runs a round every heartbeat. The first round only
   * beats: replicas started together see each other before anyone takes a share.
   */
  async start(): Promise<void> {
    // Once, at start: a busy database gets longer than a round's queries do.
    await withTimeout(this.opts.db.query(`insert into host_leases (host) select unnest($1::text[]) on conflict (host) do nothing`, [[...this.hostList, LEADER_LEASE]]), 30_000, "lease setup");
    await withTimeout(this.directory.heartbeat(), 30_000, "first heartbeat");
    this.schedule();
  }

  /** Lets go of every host (closing them first), then hands the leases back at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.roundTimer) clearTimeout(this.roundTimer);
    await this.running?.catch(() => undefined);
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
    return this.lastRenewSentAt !== null && this.clock() - this.lastRenewSentAt < this.timing.fenceMs;
  }

  /** Whether this replica holds the leader lease now (runs the cluster's singletons). */
  isLeader(): boolean {
    return this.leader;
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
      this.running = this.doRound().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private schedule(delayMs = this.timing.heartbeatMs): void {
    if (this.stopped) return;
    this.roundTimer = setTimeout(() => {
      void this.round().then(
        () => this.schedule(),
        (err: unknown) => {
          // Try again soon: the fence deadline does not wait for the next regular round.
          this.logger.warn({ err }, "lease round failed");
          this.schedule(Math.min(this.timing.heartbeatMs, 500));
        },
      );
    }, delayMs);
  }

  private async doRound(): Promise<void> {
    if (this.stopped) return;
    const sentAt = this.clock();
    // One statement: heartbeat and renew commit together.
    const renewed = await this.q<{ host: string; epoch: string }>(
      `with beat as (
         insert into cluster_replicas (id, internal_url, started_at, heartbeat_at) values ($1, $2, now(), now())
         on conflict (id) do update set internal_url = excluded.internal_url, heartbeat_at = now()
       )
       update host_leases set expires_at = now() + $3 * interval '1 millisecond' where owner = $1 returning host, epoch`,
      [this.id, this.opts.self.internalUrl, this.timing.leaseMs],
    );
    if (this.stopped) return;
    this.renewedAt(sentAt);
    const held = new Map<string, number>();
    for (const r of renewed) if (this.hostSet.has(r.host)) held.set(r.host, Number(r.epoch));
    // What the database says is ours is what we act on: lost ones go, ones kept through a fence come back.
    for (const host of [...this.mine.keys()]) if (!held.has(host)) this.drop(host, "lost");
    for (const [host, epoch] of held) if (!this.mine.has(host)) this.acquire(host, epoch);
    this.setLeader(renewed.some((r) => r.host === LEADER_LEASE));

    const alive = await this.directory.refresh();
    const leases = await this.q<{ host: string; owner: string | null; live: boolean }>(`select host, owner, (owner is not null and expires_at > now()) as live from host_leases`);
    const owners = new Map<string, string>();
    const counts = new Map<string, number>();
    let free = 0;
    let leaderHeld = false;
    for (const l of leases) {
      if (l.host === LEADER_LEASE) leaderHeld = l.live;
      if (!this.hostSet.has(l.host)) continue;
      if (l.live && l.owner) {
        owners.set(l.host, l.owner);
        counts.set(l.owner, (counts.get(l.owner) ?? 0) + 1);
      } else free++;
    }
    this.owners = owners;
    if (!leaderHeld && !this.leader) {
      const won = await this.q(
        `update host_leases set owner = $1, epoch = epoch + 1, expires_at = now() + $2 * interval '1 millisecond'
          where host = $3 and (owner is null or expires_at <= now()) returning epoch`,
        [this.id, this.timing.leaseMs, LEADER_LEASE],
      );
      if (this.stopped) return;
      if (won.length) this.setLeader(true);
    }
    const plan = planRound({ hosts: this.hostList.length, alive: alive.map((r) => r.id), me: this.id, held: counts, free, maxMoves: this.maxMoves });
    if (plan.take > 0) {
      const taken = await this.q<{ host: string; epoch: string }>(
        `with free as (
           select host from host_leases
            where host = any($2::text[]) and (owner is null or expires_at <= now())
            order by random() limit $3 for update skip locked
         )
         update host_leases l set owner = $1, epoch = l.epoch + 1, expires_at = now() + $4 * interval '1 millisecond'
           from free where l.host = free.host returning l.host, l.epoch`,
        [this.id, this.hostList, plan.take, this.timing.leaseMs],
      );
      if (this.stopped) return;
      for (const t of taken) {
        this.owners.set(t.host, this.id);
        this.acquire(t.host, Number(t.epoch));
      }
      if (taken.length) this.logger.info({ taken: taken.length, owned: this.mine.size }, "took host leases");
    } else if (plan.release > 0) {
      // Close first, then hand back: the next owner must never find our SSH session still open.
      const hosts = [...this.mine.keys()].slice(0, plan.release);
      for (const h of hosts) this.drop(h, "rebalanced");
      await this.q(`update host_leases set owner = null, expires_at = now() where owner = $1 and host = any($2::text[])`, [this.id, hosts]);
      for (const h of hosts) this.owners.delete(h);
      this.logger.info({ released: hosts.length, owned: this.mine.size }, "released host leases to rebalance");
    }
    this.emit({ type: "owners" });
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
    this.setLeader(false);
    if (!this.mine.size) return;
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
    this.emit({ type: "released", host, reason });
  }

  private dropAll(reason: ReleaseReason): void {
    for (const host of [...this.mine.keys()]) this.drop(host, reason);
  }

  private emit(e: LeaseEvent): void {
    this.listeners.emit(e);
  }

  private async q<R extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]> {
    const { rows } = await withTimeout(this.opts.db.query<R>(text, values), this.timing.queryTimeoutMs, "lease query");
    return rows;
  }
}
