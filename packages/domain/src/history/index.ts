import { z } from "zod";
import type { HostRecord } from "../fleet.js";
import type { HealthState } from "../health.js";
import type { Operation } from "../operations.js";

/**
 * Health history read back: a timeline of check states, acknowledgements, the NFS VIP's holder
 * over time and operations, so "what changed just before" is one glance. Pure: the server's
 * recorder feeds `VipWatch` from the inventory and the API assembles a `Timeline` from stored rows.
 */

/** The longest range one timeline request may cover (the health history's default retention). */
export const TIMELINE_MAX_RANGE_MS = 30 * 24 * 3600_000;
/** Items one answer carries at most; older ones are paged with `before`. */
export const TIMELINE_MAX_ITEMS = 500;

export const TimelineRange = z
  .object({
    /** Epoch milliseconds. */
    from: z.number().int().nonnegative(),
    to: z.number().int().nonnegative(),
    /** Items up to (not including) this instant and `to`, for the next page (epoch ms). */
    before: z.number().int().nonnegative().optional(),
    limit: z.number().int().min(1).max(TIMELINE_MAX_ITEMS).default(200),
  })
  .refine((r) => r.from < r.to, { message: "the range must end after it starts", path: ["to"] })
  .refine((r) => r.to - r.from <= TIMELINE_MAX_RANGE_MS, { message: "a timeline may span at most 30 days", path: ["from"] });
export type TimelineRange = z.infer<typeof TimelineRange>;

/** An event kept beside the health transitions: acknowledgements and VIP holder changes. */
export interface HistoryEvent {
  at: string;
  kind: "ack" | "unack" | "vip-lost" | "vip-held";
  /** A check id for acks, the VIP address for VIP events. */
  subject: string;
  /** Who acknowledged; the new holder for "vip-held". */
  actor: string | null;
  /** The ack's note; the cause of a VIP change; the previous holder. */
  detail: string;
  /** The host that held the VIP before (VIP events). */
  previous: string | null;
}

/** What the VIP watch reports: one VIP's holder changed. */
export interface VipChange {
  vip: string;
  at: string;
  /** null: nobody holds it now. */
  holder: string | null;
  previous: string | null;
  cause: string;
}

const vipOf = (h: HostRecord) => h.inventory.storage?.nfs?.vip?.address ?? null;

/** Why a host no longer holds the VIP, from what the inventory says about it now. */
export function vipLossCause(h: HostRecord | undefined): string {
  if (!h) return "its holder left the fleet";
  if (h.connection.state !== "online") return `${h.name} stopped answering (${h.connection.state})`;
  const nfs = h.inventory.storage?.nfs;
  const reasons: string[] = [];
  if (nfs && !nfs.serverRunning) reasons.push(`the NFS server stopped on ${h.name}`);
  if (nfs?.keepalivedState === "fault") reasons.push(`keepalived on ${h.name} reports FAULT`);
  else if (nfs?.keepalivedState === "stopped") reasons.push(`keepalived stopped on ${h.name}`);
  return reasons.length ? reasons.join("; ") : `${h.name} released the VIP (keepalived priority)`;
}

/**
 * Follows who holds each NFS VIP. A host holds it when it is online and reports holding it. While
 * a server that reported the VIP is still connecting (a server start), the holder is undetermined
 * and no change is reported; `initial` is the last holder recorded, so a restart reports nothing
 * new when nothing moved.
 */
export class VipWatch {
  private readonly holders: Map<string, string | null>;

  constructor(initial: ReadonlyMap<string, string | null> = new Map()) {
    this.holders = new Map(initial);
  }

  update(hosts: readonly HostRecord[], at: string): VipChange[] {
    const byVip = new Map<string, { holders: string[]; pending: boolean }>();
    for (const h of hosts) {
      const vip = vipOf(h);
      if (!vip) continue;
      const e = byVip.get(vip) ?? { holders: [], pending: false };
      byVip.set(vip, e);
      if (h.connection.state === "connecting") e.pending = true;
      else if (h.connection.state === "online" && h.inventory.storage?.nfs?.vip?.heldHere) e.holders.push(h.name);
    }
    const changes: VipChange[] = [];
    for (const [vip, e] of byVip) {
      const before = this.holders.has(vip) ? this.holders.get(vip)! : undefined;
      // Two holders (split brain) keep the one already known; the health check names both.
      const now = e.holders.length ? (before && e.holders.includes(before) ? before : e.holders.sort()[0]!) : null;
      if (now === null && e.pending) continue;
      if (before === undefined) {
        this.holders.set(vip, now);
        if (now !== null) changes.push({ vip, at, holder: now, previous: null, cause: "first seen" });
        continue;
      }
      if (now === before) continue;
      this.holders.set(vip, now);
      const prevHost = before ? hosts.find((h) => h.name === before) : undefined;
      const cause = before ? vipLossCause(prevHost) : "a server took the VIP";
      changes.push({ vip, at, holder: now, previous: before, cause });
    }
    return changes;
  }

