import { NimbusError, emptyInventory, type HostInventory, type HostRecord, type MethodName, type MethodParams, type MethodResult } from "@nimbus/domain";
import { ListenerSet, connectingRecord, type Fleet, type FleetEvent, type FleetView, type HostConfig } from "@nimbus/fleet";
import { pino, type Logger } from "pino";
import { z } from "zod";
import type { BusMessage, ClusterBus } from "./bus.js";
import type { InternalRpc } from "./internal-http.js";
import { ConsoleHolders } from "./console-holders.js";
import type { LeaseEvent, LeaseManager } from "./leases.js";

/**
 * The fleet as one replica sees it (replica mode). A local `Fleet` connects only the hosts whose
 * lease this replica holds; every other host's record is a copy kept from its owner's bus messages
 * (changed sections + connection state, stamped with the lease epoch so a deposed owner's late
 * message never overwrites the new owner's). Subscribers get the same FleetEvents either way, so
 * LiveHub, health, topology and operations run unchanged on every replica. Agent calls for a host
 * owned elsewhere go to its owner over internal HTTP (`fleet.request`).
 */

type Base = Omit<HostRecord, "inventory">;
type HostChanged = Extract<FleetEvent, { type: "host" }>["changed"];
type HostMessage = { host: string; epoch: number; base: Base; sections: Partial<HostInventory>; changed: HostChanged; full: boolean };
type ForwardedEvent = Exclude<FleetEvent, { type: "host" } | { type: "stats" }>;

/** Events re-emitted on every replica; the rest (stats) stays with the owner, which records it. */
const FORWARDED = new Set<string>(["job", "host-event", "console-output", "console-closed", "log-lines"]);

/** How long an owned host's changes are gathered before they go out (one message for many hosts). */
const HOST_COALESCE_MS = 5;

/**
 * The same while this replica connects a tenth or more of its hosts at once (its start, a take-over):
 * each host changes several times within a second then (connected, then each pushed section), and
 * every message costs a NOTIFY or an outbox row here and a read and a parse at every other replica.
 * Most of those hosts are not online yet; the tenth of a second more on the others' changes
 * lasts only while the connect does (steady changes still leave within HOST_COALESCE_MS).
 */
const MASS_CONNECT_COALESCE_MS = 100;
const MASS_CONNECT_SHARE = 0.1;

/** Records of one snapshot message: bounded so one message stays a modest outbox row. */
const SNAPSHOT_BATCH = 100;

const RequestInput = z.object({
  host: z.string().min(1).max(253),
  method: z.string().min(1).max(64),
  params: z.unknown(),
  timeoutMs: z.number().int().positive().max(600_000).optional(),
  /** The calling replica (a console it opens here is closed when it dies). */
  from: z.string().min(1).max(200).optional(),
  /** The caller's boot (its bus origin): a console its earlier boot opened here is closed when a later one speaks. */
  boot: z.string().min(1).max(200).optional(),
});
const AcceptKeyInput = z.object({ host: z.string().min(1).max(253), fingerprint: z.string().min(1).max(200), acceptedBy: z.string().max(200).nullable().optional() });
const MaintenanceInput = z.object({ host: z.string().min(1).max(253), on: z.boolean() });

export interface ClusterFleetOptions {
  replicaId: string;
  /** Every host of the fleet (the same config on every replica). */
  hosts: readonly HostConfig[];
  /** Connects only what this replica owns; created with no hosts. */
  local: Fleet;
  leases: LeaseManager;
  bus: ClusterBus;
  rpc: InternalRpc;
  /** The persisted maintenance flag of a host this replica takes over. */
  maintenance?: (host: string) => Promise<boolean>;
  /** How long a call for a host in transit between owners waits for the new one. */
  ownerWaitMs?: number;
  /** How long own host changes gather before they go out: steady, and while connecting many hosts (tests). */
  coalesceMs?: { steady: number; massConnect: number };
  logger?: Logger;
}

