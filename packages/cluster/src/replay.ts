import { observedState, type ConnectionState, type DomainState, type Operation } from "@nimbus/domain";
import type { BusMessage, ClusterBus } from "./bus.js";

/**
 * The live channel's cluster cursor (replica mode). Every bus message carries its publisher's boot
 * (origin) and number; a replica's watermark says, per origin, up to which message it has applied
 * (its own origin: how many it published). A live event's id carries the watermark of the replica
 * that sent it, as of the moment everything it had applied was projected. Another replica resumes
 * from it: a host section or an operation whose latest change came in message `n` of origin `o`
 * was already seen by the browser exactly when the cursor's `o` is at least `n` (one origin's
 * messages reach every replica in the same order), so it sends the current state of everything
 * else that changed, and nothing the browser has. What this index forgets (operations beyond its
 * bound) raises a floor: a cursor below it gets `reset`, as a cursor from nowhere does.
 */

type Stamp = { origin: string; n: number; order: number };

/** Instances named with their tenant (the live hub keeps a viewer's own). */
export type NamedInstance = [name: string, tenant: string | null];

/** Which instances arrived on a host, left it, or changed state as pages show it (`observedState`). */
export interface MemberChanges {
  added: NamedInstance[];
  removed: NamedInstance[];
  restated: NamedInstance[];
}

/**
 * One change of a host's instances, with the messages that made it (one per origin, the newest:
 * one origin's messages arrive in order, so a cursor at or past it saw every earlier one too).
 */
type MemberDelta = { stamps: Map<string, number>; added: Map<string, string | null>; removed: Map<string, string | null>; restated: Map<string, string | null> };

/**
 * Deltas kept per host: older ones are merged into the next (a cursor that saw only part of a
 * merged delta gets more names than it missed: its pages reload once more, none is left stale).
 */
const MAX_MEMBER_DELTAS = 8;
/** Instances read from one host's message (the inventory's own bound is lower). */
const MAX_MEMBERS = 10_000;

export interface ReplayChanges {
  /**
   * Hosts with the sections that changed since the cursor (each with when it arrived, as an order), by their newest change;
   * `members`: the instances that arrived, left or changed state since the cursor (absent when none or not known).
   */
  hosts: { host: string; changed: Set<string>; order: number; orders: Map<string, number>; members?: MemberChanges }[];
  /** Operations changed since the cursor, as last published, oldest change first. */
  operations: { operation: Operation; order: number }[];
}

export interface ReplaySource {
  /** This replica's watermark as a cursor (the text after `~` in a live event id). */
  cursor(): string;
  /** Own host changes wait to be published: a cursor now would not count them. */
  publishing(): boolean;
  /** What changed since a cursor; null when it cannot be said (malformed, or older than what is kept). */
  changesSince(cursor: string): ReplayChanges | null;
}

export interface ReplayIndexOptions {
  /** Whether a host is part of the fleet (nothing else is recorded). */
  isHost: (name: string) => boolean;
  /** Operations remembered (the newest changes); one forgotten raises the floor. */
  maxOperations?: number;
  /** Whether own host changes are gathered and not yet published (ClusterFleet). */
  publishing?: () => boolean;
}

/** The most origins a cursor may name, and its most characters (the API bounds the id too). */
export const MAX_CURSOR_ORIGINS = 16;
export const MAX_CURSOR_LENGTH = 1_200;
const ENTRY = /^([A-Za-z0-9._-]{1,64}@[0-9a-f]{8})=(\d{1,15})$/;
const SECTION = /^[a-z-]{1,32}$/;

/** Parses a cursor; null for anything malformed (never throws, never builds more than 16 entries). */
export function parseCursor(text: unknown): Map<string, number> | null {
  if (typeof text !== "string" || !text || text.length > MAX_CURSOR_LENGTH) return null;
  const parts = text.split(",", MAX_CURSOR_ORIGINS + 1);
  if (parts.length > MAX_CURSOR_ORIGINS) return null;
  const out = new Map<string, number>();
  for (const p of parts) {
    const m = ENTRY.exec(p);
    if (!m || out.has(m[1]!)) return null;
    const n = Number(m[2]);
    if (!Number.isSafeInteger(n)) return null;
    out.set(m[1]!, n);
  }
  return out;
}