  current(): ReadonlyMap<string, string | null> {
    return this.holders;
  }
}

/** One failover as the timeline shows it: who lost the VIP, who took it, why, and how long it was without a holder. */
export interface Failover {
  vip: string;
  from: string | null;
  to: string | null;
  /** When the previous holder lost it. */
  lostAt: string;
  /** When the next took it; null while nobody holds it. */
  heldAt: string | null;
  /** Time without a holder (ms): 0 when the VIP moved in one step; up to now while still unheld. */
  durationMs: number;
  cause: string;
}

/**
 * Folds VIP events (oldest first) into failovers: a "lost" followed by a "held" is one failover
 * whose duration is the gap; a "held" naming a previous holder without a "lost" moved in one step.
 */
export function failovers(events: readonly HistoryEvent[], now: number): Failover[] {
  const out: Failover[] = [];
  const open = new Map<string, Failover>();
  for (const e of events) {
    if (e.kind === "vip-lost") {
      const f: Failover = { vip: e.subject, from: e.previous, to: null, lostAt: e.at, heldAt: null, durationMs: Math.max(0, now - Date.parse(e.at)), cause: e.detail };
      open.set(e.subject, f);
      out.push(f);
    } else if (e.kind === "vip-held") {
      const f = open.get(e.subject);
      if (f) {
        f.to = e.actor;
        f.heldAt = e.at;
        f.durationMs = Math.max(0, Date.parse(e.at) - Date.parse(f.lostAt));
        open.delete(e.subject);
      } else if (e.previous) {
        out.push({ vip: e.subject, from: e.previous, to: e.actor, lostAt: e.at, heldAt: e.at, durationMs: 0, cause: e.detail });
      }
    }
  }
  return out;
}

/** A stored health transition. */
export interface TransitionRow {
  checkId: string;
  state: HealthState;
  at: string;
  message: string;
}

/** A stretch of time a check spent in one state. */
export interface StateSpan {
  from: number;
  /** null: still in it. */
  to: number | null;
  state: HealthState;
  message: string;
}

export interface TimelineLane {
  /** Check id ("host:kvm1", "storage:vip"), or "vip:<address>" for the holder lane. */
  id: string;
  label: string;
  spans: StateSpan[];
}

export interface TimelineEvent {
  at: number;
  kind: "ack" | "unack" | "failover" | "operation";
  title: string;
  detail: string;
  by: string | null;
  /** The check an ack is about, the operation's id. */
  ref: string | null;
  /** Operations: their state; failovers: "crit" while unheld, "warn" after. */
  tone: "ok" | "warn" | "crit" | "info";
  /** Operations and failovers: when it ended (epoch ms). */
  end: number | null;
}

export interface Timeline {
  from: number;
  to: number;
  lanes: TimelineLane[];
  events: TimelineEvent[];
  failovers: Failover[];
  /** Set when more events exist before the oldest one returned: pass it as `before`. */
  nextBefore: number | null;
}

/**
 * Spans per check inside [from, to] from its transitions (any order). `before` holds each check's
 * last transition before `from`, so a check failing since last week starts the range in "crit".
 */
export function stateSpans(rows: readonly TransitionRow[], before: readonly TransitionRow[], range: { from: number; to: number }): Map<string, StateSpan[]> {
  const byCheck = new Map<string, TransitionRow[]>();
  for (const r of [...before, ...rows]) {
    const list = byCheck.get(r.checkId) ?? [];
    list.push(r);
    byCheck.set(r.checkId, list);
  }
  const out = new Map<string, StateSpan[]>();
  for (const [id, list] of byCheck) {
    list.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const spans: StateSpan[] = [];
    list.forEach((r, i) => {
      const start = Date.parse(r.at);
      const next = list[i + 1];
      const end = next ? Date.parse(next.at) : null;
      if ((end !== null && end <= range.from) || start > range.to) return;
      spans.push({ from: Math.max(start, range.from), to: end === null ? null : Math.min(end, range.to), state: r.state, message: r.message });
    });
    if (spans.length) out.set(id, spans);
  }
  return out;
}

