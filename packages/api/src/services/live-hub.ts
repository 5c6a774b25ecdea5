import { randomBytes } from "node:crypto";
import type { HealthCheck, LiveEvent, Operation, Viewer } from "@nimbus/domain";
import type { FleetEvent, FleetView } from "@nimbus/fleet";
import { scopeFindings, scopeTopology, storageOverview } from "@nimbus/domain";
import type { TopologySnapshot } from "./topology.js";
import type { TenantService } from "../deps.js";
import { hostSummary, instancesFor, isStaff, maskHost, networkOf, operationFor, swarmOverview } from "./projections.js";

/** Which viewers an event is for: all staff, or the members of one tenant. */
type Audience = "staff" | `tenant:${string}`;
const audienceOf = (v: Pick<Viewer, "role" | "tenant">): Audience => (isStaff(v) ? "staff" : `tenant:${v.tenant ?? ""}`);

interface Stored {
  seq: number;
  audience: Audience;
  event: LiveEvent;
}

export interface LiveMessage {
  id: string;
  event: LiveEvent;
}

interface Subscriber {
  viewer: Viewer;
  audience: Audience;
  queue: LiveMessage[];
  wake: (() => void) | null;
  overflowed: boolean;
  /** Set when the viewer's session ended or their rights changed: the stream stops. */
  revoked: boolean;
}

export interface StreamOptions {
  /** Asks whether the session behind this stream is still valid (not signed out, expired or disabled). */
  revalidate?: () => Promise<boolean>;
  revalidateMs?: number;
}

/** Thrown out of a stream whose viewer lost the right to it; the API turns it into UNAUTHORIZED. */
export class StreamRevoked extends Error {}

const RING = 4096;
const MAX_QUEUE = 10_000;

/**
 * Turns fleet, operation and health changes into per-audience live events and fans them out.
 * Changes are coalesced for a few milliseconds, projected once per audience (not per browser),
 * and dropped when they would not change what that audience already has.
 */
export class LiveHub {
  private readonly bootId = randomBytes(4).toString("hex");
  private seq = 0;
  private readonly ring: Stored[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private readonly dirtyHosts = new Map<string, Set<string>>();
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly lastSent = new Map<string, string>();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly fleet: FleetView,
    private readonly tenants: TenantService,
    private readonly coalesceMs = 15,
  ) {}

  attach(sources: {
    operations: { subscribe(l: (op: Operation) => void): () => void };
    health: { subscribe(l: (c: HealthCheck[]) => void): () => void };
    topology: { subscribe(l: (s: TopologySnapshot) => void): () => void };
  }) {
    this.unsubscribe.push(sources.topology.subscribe((s) => this.onTopology(s)));
    this.unsubscribe.push(this.fleet.subscribe((e) => this.onFleet(e)));
    this.unsubscribe.push(sources.operations.subscribe((op) => this.onOperation(op)));
    this.unsubscribe.push(sources.health.subscribe((checks) => this.publish("staff", "health", { type: "health", checks })));
  }

