import { sql } from "drizzle-orm";
import type { HealthState, HistoryEvent, TransitionRow } from "@nimbus/domain";
import type { Db } from "../open.js";
import { textArray } from "./sql-arrays.js";
import type { Pace } from "./metrics.js";

const rowsOf = <T>(r: unknown) => (r as { rows: T[] }).rows;
const iso = (v: unknown) => (v instanceof Date ? v : new Date(String(v))).toISOString();

interface EventRow {
  at: Date | string;
  kind: HistoryEvent["kind"];
  subject: string;
  actor: string | null;
  previous: string | null;
  detail: string;
}
const toEvent = (r: EventRow): HistoryEvent => ({ at: iso(r.at), kind: r.kind, subject: r.subject, actor: r.actor, previous: r.previous, detail: r.detail });

/** A check id, or every check whose id starts with a prefix ("storage:capacity:"). */
export interface CheckSelector {
  ids?: readonly string[];
  /** Every check (the fleet's timeline): bounded by `limit` on rows read. */
  all?: boolean;
}

/**
 * The timeline's reads and its own events: acknowledgements and VIP holder changes, written as
 * they happen; health transitions (written by HealthHistoryWriter) read back by range.
 */
export class HistoryEvents {
  constructor(private readonly db: Db) {}

  async append(events: readonly HistoryEvent[]): Promise<void> {
    if (!events.length) return;
    await this.db.execute(sql`
      insert into history_events (at, kind, subject, actor, previous, detail)
      select at::timestamptz, kind, subject, actor, previous, detail
      from unnest(${textArray(events.map((e) => e.at))}, ${textArray(events.map((e) => e.kind))}, ${textArray(events.map((e) => e.subject))},
                  ${textArray(events.map((e) => e.actor))}, ${textArray(events.map((e) => e.previous))}, ${textArray(events.map((e) => e.detail))})
           with ordinality as u(at, kind, subject, actor, previous, detail, n)
      order by n`);
  }

  /** Events in [from, to] (oldest first), of the given kinds and subjects (all subjects when omitted), at most `limit` newest. */
  async list(q: { from: number; to: number; kinds: readonly HistoryEvent["kind"][]; subjects?: readonly string[]; limit: number }): Promise<HistoryEvent[]> {
    const rows = rowsOf<EventRow>(
      await this.db.execute(sql`
        select * from (
          select at, kind, subject, actor, previous, detail, id from history_events
          where at >= ${new Date(q.from)} and at <= ${new Date(q.to)} and kind = any(${textArray(q.kinds)})
            ${q.subjects ? sql`and subject = any(${textArray(q.subjects)})` : sql``}
          order by at desc, id desc limit ${q.limit}::int) e
        order by at, id`),
    );
    return rows.map(toEvent);
  }

  /** Each VIP's last recorded event before `at` (its holder when the range starts). */
  async lastVipEvents(before: number | null): Promise<HistoryEvent[]> {
    const rows = rowsOf<EventRow>(
      await this.db.execute(sql`
        select distinct on (subject) at, kind, subject, actor, previous, detail from history_events
        where kind in ('vip-lost', 'vip-held') ${before === null ? sql`` : sql`and at < ${new Date(before)}`}
        order by subject, at desc, id desc`),
    );
    return rows.map(toEvent);
  }

  /** The holder each VIP had at its last recorded change (null: none), so a restart does not record a move that did not happen. */
  async vipHolders(): Promise<Map<string, string | null>> {
    const last = await this.lastVipEvents(null);
    return new Map(last.map((e) => [e.subject, e.kind === "vip-held" ? e.actor : null]));
  }

  /**
   * Health transitions in [from, to] of the selected checks, oldest first, at most `limit` (the
   * newest), and each selected check's last transition before `from` (its state when the range
   * starts). The fleet-wide selection reads only checks that changed in the range.
   */
  async transitions(sel: CheckSelector, range: { from: number; to: number }, limit: number): Promise<{ rows: TransitionRow[]; before: TransitionRow[]; truncated: boolean }> {
    const from = new Date(range.from);
    const to = new Date(range.to);
    const which = sel.all ? sql`` : sql`and check_id = any(${textArray(sel.ids ?? [])})`;
    const inRange = rowsOf<{ check_id: string; state: HealthState; at: Date | string; message: string }>(
      await this.db.execute(sql`
        select * from (
          select check_id, state, at, message, id from health_history
          where at >= ${from} and at <= ${to} ${which}
          order by at desc, id desc limit ${limit + 1}::int) h
        order by at, id`),
    );
    const truncated = inRange.length > limit;
    const kept = truncated ? inRange.slice(1) : inRange;
    const ids = sel.all ? [...new Set(kept.map((r) => r.check_id))] : [...(sel.ids ?? [])];
    const before = ids.length
      ? rowsOf<{ check_id: string; state: HealthState; at: Date | string; message: string }>(
          await this.db.execute(sql`
            select distinct on (check_id) check_id, state, at, message from health_history
            where at < ${from} and check_id = any(${textArray(ids)})
            order by check_id, at desc, id desc`),
        )
      : [];
    const row = (r: { check_id: string; state: HealthState; at: Date | string; message: string }): TransitionRow => ({ checkId: r.check_id, state: r.state, at: iso(r.at), message: r.message });
    return { rows: kept.map(row), before: before.map(row), truncated };
  }

  /** Removes events older than `days`, keeping each VIP's latest (it says who holds it since when). */
  async prune(days: number, batch = 5_000, pace?: Pace): Promise<number> {
    let total = 0;
    for (;;) {
      await pace?.pause();
      const n = Number(
        rowsOf<{ n: number }>(
          await this.db.execute(sql`with doomed as (
            select e.id from history_events e
            where e.at < now() - make_interval(days => ${days}::int)
              and not (e.kind in ('vip-lost', 'vip-held') and not exists (
                select 1 from history_events later
                where later.subject = e.subject and later.kind in ('vip-lost', 'vip-held') and (later.at, later.id) > (e.at, e.id)))
            order by e.id limit ${batch}::int)
            , gone as (delete from history_events where id in (select id from doomed) returning 1)
            select count(*)::int as n from gone`),
        )[0]?.n ?? 0,
      );
      total += n;
      if (n < batch) return total;
    }
  }
}