/** Operations that touch a subject: its target, the host running it, a migration's source or destination. */
export function operationTouches(op: Operation, subject: { host?: string; instance?: string; service?: string }): boolean {
  if (subject.instance && op.target.type === "instance" && op.target.name === subject.instance) return true;
  if (subject.service && op.target.type === "service" && op.target.name === subject.service) return true;
  if (subject.host) {
    if (op.host === subject.host || (op.target.type === "host" && op.target.name === subject.host)) return true;
    const p = op.params as { source?: unknown; destination?: unknown };
    if (p.source === subject.host || p.destination === subject.host) return true;
  }
  return !subject.host && !subject.instance && !subject.service;
}

const opTone = (op: Operation): TimelineEvent["tone"] => (op.state === "failed" ? "crit" : op.state === "cancelled" ? "warn" : op.state === "succeeded" ? "ok" : "info");

export function operationEvent(op: Operation): TimelineEvent {
  return {
    at: Date.parse(op.createdAt),
    kind: "operation",
    title: op.summary,
    detail: op.error ?? op.state,
    by: op.requestedBy,
    ref: op.id,
    tone: opTone(op),
    end: op.finishedAt ? Date.parse(op.finishedAt) : null,
  };
}

export function ackEvent(e: HistoryEvent): TimelineEvent {
  return {
    at: Date.parse(e.at),
    kind: e.kind === "ack" ? "ack" : "unack",
    title: e.kind === "ack" ? `${e.actor ?? "someone"} acknowledged ${e.subject}` : `${e.actor ?? "someone"} took back the acknowledgement of ${e.subject}`,
    detail: e.detail,
    by: e.actor,
    ref: e.subject,
    tone: "info",
    end: null,
  };
}

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`);

export function failoverEvent(f: Failover): TimelineEvent {
  const moved = f.to ? `VIP ${f.vip} moved ${f.from ? `from ${f.from} ` : ""}to ${f.to}` : `VIP ${f.vip} lost by ${f.from ?? "its holder"}`;
  return {
    at: Date.parse(f.lostAt),
    kind: "failover",
    title: moved,
    detail: `${f.cause}; ${!f.heldAt ? `no holder for ${seconds(f.durationMs)} so far` : f.durationMs < 1000 ? "taken over at once (no second without a holder)" : `without a holder for ${seconds(f.durationMs)}`}`,
    by: null,
    ref: f.vip,
    tone: f.heldAt ? "warn" : "crit",
    end: f.heldAt ? Date.parse(f.heldAt) : null,
  };
}

/** The VIP holder lane: "ok" spans name the holder, "crit" spans have none. */
export function vipLane(vip: string, events: readonly HistoryEvent[], before: HistoryEvent | null, range: { from: number; to: number }): TimelineLane {
  const rows: TransitionRow[] = [];
  const toRow = (e: HistoryEvent): TransitionRow => ({
    checkId: vip,
    state: e.kind === "vip-held" ? "ok" : "crit",
    at: e.at,
    message: e.kind === "vip-held" ? `held by ${e.actor}` : `no holder: ${e.detail}`,
  });
  for (const e of events) if (e.subject === vip && (e.kind === "vip-held" || e.kind === "vip-lost")) rows.push(toRow(e));
  const spans = stateSpans(rows, before ? [toRow(before)] : [], range).get(vip) ?? [];
  return { id: `vip:${vip}`, label: `VIP ${vip} holder`, spans };
}

/** Newest first, bounded: the page and the cursor for the next one. */
export function pageEvents(events: TimelineEvent[], limit: number): { events: TimelineEvent[]; nextBefore: number | null } {
  const sorted = [...events].sort((a, b) => b.at - a.at);
  const page = sorted.slice(0, limit);
  return { events: page, nextBefore: sorted.length > limit ? page[page.length - 1]!.at : null };
}
