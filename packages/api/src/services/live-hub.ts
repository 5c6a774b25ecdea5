import { createHash, randomBytes } from "node:crypto";
import type { HealthCheck, HostSummary, LiveEvent, LoadBalancerView, Operation, Viewer } from "@nimbus/domain";
import type { FleetEvent, FleetView } from "@nimbus/fleet";
import { canSeeTenantObject, observedState, scopeFindings, scopeTopology, storageMounts, storageServersOverview } from "@nimbus/domain";
import type { TopologySnapshot } from "./topology.js";
import type { TenantService } from "../deps.js";
import type { HealthChanges } from "./health-monitor.js";
import { hostSummary, instancesFor, isStaff, maskHost, networkOf, operationFor, swarmOverview } from "./projections.js";

/** Which viewers an event is for: all staff, or the members of one tenant. */
type Audience = "staff" | `tenant:${string}`;
const audienceOf = (v: Pick<Viewer, "role" | "tenant">): Audience => (isStaff(v) ? "staff" : `tenant:${v.tenant ?? ""}`);

interface Stored {
  seq: number;
  /** Replica mode: the cluster cursor this event's id carries (see LiveReplaySource), and when it was made (s). */
  cursor?: string;
  at?: number;
  audience: Audience;
  event: LiveEvent;
  /** Length of the event's JSON: what the replay ring and queues count against their budgets. */
  size: number;
}

export interface LiveMessage {
  id: string;
  event: LiveEvent;
}

interface Queued {
  /** Given, or made from `stored` when the event is sent (a flush's last event gets its cursor after the flush). */
  id?: string;
  stored?: Stored;
  event: LiveEvent;
  size: number;
}

/** Replica mode: how long a flush waits for its own hosts' changes to be on the bus, in steps. */
const MAX_PUBLISH_WAIT_MS = 50;
const PUBLISH_WAIT_STEP_MS = 5;

/**
 * Replica mode (cluster/src/replay.ts): a cursor that means the same on every replica, and what
 * changed since one, so a browser that comes back through another replica is replayed, not reset.
 */
export interface LiveReplaySource {
  cursor(): string;
  /**
   * True while changes of this replica's own hosts wait to go out on the bus: a cursor taken now
   * would not count them, and a browser resuming elsewhere from it would be sent them again.
   */
  publishing?(): boolean;
  changesSince(cursor: string): {
    /** `orders`: per changed section, when its change arrived (comparable with the operations' order). */
    hosts: {
      host: string;
      changed: ReadonlySet<string>;
      order: number;
      orders?: ReadonlyMap<string, number>;
      /** The host's instances that arrived, left or changed state since the cursor, with their tenants (as `host-instances` names them live). */
      members?: { added: readonly [string, string | null][]; removed: readonly [string, string | null][]; restated: readonly [string, string | null][] };
    }[];
    operations: { operation: Operation; order: number }[];
  } | null;
}

/** Health checks are evaluated on every replica on its own clock: a replay sends those that changed since this long before the cursor was made. */
const HEALTH_REPLAY_SLACK_MS = 10_000;
/** Health check ids remembered as removed (for a replay's remove list). */
const MAX_REMOVED_CHECKS = 10_000;

const RESET_SIZE = JSON.stringify({ type: "reset" }).length;

/** What the hub keeps per audience; an audience nobody listens to costs nothing per change. */
interface AudienceState {
  subscribers: Set<Subscriber>;
  /** When its last subscriber left (ms). */
  leftAt: number;
  /** Events were skipped since nobody listened: its history in the ring has a hole. */
  missed: boolean;
  /** A replay must start at or after this seq; anything older may lie before a hole. */
  replayFloor: number;
  /** Per key, a digest of the last event sent (not the JSON: thousands of hosts, several keys each). */
  lastSent: Map<string, string>;
}

interface Subscriber {
  viewer: Viewer;
  audience: Audience;
  queue: Queued[];
  /** Sum of the queued events' sizes. */
  queuedSize: number;
  wake: (() => void) | null;
  overflowed: boolean;
  /** Set when the viewer's session ended or their rights changed: the stream stops. */
  revoked: boolean;
}

export interface StreamOptions {
  /** The browser's address, for the per-address stream limit. */
  address?: string | null;
  /** Asks whether the session behind this stream is still valid (not signed out, expired or disabled). */
  revalidate?: () => Promise<boolean>;
  revalidateMs?: number;
}