  detach() {
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const s of this.subscribers) s.wake?.();
  }

  subscriberCount() {
    return this.subscribers.size;
  }

  private onFleet(e: FleetEvent) {
    if (e.type !== "host") return;
    const set = this.dirtyHosts.get(e.host.name) ?? new Set<string>();
    for (const c of e.changed) set.add(c);
    this.dirtyHosts.set(e.host.name, set);
    this.flushTimer ??= setTimeout(() => this.flush(), this.coalesceMs);
  }

  private onOperation(op: Operation) {
    for (const audience of this.audiences()) {
      const viewer = viewerOf(audience);
      const visible = operationFor(viewer, op);
      if (visible) this.publish(audience, null, { type: "operation", operation: visible });
    }
  }

  private onTopology(s: TopologySnapshot) {
    for (const audience of this.audiences()) {
      if (audience !== "staff") {
        // Tell a tenant only when its own part changed.
        const scoped = scopeTopology(s.topology, audience.slice("tenant:".length));
        const json = JSON.stringify([scoped, scopeFindings(s.findings, scoped)]);
        const key = `${audience}|topology`;
        if (this.lastSent.get(key) === json) continue;
        this.lastSent.set(key, json);
      }
      this.publish(audience, null, { type: "topology", version: s.version });
    }
  }

  private flush() {
    this.flushTimer = null;
    const dirty = [...this.dirtyHosts];
    this.dirtyHosts.clear();
    const audiences = this.audiences();
    const directory = this.tenants.directory();
    let swarmChanged = false;
    let storageChanged = false;
    for (const [name, changed] of dirty) {
      const host = this.fleet.host(name);
      if (!host) continue;
      if (host.inventory.swarm || changed.has("swarm")) swarmChanged ||= changed.has("swarm") || changed.has("connection");
      if (changed.has("storage") || (changed.has("connection") && host.inventory.storage)) storageChanged = true;
      for (const audience of audiences) {
        const viewer = viewerOf(audience);
        if (audience === "staff") {
          this.publish(audience, `host:${name}`, { type: "host", summary: hostSummary(host) });
          if (changed.has("net") || changed.has("connection")) this.publish(audience, `net:${name}`, { type: "host-network", network: networkOf(host) });
        }
        if (changed.has("virt") || changed.has("connection")) {
          const instances = instancesFor(viewer, host, directory);
          // A tenant never hears of a host that runs none of its instances, not even that it changed.
          if (audience !== "staff" && !instances.length && !this.lastSent.has(`${audience}|inst:${name}`)) continue;
          this.publish(audience, `inst:${name}`, { type: "host-instances", host: audience === "staff" ? name : maskHost(name), instances });
        }
      }
    }
    if (swarmChanged) {
      const hosts = this.fleet.hosts();
      for (const audience of audiences) this.publish(audience, "swarm", { type: "swarm", swarm: swarmOverview(hosts, viewerOf(audience)) });
    }
    if (storageChanged && audiences.includes("staff")) this.publish("staff", "storage", { type: "storage", storage: storageOverview(this.fleet.hosts()) });
  }

  /** Records and delivers an event unless `key` says the audience already has this exact state. */
  private publish(audience: Audience, key: string | null, event: LiveEvent) {
    if (key) {
      const json = JSON.stringify(event);
      const k = `${audience}|${key}`;
      if (this.lastSent.get(k) === json) return;
      this.lastSent.set(k, json);
    }
    const stored: Stored = { seq: ++this.seq, audience, event };
    this.ring.push(stored);
    if (this.ring.length > RING) this.ring.splice(0, this.ring.length - RING);
    const id = `${this.bootId}:${stored.seq}`;
    for (const s of this.subscribers) {
      if (s.audience === audience) this.deliver(s, { id, event });
    }
  }

  private deliver(s: Subscriber, msg: LiveMessage) {
    if (s.queue.length >= MAX_QUEUE) {
      // A browser that stopped reading gets a reset instead of an unbounded queue.
      s.overflowed = true;
      s.queue.length = 0;
      s.queue.push({ id: msg.id, event: { type: "reset" } });
    } else s.queue.push(msg);
    s.wake?.();
  }

  private audiences(): Audience[] {
    const set = new Set<Audience>(["staff"]);
    for (const s of this.subscribers) set.add(s.audience);
    return [...set];
  }

  /**
   * The stream one browser reads. With a last event id from this process still in the ring, it
   * replays what the browser missed; otherwise it starts with a reset (refetch once).
   */
  /** Ends every stream of a user at once (disabled, role or tenant changed): they must subscribe again. */
  revokeUser(userId: string) {
    for (const s of this.subscribers) {
      if (s.viewer.userId !== userId) continue;
      s.revoked = true;
      s.wake?.();
    }
  }

  async *stream(viewer: Viewer, lastEventId: string | null | undefined, signal: AbortSignal | undefined, opts: StreamOptions = {}): AsyncGenerator<LiveMessage> {
    const sub: Subscriber = { viewer, audience: audienceOf(viewer), queue: [], wake: null, overflowed: false, revoked: false };
    const [boot, seqText] = (lastEventId ?? "").split(":");
    const since = Number(seqText);
    const oldest = this.ring[0]?.seq ?? this.seq + 1;
    if (boot === this.bootId && Number.isFinite(since) && since >= oldest - 1) {
      for (const st of this.ring) if (st.seq > since && st.audience === sub.audience) sub.queue.push({ id: `${this.bootId}:${st.seq}`, event: st.event });
    } else {
      sub.queue.push({ id: `${this.bootId}:${this.seq}`, event: { type: "reset" } });
    }
    this.subscribers.add(sub);
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
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (sub.wake = resolve));
        sub.wake = null;
      }
    } finally {
      if (check) clearInterval(check);
      signal?.removeEventListener("abort", onAbort);
      this.subscribers.delete(sub);
    }
  }
}

const viewerOf = (a: Audience): Pick<Viewer, "role" | "tenant"> =>
  a === "staff" ? { role: "oncall", tenant: null } : { role: "tenant", tenant: a.slice("tenant:".length) };