export class ClusterFleet implements FleetView {
  private readonly configs = new Map<string, HostConfig>();
  /** Copies of the hosts other replicas own, with the epoch they were published under. */
  private readonly remote = new Map<string, { record: HostRecord; epoch: number }>();
  private readonly placeholders = new Map<string, HostRecord>();
  /**
   * Every host's record as `host()` gives it, in configuration order, kept by `emit` (every change
   * of a record here is emitted): `hosts()` runs often (health samples, the topology's mass-connect
   * check, /healthz) and three map lookups per host each time added up while a fleet connects.
   */
  private readonly current: HostRecord[] = [];
  private readonly position = new Map<string, number>();
  private readonly listeners: ListenerSet<FleetEvent>;
  private readonly logger: Logger;
  private readonly cleanups: (() => void)[] = [];
  /** Own hosts' changes waiting for the next flush (HOST_COALESCE_MS). */
  private readonly pendingHosts = new Map<string, { epoch: number; record: HostRecord; changed: Set<HostChanged[number]> }>();
  private flushTimer: NodeJS.Timeout | null = null;
  private massConnect = { at: -Infinity, on: false };
  /** Messages handed to the bus and not yet taken by PostgreSQL. */
  private sending = 0;
  /** Host records published and received (replica mode's /healthz). */
  private readonly counters = { messages: 0, recordsSent: 0, recordsReceived: 0 };
  /** The epoch under which this replica took each host it watches. */
  private readonly heldEpochs = new Map<string, number>();
  /** The epoch under which each owned host's whole record went out: later messages carry changes only. */
  private readonly fullSent = new Map<string, number>();
  /** Hosts whose record this replica lacks, asked of their owners in one message per flush. */
  private readonly wanted = new Set<string>();
  private wantTimer: NodeJS.Timeout | null = null;
  /** Agent consoles this replica opened for other replicas, closed when their holder dies. */
  readonly consoleHolders = new ConsoleHolders();
  /** Owned hosts taken while not online anywhere and still connecting: not published until they answer. */
  private readonly quiet = new Set<string>();
  /** Each replica's boot last heard of (one compare per bus message). */
  private readonly lastBoot = new Map<string, string>();

  constructor(private readonly opts: ClusterFleetOptions) {
    for (const h of opts.hosts) this.configs.set(h.name, h);
    for (const { name } of opts.hosts) {
      if (this.position.has(name)) continue;
      this.position.set(name, this.current.length);
      this.current.push(this.placeholder(this.configs.get(name)!));
    }
    this.logger = opts.logger ?? pino({ level: "silent" });
    this.listeners = new ListenerSet(this.logger, "fleet event");
    opts.rpc.register("fleet.request", RequestInput, async (input) => {
      this.assertOwned(input.host);
      // A later boot of the caller: its earlier boot's consoles go first.
      if (input.from && input.boot) this.heardBoot(input.from, input.boot);
      const result = await this.opts.local.request(input.host, input.method as MethodName, input.params as never, input.timeoutMs ? { timeoutMs: input.timeoutMs } : undefined);
      if (input.from) this.noteConsole(input.host, input.method, input.params, result, input.from, input.boot);
      return result;
    });
    opts.rpc.register("fleet.acceptHostKey", AcceptKeyInput, async (input) => {
      this.assertOwned(input.host);
      await this.opts.local.acceptHostKey(input.host, input.fingerprint, input.acceptedBy ?? null);
      return null;
    });
    opts.rpc.register("fleet.setMaintenance", MaintenanceInput, async (input) => {
      this.assertOwned(input.host);
      this.opts.local.setMaintenance(input.host, input.on);
      return null;
    });
  }

  /** Wires the bus, the local fleet and the leases; call before the lease manager starts. */
  async start(): Promise<void> {
    const { local, bus, leases } = this.opts;
    this.cleanups.push(
      local.subscribe((e) => this.onLocal(e)),
      bus.subscribe((m) => this.onMessage(m)),
      bus.onResync(() => this.resync()),
      leases.subscribe((e) => this.onLease(e)),
    );
    await local.start();
    // Whatever the others own now: their records, once.
    this.send("snapshot-request", {});
  }