/** Thrown out of a stream whose viewer lost the right to it; the API turns it into UNAUTHORIZED. */
export class StreamRevoked extends Error {}

/** Thrown when a user or an address already holds as many streams as allowed; the API says TOO_MANY_REQUESTS. */
export class StreamLimitReached extends Error {}

export interface LiveHubOptions {
  /** How long changes are coalesced before they are projected. */
  coalesceMs?: number;
  /**
   * How long an audience is still served after its last browser left, so a quick reconnect
   * (network blip) replays what it missed instead of refetching everything.
   */
  idleGraceMs?: number;
  now?: () => number;
  /** Open streams one user may hold (a browser tab holds one). */
  maxStreamsPerUser?: number;
  /** Open streams one address may hold (several users behind one NAT or proxy). */
  maxStreamsPerAddress?: number;
  /** Replay ring budget: events kept for reconnecting browsers, in characters of JSON. */
  ringSize?: number;
  /** Replica mode: event ids carry a cluster cursor; a browser coming from another replica is replayed from it. */
  replay?: LiveReplaySource;
}

const RING = 4096;
const MAX_QUEUE = 10_000;
/** A browser that stopped reading holds at most this much (characters of JSON) before it gets a reset. */
const MAX_QUEUE_SIZE = 16 * 1024 * 1024;
export const LIVE_DEFAULTS = { maxStreamsPerUser: 8, maxStreamsPerAddress: 32, ringSize: 8 * 1024 * 1024 } as const;
const digest = (json: string) => createHash("sha1").update(json).digest("base64");

/**
 * Turns fleet, operation and health changes into per-audience live events and fans them out.
 * Changes are coalesced for a few milliseconds, projected once per audience (not per browser),
 * and dropped when they would not change what that audience already has. Audiences without a
 * browser are not projected at all; when one comes back, a browser that missed events gets a reset.
 */
export class LiveHub {
  private readonly bootId = randomBytes(4).toString("hex");
  private seq = 0;
  private readonly ring: Stored[] = [];
  private ringUsed = 0;
  private readonly streamsPerUser = new Map<string, number>();
  private readonly streamsPerAddress = new Map<string, number>();
  private readonly audienceStates = new Map<Audience, AudienceState>();
  private readonly dirtyHosts = new Map<string, Set<string>>();
  private flushTimer: NodeJS.Timeout | null = null;
  /** When the oldest host change waiting for the next flush arrived (performance.now()). */
  private dirtySince: number | null = null;
  /** Hears how long each flush's oldest host change waited until it was projected and sent, in ms (/metrics). */
  lagObserver: ((ms: number) => void) | null = null;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly coalesceMs: number;
  private readonly idleGraceMs: number;
  private readonly now: () => number;
  private readonly limits: Required<Pick<LiveHubOptions, "maxStreamsPerUser" | "maxStreamsPerAddress" | "ringSize">>;
  private readonly replay: LiveReplaySource | null;
  /** Replica mode: the cursor as of the last flush (everything applied before it was projected). */
  private flushedCursor = "";
  /** How long this flush has waited for own changes to reach the bus (replica mode). */
  private flushWaitedMs = 0;
  /** Replica mode, during a flush: the last event each audience got in it (its id gets the flush's cursor). */
  private flushLast: Map<Audience, Stored> | null = null;
  private topologyVersion: number | null = null;
  private healthSource: { checks?: () => readonly HealthCheck[] } | null = null;
  /** Replica mode: when each health check last changed and when each removed one went (this.now()). */
  private readonly healthChangedAt = new Map<string, number>();
  private readonly healthRemovedAt = new Map<string, number>();
  /**
   * Per host, the instances it ran at the last flush (name -> tenant and state as pages show it):
   * a host's instances event says which arrived, which left and which changed state, so a
   * browser's paged list learns that its count or order moved at a row it has not loaded (a
   * filter by state gained or lost it). Names and states only (shared with the inventory).
   */
  private readonly members = new Map<string, Map<string, { tenant: string | null; state: string }>>();
  /** `members` holds every host (false after a flush nobody heard: it costs nothing then, and is taken again by the next stream). */
  private membersTaken = false;

