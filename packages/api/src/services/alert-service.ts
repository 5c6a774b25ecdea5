import { randomUUID } from "node:crypto";
import {
  AlertRule,
  DEFAULT_ALERT_RULES,
  NimbusError,
  alertNotification,
  emptyAlertState,
  escalationsDue,
  evaluateAlerts,
  metricSamples,
  silencedBy,
  type Alert,
  type AlertChannelRecord,
  type AlertDeliveryRecord,
  type AlertEvalState,
  type AlertEvent,
  type AlertRulePatch,
  type RetryPolicy,
  type Silence,
  type SilenceMatch,
} from "@nimbus/domain";
import type { FleetView } from "@nimbus/fleet";
import type { HealthMonitor } from "./health-monitor.js";
import { EmailConfig, WebhookConfig, deliver, sendOnce, type AttemptResult, type ChannelTarget, type DeliveryAttempt } from "./notify.js";

/** What the service needs of @nimbus/db's AlertStore (tests may pass the real one over PGlite). */
export interface AlertPersistence {
  seedRules(defaults: readonly AlertRule[]): Promise<void>;
  rules(): Promise<unknown[]>;
  putRule(r: AlertRule, by: string): Promise<void>;
  channels(): Promise<StoredChannelRow[]>;
  putChannel(c: Omit<StoredChannelRow, "updatedAt">): Promise<void>;
  deleteChannel(id: string): Promise<boolean>;
  openAlerts(): Promise<(Alert & { rowId: string })[]>;
  recentAlerts(limit: number): Promise<(Alert & { rowId: string })[]>;
  /** One round's new and changed alerts, in a few statements whatever their number. */
  saveAlerts(changes: { inserted: readonly (Alert & { rowId: string })[]; updated: readonly (Alert & { rowId: string })[] }): Promise<void>;
  updateAlert(a: Alert & { rowId: string }): Promise<void>;
  activeSilences(now: Date): Promise<Silence[]>;
  putSilence(s: Silence): Promise<void>;
  endSilence(id: string, at: Date): Promise<boolean>;
  addDelivery(d: { alertId: string; alertKey: string; channelId: string; event: string; attempt: number; status: "ok" | "retrying" | "failed"; statusCode: number | null; error: string | null }): Promise<void>;
  deliveries(limit: number, channelId?: string): Promise<DeliveryRow[]>;
}

type StoredChannelRow = AlertChannelRecord;
type DeliveryRow = AlertDeliveryRecord;

type Row = Alert & { rowId: string };

/** A firing alert as the on-call page shows it: with the silence that mutes it, if any. */
export type AlertView = Alert & { silencedBy: { id: string; endsAt: string; createdBy: string } | null };

/** A channel as the API returns it: the secret only as "set" and its last four characters. */
export interface ChannelView {
  id: string;
  name: string;
  kind: "webhook" | "email";
  enabled: boolean;
  config: Record<string, unknown>;
  secret: { set: boolean; hint: string | null };
  updatedAt: string;
}

export interface ChannelInput {
  id: string;
  name: string;
  enabled: boolean;
  target: { kind: "webhook"; config: WebhookConfig } | { kind: "email"; config: EmailConfig };
  /** undefined: keep the stored one; null: remove it; a string: replace it. */
  secret?: string | null;
}

export interface AlertServiceOptions {
  /** Absolute URL of the console, prefixed to every link a notification carries. */
  publicUrl: string;
  intervalMs?: number;
  retry?: RetryPolicy;
  /** Waits between delivery attempts (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
  send?: (c: ChannelTarget, n: ReturnType<typeof alertNotification>) => Promise<AttemptResult>;
  log?: { warn(obj: object, msg: string): void; info?(obj: object, msg: string): void };
  /** False until the fleet has answered once: before, every check is "connecting" and nothing is decided. */
  ready?: () => boolean;
  now?: () => Date;
  /**
   * Replica mode: true on the one replica that evaluates and notifies (the cluster's leader).
   * Elsewhere `tick` does nothing; a replica that becomes leader reloads the alerts first (what
   * fired before the hand-over is in the database, so it is neither fired again nor dropped).
   */
  leader?: () => boolean;
}

/** What was written (replica mode: the other replicas reload it). */
export type AlertStoredChange = { what: "rules" | "channels" | "silences" | "alerts"; id: string | null };

const RECENT = 50;

/**
 * Evaluates the alert rules against the health monitor's checks and the inventory's numbers,
 * keeps firing alerts (with acks and escalations) in memory and in the database, and notifies
 * channels. Everything it needs survives a restart: it reloads rules, channels, open alerts and
 * silences at start, so an acknowledged alert stays acknowledged and does not notify again.
 */