/** A host's instances from a message's domain list (untrusted shapes skipped, bounded). */
function memberMap(list: readonly unknown[]): Map<string, { tenant: string | null; state: string }> {
  const map = new Map<string, { tenant: string | null; state: string }>();
  for (const d of list.slice(0, MAX_MEMBERS)) {
    const x = d as { name?: unknown; tenant?: unknown; state?: unknown } | null;
    if (x && typeof x.name === "string" && typeof x.state === "string") map.set(x.name, { tenant: typeof x.tenant === "string" ? x.tenant : null, state: x.state });
  }
  return map;
}

export function formatCursor(marks: ReadonlyMap<string, number>): string {
  // The newest origins when there are more than a cursor holds (an older one missing only replays more).
  const entries = [...marks].slice(-MAX_CURSOR_ORIGINS).map(([o, n]) => `${o}=${n}`);
  while (entries.join(",").length > MAX_CURSOR_LENGTH) entries.shift();
  return entries.join(",");
}

export class ReplayIndex implements ReplaySource {
  private order = 0;
  /** Per host, per changed section, the message that last changed it. */
  private readonly hosts = new Map<string, Map<string, Stamp>>();
  /**
   * Per host, its connection state and instances as last published: the message's own list, read
   * into a map (name -> tenant, reported state) only when a later message is compared with it (a
   * fleet's connect, every host's first record, costs nothing here).
   */
  private readonly members = new Map<string, { connection: string; list: readonly unknown[]; map: Map<string, { tenant: string | null; state: string }> | null }>();
  /** Per host, the last changes of its instances (arrived, left, state), oldest first. */
  private readonly memberDeltas = new Map<string, MemberDelta[]>();
  /** Operations by id, oldest change first (re-inserted on every change). */
  private readonly operations = new Map<string, { stamp: Stamp; operation: Operation }>();
  /** Per origin, the newest message number of something forgotten: a cursor below it is too old. */
  private readonly floor = new Map<string, number>();
  private readonly maxOperations: number;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly bus: Pick<ClusterBus, "watermark" | "subscribe" | "onPublished">,
    private readonly opts: ReplayIndexOptions,
  ) {
    this.maxOperations = opts.maxOperations ?? 5_000;
    this.cleanups.push(
      bus.subscribe((m) => this.record(m)),
      bus.onPublished((m) => this.record(m)),
    );
  }

  stop(): void {
    for (const c of this.cleanups.splice(0)) c();
  }

  cursor(): string {
    return formatCursor(this.bus.watermark());
  }

  publishing(): boolean {
    return this.opts.publishing?.() ?? false;
  }

  /** Notes what a message (received, or published by this replica) changes. */
  record(m: BusMessage): void {
    if (!m.origin || !m.n) return;
    const stamp: Stamp = { origin: m.origin, n: m.n, order: ++this.order };
    const p = m.payload as Record<string, unknown> | null;
    if (!p || typeof p !== "object") return;
    if (m.kind === "hosts" && Array.isArray(p["hosts"])) for (const h of p["hosts"] as unknown[]) this.recordHost(h, stamp);
    else if (m.kind === "host") this.recordHost(p, stamp);
    else if (m.kind === "operation") this.recordOperation(p as unknown as Operation, stamp);
  }

  private recordHost(h: unknown, stamp: Stamp): void {
    const msg = h as { host?: unknown; changed?: unknown; base?: { connection?: { state?: unknown } }; sections?: { virt?: { domains?: unknown } | null } } | null;
    if (!msg || typeof msg.host !== "string" || !this.opts.isHost(msg.host) || !Array.isArray(msg.changed)) return;
    let sections = this.hosts.get(msg.host);
    if (!sections) this.hosts.set(msg.host, (sections = new Map()));
    // Bounded by the known section names; a full record (snapshot) counts as a change of each.
    const changed = msg.changed.slice(0, 32);
    for (const c of changed) if (typeof c === "string" && SECTION.test(c)) sections.set(c, stamp);
    if (changed.includes("virt") || changed.includes("connection")) this.recordMembers(msg.host, msg, stamp);
  }

  /**
   * Which instances arrived, left or changed state with this message (as the live hub says it in
   * `host-instances`), so a replay names them too: a browser's paged list learns that a page it has
   * not loaded moved. The first message of a host sets what later ones are compared with.
   */
  private recordMembers(host: string, msg: { base?: { connection?: { state?: unknown } }; sections?: { virt?: { domains?: unknown } | null } }, stamp: Stamp): void {
    const before = this.members.get(host);
    const state = msg.base?.connection?.state;
    const connection = typeof state === "string" ? state : (before?.connection ?? "connecting");
    const virt = msg.sections && "virt" in msg.sections ? msg.sections.virt : undefined;
    if (virt === undefined && (!before || before.connection === connection)) return;
    const list = virt === undefined ? before!.list : Array.isArray(virt?.domains) ? (virt.domains as unknown[]) : [];
    if (!before) return void this.members.set(host, { connection, list, map: null });
    const was = (before.map ??= memberMap(before.list));
    const domains = virt === undefined ? was : memberMap(list);
    this.members.set(host, { connection, list, map: domains });
    const shown = (c: string, s: string) => observedState(c as ConnectionState, s as DomainState);
    const delta: MemberDelta = { stamps: new Map([[stamp.origin, stamp.n]]), added: new Map(), removed: new Map(), restated: new Map() };
    for (const [name, d] of domains) {
      const old = was.get(name);
      if (!old) delta.added.set(name, d.tenant);
      else if (shown(before.connection, old.state) !== shown(connection, d.state)) delta.restated.set(name, d.tenant);
    }
    for (const [name, d] of was) if (!domains.has(name)) delta.removed.set(name, d.tenant);
    if (!delta.added.size && !delta.removed.size && !delta.restated.size) return;
    let log = this.memberDeltas.get(host);
    if (!log) this.memberDeltas.set(host, (log = []));
    log.push(delta);
    if (log.length > MAX_MEMBER_DELTAS) {
      const [oldest, next] = log.splice(0, 2) as [MemberDelta, MemberDelta];
      for (const [o, n] of oldest.stamps) if (!next.stamps.has(o)) next.stamps.set(o, n);
      for (const k of ["added", "removed", "restated"] as const) for (const [name, tenant] of oldest[k]) if (!next[k].has(name)) next[k].set(name, tenant);
      log.unshift(next);
    }
  }

  /** The instances that arrived, left or changed state on a host after the cursor; undefined when none. */
  private membersSince(host: string, seen: (origin: string, n: number) => boolean): MemberChanges | undefined {
    const log = this.memberDeltas.get(host);
    if (!log) return undefined;
    const out = { added: new Map<string, string | null>(), removed: new Map<string, string | null>(), restated: new Map<string, string | null>() };
    let any = false;
    for (const delta of log) {
      if ([...delta.stamps].every(([o, n]) => seen(o, n))) continue;
      any = true;
      for (const k of ["added", "removed", "restated"] as const) for (const [name, tenant] of delta[k]) out[k].set(name, tenant);
    }
    return any ? { added: [...out.added], removed: [...out.removed], restated: [...out.restated] } : undefined;
  }

  private recordOperation(op: Operation, stamp: Stamp): void {
    if (typeof op?.id !== "string" || op.id.length > 200) return;
    this.operations.delete(op.id);
    this.operations.set(op.id, { stamp, operation: op });
    while (this.operations.size > this.maxOperations) {
      const [id, oldest] = this.operations.entries().next().value!;
      this.operations.delete(id);
      this.floor.set(oldest.stamp.origin, Math.max(this.floor.get(oldest.stamp.origin) ?? 0, oldest.stamp.n));
    }
  }

  changesSince(text: string): ReplayChanges | null {
    const cursor = parseCursor(text);
    if (!cursor) return null;
    // From this cluster's present: it names at least one origin this replica has heard from.
    const known = this.bus.watermark();
    if (![...cursor.keys()].some((o) => known.has(o))) return null;
    const seenAt = (origin: string, n: number) => (cursor.get(origin) ?? 0) >= n;
    const seen = (s: Stamp) => seenAt(s.origin, s.n);
    for (const [origin, n] of this.floor) if ((cursor.get(origin) ?? 0) < n) return null;
    const hosts: ReplayChanges["hosts"] = [];
    for (const [host, sections] of this.hosts) {
      let order = 0;
      const orders = new Map<string, number>();
      for (const [section, stamp] of sections) {
        if (seen(stamp)) continue;
        orders.set(section, stamp.order);
        order = Math.max(order, stamp.order);
      }
      if (!orders.size) continue;
      const members = orders.has("virt") || orders.has("connection") ? this.membersSince(host, seenAt) : undefined;
      hosts.push({ host, changed: new Set(orders.keys()), order, orders, ...(members ? { members } : {}) });
    }
    hosts.sort((a, b) => a.order - b.order);
    const operations: ReplayChanges["operations"] = [];
    for (const { stamp, operation } of this.operations.values()) if (!seen(stamp)) operations.push({ operation, order: stamp.order });
    return { hosts, operations };
  }
}