  stop(): void {
    this.flushHosts();
    if (this.wantTimer) clearTimeout(this.wantTimer);
    for (const c of this.cleanups.splice(0)) c();
  }

  hosts(): readonly HostRecord[] {
    return this.current.slice();
  }

  host(name: string): HostRecord | undefined {
    const config = this.configs.get(name);
    if (!config) return undefined;
    return this.opts.local.host(name) ?? this.remote.get(name)?.record ?? this.placeholder(config);
  }

  /**
   * One record per host not reported yet, made once: `hosts()` runs often (/healthz, the topology's
   * mass-connect check, pages) and at a cold start every host is one of these.
   */
  private placeholder(config: HostConfig): HostRecord {
    let record = this.placeholders.get(config.name);
    if (!record) this.placeholders.set(config.name, (record = placeholder(config)));
    return record;
  }

  hostConfig(name: string): HostConfig | undefined {
    return this.configs.get(name);
  }

  /** Owned here: this replica's agent connection; elsewhere: relayed to the owner. */
  async request<M extends MethodName>(host: string, method: M, params: MethodParams<M>, opts?: { timeoutMs?: number }): Promise<MethodResult<M>> {
    if (!this.configs.has(host)) throw new NimbusError("NOT_FOUND", `host ${host} is not part of the fleet`, { host });
    const timeoutMs = opts?.timeoutMs;
    return this.relay(host, () => this.opts.local.request(host, method, params, opts), "fleet.request", { host, method, params, timeoutMs, from: this.opts.replicaId, boot: this.opts.bus.origin }, timeoutMs ? timeoutMs + 5_000 : undefined);
  }

  /** Consoles opened and closed here for other replicas (see ConsoleHolders). */
  private noteConsole(host: string, method: string, params: unknown, result: unknown, from: string, boot?: string): void {
    if (method === "console.open") {
      const session = (result as { session?: unknown } | null)?.session;
      if (typeof session === "string") this.consoleHolders.opened(host, session, from, boot);
    } else if (method === "console.close") {
      const session = (params as { session?: unknown } | null)?.session;
      if (typeof session === "string") this.consoleHolders.closed(session);
    }
  }

  /** After a lease round: the consoles of replicas that died are closed on their agents. */
  private closeOrphanConsoles(): void {
    this.closeConsoles(this.consoleHolders.orphans(new Set(this.opts.leases.directory.alive().map((r) => r.id))), "closing a console whose server replica died");
  }

  /**
   * A replica spoke in a boot (bus message, relayed call): if that is a new boot, it was restarted
   * (under the same id, within its heartbeat window as well) and the consoles its earlier boot held here are closed.
   */
  private heardBoot(replica: string, boot: string): void {
    if (this.lastBoot.get(replica) === boot) return;
    if (this.lastBoot.size >= 1_000) this.lastBoot.clear();
    this.lastBoot.set(replica, boot);
    this.closeConsoles(this.consoleHolders.restarted(replica, boot), "closing a console an earlier boot of a restarted server replica held");
  }

  private closeConsoles(list: readonly { host: string; session: string; holder: string }[], why: string): void {
    for (const o of list) {
      this.logger.info({ host: o.host, holder: o.holder }, why);
      void this.opts.local.request(o.host, "console.close", { session: o.session }).catch(() => undefined);
    }
  }

  async acceptHostKey(host: string, fingerprint: string, acceptedBy?: string | null): Promise<void> {
    await this.relay(host, () => this.opts.local.acceptHostKey(host, fingerprint, acceptedBy), "fleet.acceptHostKey", { host, fingerprint, acceptedBy: acceptedBy ?? null });
  }

