import { and, desc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Alert, AlertChannelRecord, AlertDeliveryRecord, AlertRule, Silence } from "@nimbus/domain";
import type { Db } from "../open.js";
import { alertChannels, alertDeliveries, alertRules, alertSilences, alerts } from "../schema/alerts.js";

export type StoredChannel = AlertChannelRecord;

/** A firing or resolved alert with the id of its row (a key fires again under a new row). */
export type StoredAlert = Alert & { rowId: string };

export type DeliveryRecord = AlertDeliveryRecord;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toAlert(r: typeof alerts.$inferSelect): StoredAlert {
  return {
    rowId: r.id,
    id: r.key,
    ruleId: r.ruleId,
    ruleName: r.ruleName,
    severity: r.severity as Alert["severity"],
    subject: r.subject,
    category: r.category as Alert["category"],
    target: r.target,
    message: r.message,
    affects: r.affects,
    tenants: r.tenants,
    link: r.link,
    since: r.since.toISOString(),
    firedAt: r.firedAt.toISOString(),
    resolvedAt: iso(r.resolvedAt),
    ack: r.ackBy && r.ackAt ? { by: r.ackBy, at: r.ackAt.toISOString(), note: r.ackNote } : null,
    escalatedAt: iso(r.escalatedAt),
  };
}

const chunks = <T>(list: T[], size: number): T[][] => Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));

/** Every column of an alert's row. */
function insertRow(a: StoredAlert) {
  return {
    id: a.rowId,
    key: a.id,
    ruleId: a.ruleId,
    subject: a.subject,
    category: a.category,
    link: a.link,
    since: new Date(a.since),
    firedAt: new Date(a.firedAt),
    ...mutableRow(a),
  };
}

/** What can change on an alert after it fired, as column values. */
function mutableRow(a: StoredAlert) {
  return {
    ruleName: a.ruleName,
    severity: a.severity,
    target: a.target,
    message: a.message,
    affects: a.affects,
    tenants: a.tenants,
    resolvedAt: a.resolvedAt ? new Date(a.resolvedAt) : null,
    ackBy: a.ack?.by ?? null,
    ackAt: a.ack ? new Date(a.ack.at) : null,
    ackNote: a.ack?.note ?? null,
    escalatedAt: a.escalatedAt ? new Date(a.escalatedAt) : null,
  };
}

/** The same under the columns' names with ISO times, as `jsonb_to_recordset` reads it. */
function mutableRecord(a: StoredAlert) {
  return Object.fromEntries(Object.entries(mutableRow(a)).map(([k, v]) => [alerts[k as keyof ReturnType<typeof mutableRow>].name, v instanceof Date ? v.toISOString() : v]));
}

/** Rules, channels, alerts with their acks and escalations, silences and the delivery log. */
export class AlertStore {
  constructor(
    private readonly db: Db,
    /** Alerts per statement in `saveAlerts` (an insert binds 19 parameters a row; PostgreSQL allows 65,535). */
    private readonly chunk = 1_000,
  ) {}

  /** Seconds a trivial query takes there and back (/metrics' database latency). */
  async latency(): Promise<number> {
    const t = performance.now();
    await this.db.execute(sql`select 1`);
    return (performance.now() - t) / 1000;
  }

  /** Inserts the shipped rules that are not there yet; an admin's edits stay. */
  async seedRules(defaults: readonly AlertRule[]): Promise<void> {
    if (!defaults.length) return;
    await this.db
      .insert(alertRules)
      .values(defaults.map((r) => ({ id: r.id, name: r.name, enabled: r.enabled, severity: r.severity, forSeconds: r.forSeconds, condition: r.condition, channels: r.channels, escalation: r.escalation })))
      .onConflictDoNothing();
  }

  /** The stored rules as they were written (the caller validates them). */
  async rules(): Promise<unknown[]> {
    const rows = await this.db.select().from(alertRules).orderBy(alertRules.id);
    return rows.map((r) => ({ id: r.id, name: r.name, enabled: r.enabled, severity: r.severity, forSeconds: r.forSeconds, condition: r.condition, channels: r.channels, escalation: r.escalation }));
  }

  async putRule(r: AlertRule, by: string): Promise<void> {
    const row = { name: r.name, enabled: r.enabled, severity: r.severity, forSeconds: r.forSeconds, condition: r.condition, channels: r.channels, escalation: r.escalation, updatedBy: by, updatedAt: new Date() };
    await this.db.insert(alertRules).values({ id: r.id, ...row }).onConflictDoUpdate({ target: alertRules.id, set: row });
  }

  async channels(): Promise<StoredChannel[]> {
    const rows = await this.db.select().from(alertChannels).orderBy(alertChannels.id);
    return rows.map((r) => ({ id: r.id, name: r.name, kind: r.kind, enabled: r.enabled, config: r.config as Record<string, unknown>, secret: r.secret, updatedAt: r.updatedAt.toISOString() }));
  }