  constructor(
    private readonly fleet: FleetView,
    private readonly tenants: TenantService,
    opts: LiveHubOptions = {},
  ) {
    this.coalesceMs = opts.coalesceMs ?? 15;
    this.idleGraceMs = opts.idleGraceMs ?? 5_000;
    this.now = opts.now ?? Date.now;
    this.limits = {
      maxStreamsPerUser: opts.maxStreamsPerUser ?? LIVE_DEFAULTS.maxStreamsPerUser,
      maxStreamsPerAddress: opts.maxStreamsPerAddress ?? LIVE_DEFAULTS.maxStreamsPerAddress,
      ringSize: opts.ringSize ?? LIVE_DEFAULTS.ringSize,
    };
    this.replay = opts.replay ?? null;
    if (this.replay) this.flushedCursor = this.replay.cursor();
  }

  attach(sources: {
    operations: { subscribe(l: (op: Operation) => void): () => void };
    health: { subscribe(l: (c: HealthChanges) => void): () => void; checks?: () => readonly HealthCheck[] };
    topology: { subscribe(l: (s: TopologySnapshot) => void): () => void };
  }) {
    this.healthSource = sources.health;
    this.unsubscribe.push(sources.topology.subscribe((s) => this.onTopology(s)));
    this.unsubscribe.push(this.fleet.subscribe((e) => this.onFleet(e)));
    this.unsubscribe.push(sources.operations.subscribe((op) => this.onOperation(op)));
    this.unsubscribe.push(sources.health.subscribe((c) => this.onHealth(c)));
  }

  /** Load balancers' views (LoadBalancerService, which needs the database: attached when there is one). */
  attachLoadBalancers(source: { subscribe(l: (c: { name: string; lb: LoadBalancerView | null }) => void): () => void }) {
    this.unsubscribe.push(source.subscribe((c) => this.onLoadBalancer(c.name, c.lb)));
  }