  /**
   * Set by the host's owner (which persists it): relayed and awaited, so the caller gets the
   * owner's answer or its error (an owner gone and no new one in time: HOST_UNREACHABLE), and
   * nothing is set anywhere unless the owner set it. This replica's copy shows the flag at once.
   */
  async setMaintenance(host: string, on: boolean): Promise<void> {
    if (!this.configs.has(host)) throw new NimbusError("NOT_FOUND", `host ${host} is not part of the fleet`, { host });
    await this.relay(host, async () => this.opts.local.setMaintenance(host, on), "fleet.setMaintenance", { host, on });
    const copy = this.remote.get(host);
    if (copy && !this.opts.leases.owns(host) && copy.record.maintenance !== on) {
      copy.record = { ...copy.record, maintenance: on };
      this.emit({ type: "host", host: copy.record, changed: ["maintenance"] });
    }
  }

  subscribe(listener: (e: FleetEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  /** A host this replica owns but has not connected yet: handing it over costs no session. */
  cheapToMove(host: string): boolean {
    const state = this.opts.local.host(host)?.connection.state;
    return state === undefined || state === "connecting";
  }

  /** Which replica owns a host now (undefined: in transit). */
  ownerOf(host: string): string | undefined {
    return this.opts.leases.ownerOf(host);
  }

  private async relay<T>(host: string, here: () => Promise<T>, method: string, input: unknown, timeoutMs?: number): Promise<T> {
    // A host moves at most once or twice while one call waits: try the owner we know, then the new
    // one. An owner that does not answer at all (killed) is waited out until its lease moves on;
    // one that times out may still be running the call, so that is not retried.
    let dead: string | undefined;
    for (let attempt = 0; ; attempt++) {
      if (this.opts.leases.owns(host)) {
        // Taken over while this call waited: let the new connection come up first.
        if (attempt > 0 || !this.opts.local.host(host)) await this.connected(host, this.opts.ownerWaitMs ?? 15_000);
        if (!this.opts.local.host(host)) throw new NimbusError("HOST_UNREACHABLE", `${host} is being taken over by this server; try again in a moment`, { host });
        this.assertFresh(host);
        return here();
      }
      const owner = await this.opts.leases.waitForOwner(host, this.opts.ownerWaitMs ?? 15_000, dead);
      if (owner === this.opts.replicaId) continue;
      const url = owner ? this.opts.leases.directory.url(owner) : undefined;
      if (!owner || !url) throw new NimbusError("HOST_UNREACHABLE", `${host} has no server watching it right now (the replicas are re-sharing hosts); try again`, { host });
      try {
        return await this.opts.rpc.call<T>(url, method, input, { timeoutMs });
      } catch (err) {
        const moved = err instanceof NimbusError && err.details?.["moved"] === true;
        const unreachable = err instanceof NimbusError && err.code === "HOST_UNREACHABLE" && err.details?.["peer"] === true;
        if ((!moved && !unreachable) || attempt >= 3) throw err;
        if (unreachable) dead = owner;
      }
    }
  }

  /** Resolves once the local connection to `host` is past "connecting" (or after `timeoutMs`). */
  private connected(host: string, timeoutMs: number): Promise<void> {
    const settled = () => {
      const h = this.opts.local.host(host);
      return !!h && h.connection.state !== "connecting";
    };
    if (settled()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      const off = this.opts.local.subscribe((e) => {
        if (e.type === "host" && e.host.name === host && settled()) done();
      });
    });
  }

  private assertOwned(host: string): void {
    if (!this.opts.leases.owns(host) || !this.opts.local.host(host)) throw new NimbusError("HOST_UNREACHABLE", `${host} is not watched by this server any more`, { host, moved: true });
    this.assertFresh(host);
  }

  /**
   * By the clock, not the fence timer (which a blocked event loop delays): nothing is sent to a
   * host once the lease may be running out unrenewed.
   */
  private assertFresh(host: string): void {
    if (!this.opts.leases.healthy()) throw new NimbusError("HOST_UNREACHABLE", `${host}: this server cannot renew its hold on the host (database unreachable); try again in a moment`, { host });
  }

  private emit(e: FleetEvent): void {
    if (e.type === "host") {
      const i = this.position.get(e.host.name);
      if (i !== undefined) this.current[i] = this.host(e.host.name)!;
    }
    this.listeners.emit(e);
  }

  /** Own host changes gathered and not published yet (the live channel's cursor waits for them). */
  publishing(): boolean {
    return this.pendingHosts.size > 0;
  }

  /** Messages and host records sent and received so far. */
  stats(): { messages: number; recordsSent: number; recordsReceived: number } {
    return { ...this.counters };
  }

  private send(kind: string, payload: unknown): void {
    this.sending++;
    this.counters.messages++;
    // Handed over at once, not after the previous answer: the bus's one connection runs its
    // queries in the order they were given (so receivers still see our order), and a connect
    // storm's messages no longer wait a round trip each behind one another.
    this.opts.bus
      .publish(kind, payload)
      .catch((err: unknown) => this.logger.debug({ err, kind }, "cluster message not sent (the reconnect resyncs)"))
      .finally(() => {
        // Changes gathered while the bus was busy go out now, as one message per hundred hosts
        // (while connecting many, after the longer window: see MASS_CONNECT_COALESCE_MS).
        if (--this.sending === 0 && this.pendingHosts.size && !this.flushTimer) {
          if (this.connectingMany()) this.scheduleFlush();
          else this.flushHosts();
        }
      });
  }

  private onLocal(e: FleetEvent): void {
    this.emit(e);
    if (e.type === "console-closed") this.consoleHolders.closed(e.session);
    if (e.type === "host") {
      const epoch = this.opts.leases.owned().get(e.host.name);
      if (epoch === undefined) return;
      // Taken while no replica showed it online (a fleet's start) and still connecting: the others
      // show it not reported yet. Its first record goes once it answered (online or failed), so a
      // fleet's start sends one record per host, not two or three. (Taken from an owner that had it
      // online, its connecting is news: the others still show it online.)
      if (e.host.connection.state !== "connecting") this.quiet.delete(e.host.name);
      else if (this.quiet.has(e.host.name) && this.fullSent.get(e.host.name) !== epoch && !this.pendingHosts.has(e.host.name) && !e.changed.includes("maintenance")) return;
      // Coalesced for a few milliseconds: a fleet connecting (or a busy host) makes one message
      // per batch of hosts, not one per change; the latest record with every changed part.
      const pending = this.pendingHosts.get(e.host.name);
      if (pending && pending.epoch === epoch) {
        pending.record = e.host;
        for (const c of e.changed) pending.changed.add(c);
      } else {
        if (pending) this.flushHosts();
        this.pendingHosts.set(e.host.name, { epoch, record: e.host, changed: new Set(e.changed) });
      }
      // While earlier messages are still on their way (a fleet connecting), they keep gathering:
      // the latest record of each host goes once the bus is free, not one message per 5 ms.
      this.scheduleFlush();
    } else if (FORWARDED.has(e.type)) {
      // The host changes before it first: receivers see them in the order the owner did.
      this.flushHosts();
      this.send("event", e);
    }
  }

  private scheduleFlush(): void {
    const { steady, massConnect } = this.opts.coalesceMs ?? { steady: HOST_COALESCE_MS, massConnect: MASS_CONNECT_COALESCE_MS };
    this.flushTimer ??= setTimeout(
      () => {
        this.flushTimer = null;
        if (this.sending === 0) this.flushHosts();
      },
      this.connectingMany() ? massConnect : steady,
    );
  }

  /** A tenth or more of the owned hosts not connected yet (looked at most every 250 ms: it walks them). */
  private connectingMany(): boolean {
    const now = Date.now();
    if (now - this.massConnect.at < 250) return this.massConnect.on;
    let connecting = 0;
    const owned = this.opts.leases.owned();
    for (const h of owned.keys()) {
      const state = this.opts.local.host(h)?.connection.state;
      if (state === undefined || state === "connecting") connecting++;
    }
    this.massConnect = { at: now, on: connecting > 0 && connecting >= owned.size * MASS_CONNECT_SHARE };
    return this.massConnect.on;
  }

  private flushHosts(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.pendingHosts.size) return;
    // A host's first message under its epoch is its whole record: receivers that never saw it
    // (every one, at a cold start) need not ask for it, one request and one answer per host.
    const batch = [...this.pendingHosts.values()].map((p) => {
      const full = this.fullSent.get(p.record.name) !== p.epoch;
      if (full) this.fullSent.set(p.record.name, p.epoch);
      return hostMessage(p.record, p.epoch, full ? ["connection", "maintenance", ...sectionNames(p.record)] : [...p.changed], full);
    });
    this.pendingHosts.clear();
    this.counters.recordsSent += batch.length;
    for (let i = 0; i < batch.length; i += SNAPSHOT_BATCH) this.send("hosts", { hosts: batch.slice(i, i + SNAPSHOT_BATCH) });
  }