export class AlertService {
  private rules: AlertRule[] = [];
  private channels = new Map<string, StoredChannelRow>();
  private readonly firing = new Map<string, Row>();
  private resolved: Row[] = [];
  private silences: Silence[] = [];
  private state: AlertEvalState = emptyAlertState();
  private timer: NodeJS.Timeout | null = null;
  private writes: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly listeners = new Set<() => void>();
  private readonly storedListeners = new Set<(c: AlertStoredChange) => void>();
  /** Replica mode: evaluating as the leader, after the reload that taking over starts. */
  private leading = false;
  private takingOver: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly store: AlertPersistence,
    private readonly health: Pick<HealthMonitor, "checks" | "acknowledge"> & Partial<Pick<HealthMonitor, "unacknowledge">>,
    private readonly fleet: Pick<FleetView, "hosts">,
    private readonly opts: AlertServiceOptions,
  ) {}

  private now() {
    return this.opts.now?.() ?? new Date();
  }

  /** Loads what the database keeps; call before `start` or `tick`. */
  async load(): Promise<void> {
    await this.store.seedRules(DEFAULT_ALERT_RULES);
    await this.readRules();
    this.channels = new Map((await this.store.channels()).map((c) => [c.id, c]));
    for (const a of await this.store.openAlerts()) this.firing.set(a.id, a);
    this.resolved = (await this.store.recentAlerts(RECENT)).filter((a) => a.resolvedAt);
    this.silences = await this.store.activeSilences(this.now());
  }

  /**
   * Replica mode: reads again what another replica wrote (rules, channels, silences, alerts and
   * their acknowledgements). The leader keeps its own firing set (it alone fires and resolves) and
   * takes only the acknowledgements; the others take the database's picture whole.
   */
  async reload(): Promise<void> {
    await this.writes;
    await this.readRules();
    const channels = await this.store.channels();
    const open = await this.store.openAlerts();
    const recent = await this.store.recentAlerts(RECENT);
    const silences = await this.store.activeSilences(this.now());
    this.channels = new Map(channels.map((c) => [c.id, c]));
    this.silences = silences;
    if (this.leading) {
      const stored = new Map(open.map((a) => [a.rowId, a]));
      for (const [id, a] of this.firing) {
        const s = stored.get(a.rowId);
        if (s && JSON.stringify(s.ack) !== JSON.stringify(a.ack)) this.firing.set(id, { ...a, ack: s.ack });
      }
    } else {
      this.firing.clear();
      for (const a of open) this.firing.set(a.id, a);
      this.resolved = recent.filter((a) => a.resolvedAt);
    }
    this.changed();
  }

  /** Hears each write another replica must reload (replica mode publishes it on the bus). */
  onStoredChange(l: (c: AlertStoredChange) => void): () => void {
    this.storedListeners.add(l);
    return () => this.storedListeners.delete(l);
  }

  private stored(what: AlertStoredChange["what"], id: string | null) {
    for (const l of this.storedListeners) l({ what, id });
  }

  private async readRules(): Promise<void> {
    const rules: AlertRule[] = [];
    for (const raw of await this.store.rules()) {
      const r = AlertRule.safeParse(raw);
      if (r.success) rules.push(r.data);
      else this.opts.log?.warn({ rule: (raw as { id?: unknown }).id, issues: r.error.issues.length }, "stored alert rule ignored: it does not validate");
    }
    // Shipped rules in their shipped order (worst first), then any others by id.
    const rank = (id: string) => {
      const i = DEFAULT_ALERT_RULES.findIndex((r) => r.id === id);
      return i < 0 ? DEFAULT_ALERT_RULES.length : i;
    };
    this.rules = rules.sort((x, y) => rank(x.id) - rank(y.id) || x.id.localeCompare(y.id));
  }

  start() {
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs ?? 2000);
    this.timer.unref();
  }

  /** Stops evaluating, lets deliveries under way give up after their current attempt, waits for the writes. */
  async stop() {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.writes;
    await Promise.allSettled([...this.inFlight]);
    await this.writes;
  }

  /** Waits for every write and delivery started so far (tests). */
  async settled() {
    // A write may start a delivery (notified once its row is stored), a delivery logs its attempts.
    for (;;) {
      const writes = this.writes;
      await writes;
      if (!this.inFlight.size && writes === this.writes) return;
      await Promise.allSettled([...this.inFlight]);
    }
  }

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private changed() {
    for (const l of this.listeners) l();
  }

  private write(what: string, f: () => Promise<unknown>) {
    this.writes = this.writes.then(f).then(
      () => {},
      (err: unknown) => this.opts.log?.warn({ err, what }, "alert state not stored"),
    );
  }

  /** One evaluation: fire, update, resolve, escalate. Public so tests step it with fake time. */
  tick(now = this.now()) {
    if (this.stopped || !(this.opts.ready?.() ?? true)) return;
    if (this.opts.leader && !this.leadingNow()) return;
    this.silences = this.silences.filter((s) => Date.parse(s.endsAt) > now.getTime());
    const r = evaluateAlerts(this.rules, { checks: this.health.checks(), metrics: metricSamples(this.fleet.hosts()) }, this.state, this.firing, now);
    this.state = r.state;
    // The round is written as one batch (2,000 hosts going down are 2,000 alerts), then notified:
    // a leader killed in between leaves its successor rows to load (no second firing), not
    // notifications without them. A write that fails still notifies.
    const inserted: Row[] = [];
    const updated: Row[] = [];
    const notices: (() => void)[] = [];
    for (const a of r.fired) {
      const row: Row = { ...a, rowId: randomUUID() };
      this.firing.set(a.id, row);
      inserted.push(row);
      const channels = this.ruleChannels(a.ruleId);
      notices.push(() => this.notify(row, "firing", channels, now));
    }
    for (const a of r.updated) {
      const row = { ...this.firing.get(a.id)!, ...a };
      this.firing.set(a.id, row);
      updated.push(row);
    }
    for (const a of r.resolved) {
      const row = { ...this.firing.get(a.id)!, resolvedAt: a.resolvedAt };
      this.firing.delete(a.id);
      this.resolved = [row, ...this.resolved].slice(0, RECENT);
      updated.push(row);
      const channels = this.ruleChannels(a.ruleId);
      notices.push(() => this.notify(row, "resolved", channels, now));
    }
    const adopted = this.adoptCheckAcks(updated);
    for (const { alert, channel } of escalationsDue(this.firing.values(), this.rules, this.silences, now)) {
      const row = { ...this.firing.get(alert.id)!, escalatedAt: now.toISOString() };
      this.firing.set(alert.id, row);
      updated.push(row);
      notices.push(() => this.notify(row, "escalated", [channel], now));
    }
    if (inserted.length || updated.length) {
      this.write("round", async () => {
        await this.store.saveAlerts({ inserted, updated }).finally(() => notices.forEach((n) => n()));
      });
    }
    if (r.fired.length || r.updated.length || r.resolved.length || adopted) {
      this.changed();
      this.write("announce", async () => this.stored("alerts", null));
    }
  }

  /**
   * Replica mode: whether this replica evaluates now. Becoming leader first reloads what the
   * previous leader stored (its firing alerts and their acknowledgements), then evaluates from the
   * next tick; losing it stops at once.
   */
  private leadingNow(): boolean {
    if (!this.opts.leader?.()) {
      this.leading = false;
      return false;
    }
    if (this.leading) return true;
    this.takingOver ??= this.reload()
      .then(() => {
        this.state = emptyAlertState();
        this.leading = !!this.opts.leader?.();
      })
      .catch((err: unknown) => this.opts.log?.warn({ err }, "alerts not reloaded on taking over; retrying"))
      .finally(() => (this.takingOver = null));
    return false;
  }

  /**
   * Someone acknowledged the check an unacknowledged alert is about (on its health card): the
   * alert carries that acknowledgement too, so the page answers "who is on it" once. The rows
   * changed join the round's batch (`round`).
   */
  private adoptCheckAcks(round: Row[]): number {
    const open = [...this.firing.values()].filter((a) => !a.ack);
    if (!open.length) return 0;
    const acks = new Map<string, NonNullable<ReturnType<HealthMonitor["checks"]>[number]["ack"]>>();
    const wanted = new Set(open.map((a) => a.subject));
    for (const c of this.health.checks()) if (c.ack && wanted.has(c.id)) acks.set(c.id, c.ack);
    let n = 0;
    for (const a of open) {
      const ack = acks.get(a.subject);
      if (!ack) continue;
      const row = { ...a, ack: { by: ack.by, at: ack.at, note: ack.note ?? null } };
      this.firing.set(a.id, row);
      round.push(row);
      n++;
    }
    return n;
  }

  private ruleChannels(ruleId: string) {
    return this.rules.find((r) => r.id === ruleId)?.channels ?? [];
  }

  /** Sends to each enabled channel unless a silence mutes the alert; each delivery retries on its own. */
  private notify(a: Row, event: AlertEvent, channelIds: readonly string[], now: Date) {
    if (silencedBy(this.silences, a, now)) return;
    const n = alertNotification(a, event, this.opts.publicUrl, now);
    for (const id of channelIds) {
      const c = this.channels.get(id);
      if (!c?.enabled) continue;
      const target = this.targetOf(c);
      if (!target) continue;
      const p = deliver(
        () => (this.opts.send ?? sendOnce)(target, n),
        (att: DeliveryAttempt) => this.logAttempt(a, c.id, event, att),
        { policy: this.opts.retry, sleep: this.opts.sleep, stopped: () => this.stopped },
      ).catch((err: unknown) => this.opts.log?.warn({ err, channel: id }, "notification failed"));
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }
  }

  private async logAttempt(a: Row, channelId: string, event: string, att: DeliveryAttempt) {
    if (att.status !== "ok") this.opts.log?.warn({ channel: channelId, alert: a.id, attempt: att.attempt, statusCode: att.statusCode, error: att.error }, "notification attempt failed");
    await this.store
      .addDelivery({ alertId: a.rowId, alertKey: a.id, channelId, event, attempt: att.attempt, status: att.status, statusCode: att.statusCode, error: att.error })
      .catch((err: unknown) => this.opts.log?.warn({ err }, "delivery not logged"));
  }

  private targetOf(c: StoredChannelRow): ChannelTarget | null {
    const parsed = c.kind === "webhook" ? WebhookConfig.safeParse(c.config) : EmailConfig.safeParse(c.config);
    if (!parsed.success) {
      this.opts.log?.warn({ channel: c.id }, "channel settings do not validate; nothing sent");
      return null;
    }
    return { kind: c.kind, config: parsed.data, secret: c.secret } as ChannelTarget;
  }

  // ---- what the API reads and does ----

  list(): { firing: AlertView[]; resolved: Alert[] } {
    const now = this.now();
    const order = { critical: 0, warning: 1, info: 2 } as const;
    const firing = [...this.firing.values()]
      .map(({ rowId: _r, ...a }) => {
        const s = silencedBy(this.silences, a, now);
        return { ...a, silencedBy: s ? { id: s.id, endsAt: s.endsAt, createdBy: s.createdBy } : null };
      })
      .sort((x, y) => order[x.severity] - order[y.severity] || x.firedAt.localeCompare(y.firedAt) || x.id.localeCompare(y.id));
    return { firing, resolved: this.resolved.map(({ rowId: _r, ...a }) => a) };
  }

  /** Marks a firing alert as seen (and its health check, when it is about one). */
  acknowledge(id: string, by: string, note: string | null): Alert {
    const a = this.firing.get(id);
    if (!a) throw new NimbusError("NOT_FOUND", `firing alert ${id} not found`);
    const at = this.now().toISOString();
    const row = { ...a, ack: { by, at, note } };
    this.firing.set(id, row);
    this.write("ack", async () => {
      await this.store.updateAlert(row);
      this.stored("alerts", id);
    });
    this.health.acknowledge(a.subject, by, at, note ?? undefined);
    this.changed();
    return row;
  }

  unacknowledge(id: string): Alert {
    const a = this.firing.get(id);
    if (!a?.ack) throw new NimbusError("NOT_FOUND", `acknowledged alert ${id} not found`);
    const row = { ...a, ack: null };
    this.firing.set(id, row);
    this.write("unack", async () => {
      await this.store.updateAlert(row);
      this.stored("alerts", id);
    });
    // Taken back on the check too, or the next sample would adopt it again.
    this.health.unacknowledge?.(a.subject);
    this.changed();
    return row;
  }

  silenceList(): Silence[] {
    const t = this.now().getTime();
    return this.silences.filter((s) => Date.parse(s.endsAt) > t);
  }

  async silence(match: SilenceMatch, minutes: number, comment: string, by: string): Promise<Silence> {
    const now = this.now();
    const s: Silence = { id: randomUUID(), checks: match.checks, labels: match.labels, startsAt: now.toISOString(), endsAt: new Date(now.getTime() + minutes * 60_000).toISOString(), createdBy: by, comment };
    await this.store.putSilence(s);
    this.silences.push(s);
    this.changed();
    this.stored("silences", s.id);
    return s;
  }

  async endSilence(id: string): Promise<void> {
    if (!this.silences.some((s) => s.id === id) || !(await this.store.endSilence(id, this.now()))) throw new NimbusError("NOT_FOUND", `active silence ${id} not found`);
    this.silences = this.silences.filter((s) => s.id !== id);
    this.changed();
    this.stored("silences", id);
  }

  ruleList(): AlertRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  async updateRule(id: string, patch: AlertRulePatch, by: string): Promise<AlertRule> {
    const i = this.rules.findIndex((r) => r.id === id);
    if (i < 0) throw new NimbusError("NOT_FOUND", `alert rule ${id} not found`);
    const parsed = AlertRule.safeParse({ ...this.rules[i], ...patch });
    if (!parsed.success) throw new NimbusError("BAD_INPUT", `alert rule ${id}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    const next = parsed.data;
    if (patch.condition && patch.condition.kind !== this.rules[i]!.condition.kind) throw new NimbusError("BAD_INPUT", "a rule's condition keeps its kind (check, metric or flapping)");
    for (const c of [...next.channels, ...(next.escalation ? [next.escalation.channel] : [])]) {
      if (!this.channels.has(c)) throw new NimbusError("BAD_INPUT", `no notification channel named ${c}`);
    }
    await this.store.putRule(next, by);
    this.rules[i] = next;
    this.changed();
    this.stored("rules", id);
    return next;
  }

  channelList(): ChannelView[] {
    return [...this.channels.values()].map(viewOf);
  }

  async putChannel(input: ChannelInput, create: boolean): Promise<ChannelView> {
    const existing = this.channels.get(input.id);
    if (create && existing) throw new NimbusError("CONFLICT", `a channel named ${input.id} exists`);
    if (!create && !existing) throw new NimbusError("NOT_FOUND", `channel ${input.id} not found`);
    if (existing && existing.kind !== input.target.kind) throw new NimbusError("BAD_INPUT", "a channel keeps its kind; create another one");
    const secret = input.secret === undefined ? (existing?.secret ?? null) : input.secret;
    const row = { id: input.id, name: input.name, kind: input.target.kind, enabled: input.enabled, config: input.target.config as Record<string, unknown>, secret };
    await this.store.putChannel(row);
    const stored = { ...row, updatedAt: this.now().toISOString() };
    this.channels.set(input.id, stored);
    this.changed();
    this.stored("channels", input.id);
    return viewOf(stored);
  }

  async deleteChannel(id: string): Promise<void> {
    const users = this.rules.filter((r) => r.channels.includes(id) || r.escalation?.channel === id).map((r) => r.name);
    if (users.length) throw new NimbusError("CONFLICT", `channel ${id} is used by: ${users.join(", ")}`);
    if (!(await this.store.deleteChannel(id))) throw new NimbusError("NOT_FOUND", `channel ${id} not found`);
    this.channels.delete(id);
    this.changed();
    this.stored("channels", id);
  }

  /** Sends one test notification now (one attempt, logged), so an admin sees the channel works. */
  async testChannel(id: string, by: string): Promise<AttemptResult> {
    const c = this.channels.get(id);
    if (!c) throw new NimbusError("NOT_FOUND", `channel ${id} not found`);
    const target = this.targetOf(c);
    if (!target) throw new NimbusError("BAD_INPUT", `channel ${id} has settings that do not validate`);
    const now = this.now();
    const probe: Row = {
      rowId: `test-${randomUUID()}`,
      id: `test|${id}`,
      ruleId: "test",
      ruleName: "Test notification",
      severity: "info",
      subject: "test",
      category: "host",
      target: `channel ${c.name}`,
      message: `sent by ${by} from the alert settings`,
      affects: [],
      tenants: [],
      link: "/alerts",
      since: now.toISOString(),
      firedAt: now.toISOString(),
      resolvedAt: null,
      ack: null,
      escalatedAt: null,
    };
    const r = await (this.opts.send ?? sendOnce)(target, alertNotification(probe, "firing", this.opts.publicUrl, now));
    await this.logAttempt(probe, id, "test", { ...r, attempt: 1, status: r.ok ? "ok" : "failed" });
    return r;
  }

  deliveries(limit: number, channelId?: string) {
    return this.store.deliveries(limit, channelId);
  }

  /** Counts for /metrics. */
  stats() {
    return { firing: this.firing.size, silences: this.silences.length };
  }
}

function viewOf(c: StoredChannelRow): ChannelView {
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    enabled: c.enabled,
    config: c.config,
    secret: { set: !!c.secret, hint: c.secret && c.secret.length >= 12 ? `…${c.secret.slice(-4)}` : null },
    updatedAt: c.updatedAt,
  };
}