  async putChannel(c: Omit<StoredChannel, "updatedAt">): Promise<void> {
    const row = { name: c.name, kind: c.kind, enabled: c.enabled, config: c.config, secret: c.secret, updatedAt: new Date() };
    await this.db.insert(alertChannels).values({ id: c.id, ...row }).onConflictDoUpdate({ target: alertChannels.id, set: row });
  }

  async deleteChannel(id: string): Promise<boolean> {
    const gone = await this.db.delete(alertChannels).where(eq(alertChannels.id, id)).returning({ id: alertChannels.id });
    return gone.length > 0;
  }

  async openAlerts(): Promise<StoredAlert[]> {
    return (await this.db.select().from(alerts).where(isNull(alerts.resolvedAt)).orderBy(alerts.firedAt)).map(toAlert);
  }

  async recentAlerts(limit: number): Promise<StoredAlert[]> {
    return (await this.db.select().from(alerts).orderBy(desc(alerts.firedAt)).limit(limit)).map(toAlert);
  }

  async insertAlert(a: StoredAlert): Promise<void> {
    await this.db.insert(alerts).values(insertRow(a));
  }

  /** Writes what can change on an alert after it fired. */
  async updateAlert(a: StoredAlert): Promise<void> {
    await this.db.update(alerts).set(mutableRow(a)).where(eq(alerts.id, a.rowId));
  }

  /**
   * One evaluation round's changes in at most two statements per `chunk` (1,000) alerts, however many fired,
   * changed or resolved (2,000 hosts going down at once used to be 2,000 statements one after the
   * other): first every change to an alert already stored (one `update … from jsonb_to_recordset`),
   * then the new ones (one multi-row insert) as they are at the end of the round. An alert named
   * twice is written once, as last named. Resolving comes before inserting, so a key that is
   * resolved and fires again in one round never has two open rows.
   */
  async saveAlerts(changes: { inserted: readonly StoredAlert[]; updated: readonly StoredAlert[] }): Promise<void> {
    const fresh = new Map(changes.inserted.map((a) => [a.rowId, a]));
    const changed = new Map<string, StoredAlert>();
    for (const a of changes.updated) {
      if (fresh.has(a.rowId)) fresh.set(a.rowId, a);
      else changed.set(a.rowId, a);
    }
    for (const part of chunks([...changed.values()], this.chunk)) {
      const rows = part.map((a) => ({ id: a.rowId, ...mutableRecord(a) }));
      await this.db.execute(sql`update alerts as a set
          rule_name = v.rule_name, severity = v.severity, target = v.target, message = v.message, affects = v.affects,
          tenants = v.tenants, resolved_at = v.resolved_at, ack_by = v.ack_by, ack_at = v.ack_at, ack_note = v.ack_note, escalated_at = v.escalated_at
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id text, rule_name text, severity text, target text, message text, affects jsonb,
          tenants jsonb, resolved_at timestamptz, ack_by text, ack_at timestamptz, ack_note text, escalated_at timestamptz)
        where a.id = v.id`);
    }
    for (const part of chunks([...fresh.values()], this.chunk)) {
      await this.db.insert(alerts).values(part.map(insertRow));
    }
  }

  /** Silences that have not ended by `now`. */
  async activeSilences(now: Date): Promise<Silence[]> {
    const rows = await this.db.select().from(alertSilences).where(gt(alertSilences.endsAt, now)).orderBy(alertSilences.startsAt);
    return rows.map((r) => ({ id: r.id, checks: r.checks, labels: r.labels, startsAt: r.startsAt.toISOString(), endsAt: r.endsAt.toISOString(), createdBy: r.createdBy, comment: r.comment }));
  }

  async putSilence(s: Silence): Promise<void> {
    await this.db.insert(alertSilences).values({ id: s.id, checks: s.checks, labels: s.labels as Record<string, string>, startsAt: new Date(s.startsAt), endsAt: new Date(s.endsAt), createdBy: s.createdBy, comment: s.comment });
  }

  /** Ends a silence now; false when there is no such silence still running. */
  async endSilence(id: string, at: Date): Promise<boolean> {
    const done = await this.db
      .update(alertSilences)
      .set({ endsAt: at })
      .where(and(eq(alertSilences.id, id), gt(alertSilences.endsAt, at)))
      .returning({ id: alertSilences.id });
    return done.length > 0;
  }

  async addDelivery(d: Omit<DeliveryRecord, "id" | "at"> & { at?: string }): Promise<void> {
    await this.db.insert(alertDeliveries).values({ ...d, at: d.at ? new Date(d.at) : new Date() });
  }

  async deliveries(limit: number, channelId?: string): Promise<DeliveryRecord[]> {
    const rows = await this.db
      .select()
      .from(alertDeliveries)
      .where(channelId ? eq(alertDeliveries.channelId, channelId) : undefined)
      .orderBy(desc(alertDeliveries.id))
      .limit(limit);
    return rows.map((r) => ({ ...r, at: r.at.toISOString() }));
  }
}