  private onMessage(m: BusMessage): void {
    if (m.origin) this.heardBoot(m.from, m.origin);
    switch (m.kind) {
      case "host":
        return this.applyHost(m.payload as HostMessage);
      case "hosts":
        for (const h of (m.payload as { hosts: HostMessage[] }).hosts ?? []) {
          this.counters.recordsReceived++;
          this.applyHost(h);
        }
        return;
      case "event": {
        const e = m.payload as ForwardedEvent;
        // Only from the host's owner: a deposed one's stragglers are dropped.
        if (e && FORWARDED.has(e.type) && this.configs.has(e.host) && !this.opts.leases.owns(e.host)) this.emit(e);
        return;
      }
      case "snapshot-request":
        return this.publishOwned((m.payload as { hosts?: string[] })?.hosts);
    }
  }

  private applyHost(m: HostMessage): void {
    if (!m || typeof m.host !== "string" || !this.configs.has(m.host) || this.opts.leases.owns(m.host)) return;
    const known = this.remote.get(m.host);
    if (known && m.epoch < known.epoch) return;
    // A new owner (higher epoch) while our copy still said online: the old owner's link, and the
    // agent sessions on it (consoles), ended. Said as the old owner says it locally, even when the
    // new owner's first message already says online (subscribers re-open what they held).
    if (known && m.epoch > known.epoch && known.record.connection.state === "online" && m.base?.connection?.state === "online")
      this.emit({ type: "host", host: { ...known.record, connection: { ...known.record.connection, state: "connecting", message: "being handed over to another server replica" } }, changed: ["connection"] });
    if (!m.full && (!known || known.epoch !== m.epoch)) {
      // A change without the record it changes (we joined late or missed messages): ask its owner.
      if (known) this.remote.set(m.host, { record: { ...known.record, ...m.base, inventory: { ...known.record.inventory, ...m.sections } }, epoch: m.epoch });
      this.want(m.host);
      if (!known) return;
    } else {
      const inventory = m.full ? { ...emptyInventory(), ...m.sections } : { ...known!.record.inventory, ...m.sections };
      this.remote.set(m.host, { record: { ...m.base, inventory }, epoch: m.epoch });
    }
    this.emit({ type: "host", host: this.remote.get(m.host)!.record, changed: m.changed });
  }