  detach() {
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const s of this.allSubscribers()) s.wake?.();
  }

  subscriberCount() {
    return this.allSubscribers().length;
  }

  private allSubscribers(): Subscriber[] {
    return [...this.audienceStates.values()].flatMap((a) => [...a.subscribers]);
  }

  /** Health is for staff only (tenants do not see the health list), and only what changed. */
  private onHealth({ upsert, remove }: HealthChanges) {
    if (this.replay) {
      const now = this.now();
      for (const c of upsert) {
        this.healthChangedAt.delete(c.id);
        this.healthChangedAt.set(c.id, now);
        this.healthRemovedAt.delete(c.id);
      }
      for (const id of remove) {
        this.healthChangedAt.delete(id);
        this.healthRemovedAt.delete(id);
        this.healthRemovedAt.set(id, now);
        if (this.healthRemovedAt.size > MAX_REMOVED_CHECKS) this.healthRemovedAt.delete(this.healthRemovedAt.keys().next().value!);
      }
    }
    if (this.served().includes("staff")) this.publish("staff", { type: "health-changes", upsert, remove });
  }

  /** Load balancers are infrastructure: staff only, one event per balancer whose view changed. */
  private onLoadBalancer(name: string, lb: LoadBalancerView | null) {
    if (this.served().includes("staff")) this.publishIfNew("staff", `lb:${name}`, { type: "load-balancer", name, lb });
  }

  private onFleet(e: FleetEvent) {
    if (e.type !== "host") return;
    const set = this.dirtyHosts.get(e.host.name) ?? new Set<string>();
    for (const c of e.changed) set.add(c);
    this.dirtyHosts.set(e.host.name, set);
    this.dirtySince ??= performance.now();
    this.flushTimer ??= setTimeout(() => this.flush(), this.coalesceMs);
  }

  private onOperation(op: Operation) {
    for (const audience of this.served()) {
      const viewer = viewerOf(audience);
      const visible = operationFor(viewer, op);
      if (visible) this.publish(audience, { type: "operation", operation: visible });
    }
  }

  private onTopology(s: TopologySnapshot) {
    this.topologyVersion = s.version;
    for (const audience of this.served()) {
      if (audience !== "staff") {
        // Tell a tenant only when its own part changed.
        const scoped = scopeTopology(s.topology, audience.slice("tenant:".length));
        if (!this.isNew(audience, "topology", [scoped, scopeFindings(s.findings, scoped)])) continue;
      }
      this.publish(audience, { type: "topology", version: s.version });
    }
  }

  private flush() {
    this.flushTimer = null;
    // Replica mode: the cursor of this flush should count the bus messages carrying its own hosts'
    // changes; those go out a few ms after the change (gathered), later while the bus is busy. Wait
    // for them a little (bounded: past it, a browser resuming elsewhere may get a host twice).
    if (this.replay?.publishing?.() && this.flushWaitedMs < MAX_PUBLISH_WAIT_MS) {
      this.flushWaitedMs += PUBLISH_WAIT_STEP_MS;
      this.flushTimer = setTimeout(() => this.flush(), PUBLISH_WAIT_STEP_MS);
      return;
    }
    this.flushWaitedMs = 0;
    const since = this.dirtySince;
    this.dirtySince = null;
    // Replica mode: taken before projecting (which is synchronous): every change applied so far is in this flush.
    const cursor = this.replay?.cursor() ?? "";
    if (this.replay) this.flushLast = new Map();
    try {
      this.project();
    } finally {
      if (this.replay) {
        // A browser cut off within a flush has not seen all of it: only each audience's last event says "up to here".
        for (const st of this.flushLast!.values()) {
          st.cursor = cursor;
          st.at = this.nowSec();
        }
        this.flushLast = null;
        this.flushedCursor = cursor;
      }
      if (since !== null) this.lagObserver?.(performance.now() - since);
    }
  }

  /**
   * Which instances arrived on and left a host since the last call for it (recorded now); null the
   * first time a host is seen (nothing to compare with: its instances come whole anyway).
   */
  private membersChanged(name: string, record = this.fleet.host(name)): Record<"added" | "removed" | "restated", [string, string | null][]> | null {
    const domains = record?.inventory.virt?.domains ?? [];
    const before = this.members.get(name);
    const now = new Map<string, { tenant: string | null; state: string }>(domains.map((d) => [d.name, { tenant: d.tenant ?? null, state: observedState(record!.connection.state, d.state) }]));
    this.members.set(name, now);
    if (!before) return null;
    const pick = (from: typeof now, keep: (n: string, m: { state: string }) => boolean): [string, string | null][] => [...from].filter(([n, m]) => keep(n, m)).map(([n, m]) => [n, m.tenant]);
    return {
      added: pick(now, (n) => !before.has(n)),
      removed: pick(before, (n) => !now.has(n)),
      restated: pick(now, (n, m) => before.has(n) && before.get(n)!.state !== m.state),
    };
  }

  private project() {
    const dirty = [...this.dirtyHosts];
    this.dirtyHosts.clear();
    const audiences = this.served();
    if (!audiences.length) {
      this.membersTaken = false;
      return;
    }
    const directory = this.tenants.directory();
    const hosts = dirty.flatMap(([name, changed]) => {
      const host = this.fleet.host(name);
      return host ? [{ host, changed }] : [];
    });
    // Which instances arrived on and left each host whose instances changed (from the records just looked up).
    const moved = new Map(hosts.filter(({ changed }) => changed.has("virt") || changed.has("connection")).map(({ host }) => [host.name, this.membersChanged(host.name, host)] as const));
    if (audiences.includes("staff")) {
      // One event for every summary of this flush: the browser updates its host list once, not per host.
      const summaries = hosts.map(({ host }) => hostSummary(host)).filter((summary) => this.isNew("staff", `host:${summary.name}`, summary));
      if (summaries.length) this.publish("staff", { type: "hosts", summaries });
    }
    let swarmChanged = false;
    let storageChanged = false;
    let mountsMayHaveChanged = false;
    for (const { host, changed } of hosts) {
      const name = host.name;
      if (host.inventory.swarm || changed.has("swarm")) swarmChanged ||= changed.has("swarm") || changed.has("connection");
      if (changed.has("storage") || (changed.has("connection") && host.inventory.storage)) {
        storageChanged = true;
        // A storage server's change (a datastore filling, the VIP moving) leaves the mounts as they were.
        if (!host.inventory.storage?.nfs) mountsMayHaveChanged = true;
      }
      for (const audience of audiences) {
        if (audience === "staff" && (changed.has("net") || changed.has("connection"))) this.publishIfNew(audience, `net:${name}`, { type: "host-network", network: networkOf(host) });
        if (changed.has("virt") || changed.has("connection")) {
          const viewer = viewerOf(audience);
          const instances = instancesFor(viewer, host, directory);
          // A tenant never hears of a host that runs none of its instances, not even that it changed.
          if (audience !== "staff" && !instances.length && !this.audienceStates.get(audience)!.lastSent.has(`inst:${name}`)) continue;
          // Names of the viewer's own instances only.
          const seen = (list: [string, string | null][] | undefined) => (list ?? []).filter(([, tenant]) => canSeeTenantObject(viewer, tenant)).map(([n]) => n);
          const delta = moved.get(name);
          const added = seen(delta?.added);
          const removed = seen(delta?.removed);
          const restated = seen(delta?.restated);
          const event: LiveEvent = { type: "host-instances", host: audience === "staff" ? name : maskHost(name), instances };
          // Deduped on the instances alone (a change of arrivals or states always changes them too).
          const json = JSON.stringify(event);
          if (!this.isNew(audience, `inst:${name}`, event, json)) continue;
          if (!added.length && !removed.length && !restated.length) this.publish(audience, event, json.length);
          else {
            const full: LiveEvent = { ...event, ...(added.length ? { added } : {}), ...(removed.length ? { removed } : {}), ...(restated.length ? { restated } : {}) };
            this.publish(audience, full, JSON.stringify(full).length);
          }
        }
      }
    }
    if (swarmChanged) {
      const all = this.fleet.hosts();
      for (const audience of audiences) this.publishIfNew(audience, "swarm", { type: "swarm", swarm: swarmOverview(all, viewerOf(audience)) });
    }
    if (storageChanged && audiences.includes("staff")) {
      // Mounts (one per hypervisor and datastore: thousands) rarely change, datastore usage often:
      // they travel only when they changed, and the browser keeps the ones it has otherwise.
      const all = this.fleet.hosts();
      const rest = storageServersOverview(all);
      const sentMounts = this.audienceStates.get("staff")!.lastSent.has("storage-mounts");
      const mounts = mountsMayHaveChanged || !sentMounts ? storageMounts(all) : null;
      const mountsChanged = mounts !== null && this.isNew("staff", "storage-mounts", mounts);
      if (this.isNew("staff", "storage", rest) || mountsChanged) this.publish("staff", { type: "storage", storage: mountsChanged ? { ...rest, mounts: mounts! } : rest });
    }
  }

  /** Records `value` as what the audience last got under `key`; false when it already had exactly this. */
  private isNew(audience: Audience, key: string, value: unknown, json = JSON.stringify(value)): boolean {
    const sent = this.audienceStates.get(audience)!.lastSent;
    const hash = digest(json);
    if (sent.get(key) === hash) return false;
    sent.set(key, hash);
    return true;
  }

  private publishIfNew(audience: Audience, key: string, event: LiveEvent) {
    // One JSON for the dedupe digest and the ring's size count.
    const json = JSON.stringify(event);
    if (this.isNew(audience, key, event, json)) this.publish(audience, event, json.length);
  }

  /**
   * Records an event in the ring and delivers it to the audience's browsers. The ring keeps at
   * most RING events and at most `ringSize` characters of them: a few storage events of a big
   * fleet weigh more than thousands of small ones.
   */
  private publish(audience: Audience, event: LiveEvent, size = JSON.stringify(event).length) {
    const stored: Stored = { seq: ++this.seq, audience, event, size };
    if (this.replay) {
      // Within a flush: the previous flush's cursor (until the flush ends). Outside one: now, unless host changes wait to be projected.
      stored.cursor = this.flushLast || this.flushTimer ? this.flushedCursor : this.replay.cursor();
      stored.at = this.nowSec();
      this.flushLast?.set(audience, stored);
    }
    this.ring.push(stored);
    this.ringUsed += stored.size;
    let drop = Math.max(0, this.ring.length - RING);
    let used = this.ringUsed;
    for (let i = 0; i < drop; i++) used -= this.ring[i]!.size;
    while (used > this.limits.ringSize && drop < this.ring.length) used -= this.ring[drop++]!.size;
    if (drop) this.ring.splice(0, drop);
    this.ringUsed = used;
    for (const s of this.audienceStates.get(audience)!.subscribers) this.deliver(s, stored);
  }

  private idOf(stored: Stored): string {
    return stored.cursor === undefined ? `${this.bootId}:${stored.seq}` : `${this.bootId}:${stored.seq}:${stored.at}~${stored.cursor}`;
  }

  /** A reset's id: this process's position and, in replica mode, the cursor now (the refetch that follows reads at least this). */
  private resetMessage(): Queued {
    return { id: this.replay ? `${this.bootId}:${this.seq}:${this.nowSec()}~${this.replay.cursor()}` : `${this.bootId}:${this.seq}`, event: { type: "reset" }, size: RESET_SIZE };
  }

  private nowSec(): number {
    return Math.floor(this.now() / 1000);
  }

  private deliver(s: Subscriber, stored: Stored) {
    const size = stored.size;
    if (s.queue.length >= MAX_QUEUE || s.queuedSize + size > MAX_QUEUE_SIZE) {
      // A browser that stopped reading gets a reset instead of an unbounded queue.
      s.overflowed = true;
      s.queue.length = 0;
      s.queue.push(this.replay ? this.resetMessage() : { id: this.idOf(stored), event: { type: "reset" }, size: RESET_SIZE });
      s.queuedSize = RESET_SIZE;
    } else {
      s.queue.push({ stored, event: stored.event, size });
      s.queuedSize += size;
    }
    s.wake?.();
  }

  /**
   * The audiences to project a change for: those with a browser, or whose last browser left
   * within the grace period. Every other known audience misses this change, which is noted.
   */
  private served(): Audience[] {
    const now = this.now();
    const out: Audience[] = [];
    for (const [audience, st] of this.audienceStates) {
      if (st.subscribers.size || now - st.leftAt < this.idleGraceMs) out.push(audience);
      else this.noteMissed(st);
    }
    return out;
  }

  /**
   * Opens a hole in an audience's history: a browser that comes back with an older id cannot be
   * replayed and gets a reset. What was sent before the hole no longer describes what the browser
   * will hold after refetching, so dedupe starts afresh.
   */
  private noteMissed(st: AudienceState) {
    if (st.missed) return;
    st.missed = true;
    st.replayFloor = ++this.seq;
    st.lastSent.clear();
  }

  private stateOf(audience: Audience): AudienceState {
    let st = this.audienceStates.get(audience);
    if (!st) {
      // Nothing was ever projected for a new audience: it starts as if it had missed everything.
      st = { subscribers: new Set(), leftAt: -Infinity, missed: false, replayFloor: 0, lastSent: new Map() };
      this.noteMissed(st);
      this.audienceStates.set(audience, st);
    }
    return st;
  }

  /**
   * Replica mode: what a browser coming from another replica missed, as the current state of each
   * thing that changed since its cursor (sections are whole, so the last state is all the missed
   * events of it amount to), projected for its audience exactly as live events are, in the order
   * the changes arrived. A tenant gets its own instances and operations only: a host is named (by
   * its token) when it runs one of them or one of its operations changed there.
   */
  private catchUp(audience: Audience, changes: NonNullable<ReturnType<LiveReplaySource["changesSince"]>>, cursorAt: number): LiveEvent[] {
    const viewer = viewerOf(audience);
    const staff = audience === "staff";
    const directory = this.tenants.directory();
    const out: LiveEvent[] = [];
    // What this browser now has is what the audience last got, unless other browsers of it are
    // here already (their dedupe must still let a pending change through to them).
    const alone = !this.audienceStates.get(audience)?.subscribers.size;
    const note = (key: string, event: LiveEvent) => {
      if (alone) this.isNew(audience, key, event);
    };
    const ops = changes.operations.flatMap(({ operation, order }) => {
      const visible = operationFor(viewer, operation);
      return visible ? [{ visible, host: operation.host, order }] : [];
    });
    const opHosts = new Set(ops.map((o) => o.host));
    const hosts = changes.hosts.flatMap(({ host, changed, order, orders, members }) => {
      const record = this.fleet.host(host);
      return record ? [{ record, changed, order, orders, members }] : [];
    });
    if (staff && hosts.length) {
      const summaries = hosts.map(({ record }) => hostSummary(record));
      if (alone) for (const summary of summaries) this.isNew(audience, `host:${summary.name}`, summary);
      out.push({ type: "hosts", summaries });
    }
    let swarm = false;
    let storage = false;
    let topology = false;
    // Each event where the change it carries arrived: a host's instances with its virt (or connection)
    // change, its network with its net change, operations with theirs.
    const items: { order: number; event: LiveEvent }[] = ops.map((o) => ({ order: o.order, event: { type: "operation", operation: o.visible } }));
    // Names of the viewer's own instances only (as live events say them).
    const own = (list: readonly [string, string | null][] | undefined) => (list ?? []).filter(([, tenant]) => canSeeTenantObject(viewer, tenant)).map(([n]) => n);
    for (const { record, changed, order, orders, members } of hosts) {
      const at = (...sections: string[]) => Math.max(...sections.map((x) => orders?.get(x) ?? (changed.has(x) ? order : -1)));
      const connection = changed.has("connection");
      if (staff && (changed.has("net") || connection)) {
        const event: LiveEvent = { type: "host-network", network: networkOf(record) };
        note(`net:${record.name}`, event);
        items.push({ order: at("net", "connection"), event });
        topology ||= changed.has("net");
      }
      if (changed.has("virt") || connection) {
        const instances = instancesFor(viewer, record, directory);
        // A tenant whose last instance there left hears of it too (under the host's token).
        if (staff || instances.length || opHosts.has(record.name) || own(members?.removed).length) {
          const event: LiveEvent = { type: "host-instances", host: staff ? record.name : maskHost(record.name), instances };
          note(`inst:${record.name}`, event);
          // What arrived, left or changed state since the cursor, as the live event said it: a paged list reloads a page it cannot place.
          const [added, removed, restated] = [own(members?.added), own(members?.removed), own(members?.restated)];
          const full: LiveEvent = { ...event, ...(added.length ? { added } : {}), ...(removed.length ? { removed } : {}), ...(restated.length ? { restated } : {}) };
          items.push({ order: at("virt", "connection"), event: full });
          topology = true;
        }
      }
      swarm ||= changed.has("swarm") || (connection && !!record.inventory.swarm);
      storage ||= changed.has("storage") || (connection && !!record.inventory.storage);
    }
    for (const { event } of items.sort((a, b) => a.order - b.order)) out.push(event);
    if (swarm) {
      const event: LiveEvent = { type: "swarm", swarm: swarmOverview(this.fleet.hosts(), viewer) };
      note("swarm", event);
      out.push(event);
    }
    if (staff && storage) {
      const all = this.fleet.hosts();
      out.push({ type: "storage", storage: { ...storageServersOverview(all), mounts: storageMounts(all) } });
    }
    if (staff) {
      const health = this.healthSince(cursorAt);
      if (health) out.push(health);
    }
    if (topology && this.topologyVersion !== null) out.push({ type: "topology", version: this.topologyVersion });
    return out;
  }

  /** Health checks are evaluated by each replica on its own clock: those that changed here since a little before the cursor was made. */
  private healthSince(cursorAt: number): LiveEvent | null {
    const checks = this.healthSource?.checks?.();
    if (!checks || !Number.isFinite(cursorAt)) return null;
    const since = Math.max(cursorAt, this.now() - 24 * 3600_000) - HEALTH_REPLAY_SLACK_MS;
    const upsert = checks.filter((c) => (this.healthChangedAt.get(c.id) ?? -Infinity) >= since);
    const remove = [...this.healthRemovedAt].filter(([, at]) => at >= since).map(([id]) => id);
    return upsert.length || remove.length ? { type: "health-changes", upsert, remove } : null;
  }

  private readonly revokeListeners = new Set<(userId: string) => void>();

  /** Hears revokeUser: other streams of the user (consoles) end with the live channel. */
  onRevokeUser(listener: (userId: string) => void): () => void {
    this.revokeListeners.add(listener);
    return () => this.revokeListeners.delete(listener);
  }

  /** Ends every stream of a user at once (disabled, role or tenant changed): they must subscribe again. */
  revokeUser(userId: string) {
    for (const l of this.revokeListeners) l(userId);
    for (const s of this.allSubscribers()) {
      if (s.viewer.userId !== userId) continue;
      s.revoked = true;
      s.wake?.();
    }
  }

  /**
   * The stream one browser reads. With a last event id from this process still in the ring, and
   * no hole in its audience's history since, it replays what the browser missed; otherwise it
   * starts with a reset (refetch once).
   */
  async *stream(viewer: Viewer, lastEventId: string | null | undefined, signal: AbortSignal | undefined, opts: StreamOptions = {}): AsyncGenerator<LiveMessage> {
    const address = opts.address ?? null;
    // Checked and counted before the first await: two streams opening together cannot both slip in.
    if ((this.streamsPerUser.get(viewer.userId) ?? 0) >= this.limits.maxStreamsPerUser)
      throw new StreamLimitReached(`you already have ${this.limits.maxStreamsPerUser} live connections open: close a tab or window of this console`);
    if (address !== null && (this.streamsPerAddress.get(address) ?? 0) >= this.limits.maxStreamsPerAddress)
      throw new StreamLimitReached(`your address already has ${this.limits.maxStreamsPerAddress} live connections open to this console`);
    const sub: Subscriber = { viewer, audience: audienceOf(viewer), queue: [], queuedSize: 0, wake: null, overflowed: false, revoked: false };
    count(this.streamsPerUser, viewer.userId, +1);
    if (address !== null) count(this.streamsPerAddress, address, +1);
    const text = lastEventId ?? "";
    const tilde = text.indexOf("~");
    const [boot, seqText, atText] = (tilde < 0 ? text : text.slice(0, tilde)).split(":");
    const since = Number(seqText);
    const oldest = this.ring[0]?.seq ?? this.seq + 1;
    const audience = this.stateOf(sub.audience);
    if (!this.membersTaken) {
      // Who runs what as this browser starts: the changes it hears of from now on say what arrived and left.
      this.membersTaken = true;
      this.members.clear();
      for (const host of this.fleet.hosts()) this.membersChanged(host.name, host);
    }
    // Replica mode: where a browser coming from another replica (or from a hole here) resumes.
    const changes = this.replay && tilde >= 0 && !(boot === this.bootId && Number.isFinite(since) && since >= oldest - 1 && since >= audience.replayFloor) ? this.replay.changesSince(text.slice(tilde + 1)) : null;
    if (boot === this.bootId && Number.isFinite(since) && since >= oldest - 1 && since >= audience.replayFloor) {
      for (const st of this.ring) {
        if (st.seq <= since || st.audience !== sub.audience) continue;
        sub.queue.push({ stored: st, event: st.event, size: st.size });
        sub.queuedSize += st.size;
      }
    } else if (changes) {
      const events = this.catchUp(sub.audience, changes, Number(atText) * 1000);
      const cursor = this.replay!.cursor();
      const at = this.nowSec();
      // Cut off before the last one, the browser resumes from its old cursor and gets them again; after it, from now.
      events.forEach((event, i) => {
        const size = JSON.stringify(event).length;
        const last = i === events.length - 1;
        sub.queue.push({ id: `${this.bootId}:${this.seq}:${last ? at : atText}~${last ? cursor : text.slice(tilde + 1)}`, event, size });
        sub.queuedSize += size;
      });
    } else {
      sub.queue.push(this.resetMessage());
      sub.queuedSize = RESET_SIZE;
    }
    audience.subscribers.add(sub);
    audience.missed = false;
    const onAbort = () => sub.wake?.();
    signal?.addEventListener("abort", onAbort);
    // A session can end while its stream stays open (sign-out elsewhere, expiry): look again now and then.
    const check = opts.revalidate
      ? setInterval(() => {
          void opts.revalidate!().then(
            (ok) => {
              if (ok) return;
              sub.revoked = true;
              sub.wake?.();
            },
            () => undefined,
          );
        }, opts.revalidateMs ?? 60_000)
      : null;
    check?.unref();
    try {
      while (!signal?.aborted) {
        if (sub.revoked) throw new StreamRevoked("your session ended or your access changed: sign in again");
        const next = sub.queue.shift();
        if (next) {
          sub.queuedSize -= next.size;
          yield { id: next.id ?? this.idOf(next.stored!), event: next.event };
          continue;
        }
        await new Promise<void>((resolve) => (sub.wake = resolve));
        sub.wake = null;
      }
    } finally {
      if (check) clearInterval(check);
      signal?.removeEventListener("abort", onAbort);
      audience.subscribers.delete(sub);
      if (!audience.subscribers.size) audience.leftAt = this.now();
      count(this.streamsPerUser, viewer.userId, -1);
      if (address !== null) count(this.streamsPerAddress, address, -1);
    }
  }
}

/** Adds `delta` to a per-key count, forgetting keys that reach zero. */
function count(map: Map<string, number>, key: string, delta: number) {
  const n = (map.get(key) ?? 0) + delta;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}

const viewerOf = (a: Audience): Pick<Viewer, "role" | "tenant"> =>
  a === "staff" ? { role: "oncall", tenant: null } : { role: "tenant", tenant: a.slice("tenant:".length) };