  /** Asks the owners for these records, gathered: a burst of unknown hosts makes one request. */
  private want(host: string): void {
    this.wanted.add(host);
    this.wantTimer ??= setTimeout(() => {
      this.wantTimer = null;
      const hosts = [...this.wanted];
      this.wanted.clear();
      for (let i = 0; i < hosts.length; i += 500) this.send("snapshot-request", { hosts: hosts.slice(i, i + 500) });
    }, HOST_COALESCE_MS);
  }

  private publishOwned(only?: string[]): void {
    this.flushHosts();
    const want = only ? new Set(only) : null;
    const batch: HostMessage[] = [];
    for (const [host, epoch] of this.opts.leases.owned()) {
      if (want && !want.has(host)) continue;
      const record = this.opts.local.host(host);
      if (!record) continue;
      // Still connecting since a take nobody saw online: the asker shows it not reported; it goes once it answered.
      if (this.quiet.has(host) && record.connection.state === "connecting" && this.fullSent.get(host) !== epoch) continue;
      this.fullSent.set(host, epoch);
      batch.push(hostMessage(record, epoch, ["connection", "maintenance", ...sectionNames(record)], true));
      if (batch.length >= SNAPSHOT_BATCH) this.send("hosts", { hosts: batch.splice(0) });
    }
    if (batch.length) this.send("hosts", { hosts: batch });
  }

  private resync(): void {
    this.publishOwned();
    this.send("snapshot-request", {});
  }

  private onLease(e: LeaseEvent): void {
    if (e.type === "owners") return this.closeOrphanConsoles();
    if (e.type === "acquired") {
      const config = this.configs.get(e.host);
      if (!config || this.opts.local.host(e.host)) return;
      const add = (maintenance: boolean) => {
        // Still ours and not yet added (the lease may have gone while the flag was read).
        if (!this.opts.leases.owns(e.host) || this.opts.local.host(e.host)) return;
        if (this.remote.get(e.host)?.record.connection.state !== "online") this.quiet.add(e.host);
        this.opts.local.addHost(config, { maintenance });
        this.heldEpochs.set(e.host, e.epoch);
        this.remote.delete(e.host);
        this.emit({ type: "host", host: this.opts.local.host(e.host)!, changed: ["connection"] });
      };
      if (!this.opts.maintenance) return add(this.remote.get(e.host)?.record.maintenance ?? false);
      this.opts.maintenance(e.host).then(add, (err: unknown) => {
        this.logger.warn({ err, host: e.host }, "maintenance flag not read; taking the last known one");
        add(this.remote.get(e.host)?.record.maintenance ?? false);
      });
    } else if (e.type === "released") {
      this.quiet.delete(e.host);
      this.consoleHolders.hostGone(e.host);
      this.flushHosts();
      const record = this.opts.local.host(e.host);
      if (!record) return;
      // Closed now (fence, rebalance): the last record stays visible until the new owner publishes.
      this.opts.local.removeHost(e.host);
      // Kept under our epoch (the next owner's, higher, replaces it; nothing older does), saying
      // what it is now: nobody here watches it until the next owner reports.
      const message = e.reason === "fenced" ? "this server replica lost the database; another one takes the host over" : "being handed over to another server replica";
      const handedOver: HostRecord = { ...record, connection: { ...record.connection, state: "connecting", since: new Date().toISOString(), message } };
      this.remote.set(e.host, { record: handedOver, epoch: this.heldEpochs.get(e.host) ?? 0 });
      this.heldEpochs.delete(e.host);
      this.fullSent.delete(e.host);
      this.emit({ type: "host", host: handedOver, changed: ["connection"] });
    }
  }
}

function sectionNames(record: HostRecord): (keyof HostInventory)[] {
  return (Object.keys(record.inventory) as (keyof HostInventory)[]).filter((k) => record.inventory[k] != null);
}

function hostMessage(record: HostRecord, epoch: number, changed: HostMessage["changed"], full: boolean): HostMessage {
  const { inventory, ...base } = record;
  const sections: Partial<HostInventory> = {};
  const names = full ? (Object.keys(inventory) as (keyof HostInventory)[]) : (changed.filter((c) => c in inventory) as (keyof HostInventory)[]);
  for (const n of names) (sections as Record<string, unknown>)[n] = inventory[n];
  return { host: record.name, epoch, base, sections, changed, full };
}

/** A host no replica has reported yet. */
function placeholder(config: HostConfig): HostRecord {
  return connectingRecord(config, { maintenance: false, since: new Date(0).toISOString(), message: "waiting for the server replica that watches this host" });
}
