import {
  NimbusError,
  emptyInventory,
  type ConnectionState,
  type HostConnection as ConnectionInfo,
  type HostRecord,
  type Job,
  type LogChunk,
  type StatsCounters,
  type MethodName,
  type MethodParams,
  type MethodResult,
  type SectionName,
} from "@nimbus/domain";
import type { Logger } from "pino";
import { backoffDelay, type BackoffPolicy } from "./backoff.js";
import { startAgent, type EnsureAgent } from "./agent-start.js";
import { classifyFailure, type ConnectFailure } from "./connect-failure.js";
import type { HostConfig, KnownHostsStore } from "./contract.js";
import type { ConcurrencyLimiter } from "./limiter.js";
import type { LivenessSweep } from "./liveness.js";
import type { AgentNotification, ProtocolClient } from "./protocol-client.js";
import { sectionSchema } from "./protocol-schemas.js";
import type { PinnedKey, SshSession } from "./ssh/index.js";

export type HostChange = SectionName | "connection" | "maintenance";
export type HostEventLevel = "info" | "warn" | "error";

export interface HostConnectionEvents {
  record(record: HostRecord, changed: HostChange[]): void;
  job(job: Job): void;
  hostEvent(e: { at: string; level: HostEventLevel; message: string }): void;
  /** Console output or end (console.output / console.closed). */
  console?(e: { session: string; data: string } | { session: string; reason: string }): void;
  /** A chunk of a log stream (swarm.logLines). */
  logLines?(chunk: LogChunk): void;
  /** Counters for metric history (stats.counters), with the server's time of arrival. */
  stats?(at: number, counters: StatsCounters): void;
}

export interface ConnectionTiming {
  requestTimeoutMs: number;
  /** Bounds hello and the first inventory snapshot. */
  handshakeTimeoutMs: number;
  backoff: BackoffPolicy;
  /** For failures that retrying soon cannot fix (auth refused, agent missing, protocol mismatch). */
  slowRetryMs: number;
  /** How long to wait for an ended agent's exit status, to tell "agent missing" from a lost link. */
  exitGraceMs: number;
}

export const DEFAULT_TIMING: ConnectionTiming = {
  requestTimeoutMs: 30_000,
  handshakeTimeoutMs: 15_000,
  backoff: { initialMs: 1_000, maxMs: 30_000, jitter: 0.25 },
  slowRetryMs: 60_000,
  exitGraceMs: 1_000,
};

export type Dialer = (config: HostConfig) => Promise<SshSession>;

export interface HostConnectionDeps {
  dial: Dialer;
  knownHosts: KnownHostsStore;
  limiter: ConcurrencyLimiter;
  timing: ConnectionTiming;
  serverName: string;
  events: HostConnectionEvents;
  logger: Logger;
  ensureAgent?: EnsureAgent;
  random?: () => number;
  /** Notices an online agent that fell silent (none: only a closed link ends a connection). */
  liveness?: LivenessSweep;
}

/** A host's record before anything was heard from it (also a replica's placeholder for hosts others watch). */
export function connectingRecord(config: Pick<HostConfig, "name" | "address" | "port">, opts: { maintenance: boolean; since: string; message: string | null }): HostRecord {
  return {
    name: config.name,
    address: config.address,
    port: config.port,
    maintenance: opts.maintenance,
    connection: {
      state: "connecting",
      since: opts.since,
      lastSeen: null,
      message: opts.message,
      agentVersion: null,
      capabilities: [],
      pinnedKey: null,
      offeredKey: null,
      nextRetryAt: null,
    },
    inventory: emptyInventory(),
  };
}

const ALL_SECTIONS: SectionName[] = ["node", "virt", "net", "swarm", "storage"];

/**
 * An agent that sends this many messages over the size limit within the window is dropped and
 * retried only slowly (protocol-mismatch): each such message still costs a read, and a broken or
 * compromised host must not keep the server busy. One can be an accident; three in a minute is not.
 */
export const OVERSIZED_LIMIT = { count: 3, windowMs: 60_000 };

/**
 * One host's connection lifecycle: connecting -> hello -> inventory snapshot -> online; pushed
 * sections replace the inventory's sections; a lost link becomes `unreachable` and is retried
 * with backoff. A changed host key blocks the host until an admin accepts the new key.
 */
export class HostConnection {
  private current: HostRecord;
  private session: SshSession | null = null;
  private client: ProtocolClient | null = null;
  /** Bumped by every attempt and by stop(); callbacks from older attempts are ignored. */
  private generation = 0;
  private failures = 0;
  private unwatchLiveness: (() => void) | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private offeredKey: PinnedKey | null = null;
  private lastGarbageReport = 0;
  /** When this session's recent oversized messages arrived (at most OVERSIZED_LIMIT.count). */
  private oversizedAt: number[] = [];
  private suppressedGarbage = 0;
  private settleFirstAttempt!: () => void;
  /** Resolves once the first attempt ended either way (or on stop). */
  readonly firstAttempt = new Promise<void>((resolve) => (this.settleFirstAttempt = resolve));

  constructor(
    readonly config: HostConfig,
    private readonly deps: HostConnectionDeps,
    initial: { maintenance?: boolean } = {},
  ) {
    const now = new Date().toISOString();
    this.current = connectingRecord(config, { maintenance: initial.maintenance ?? false, since: now, message: null });
  }

  get record(): HostRecord {
    return this.current;
  }

  get name(): string {
    return this.config.name;
  }

  start(): void {
    if (!this.stopped) void this.connect();
  }

  /** Retry now instead of waiting for the next scheduled attempt. */
  reconnect(): void {
    if (this.stopped) return;
    this.failures = 0;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.clearRetry();
    this.closeSession();
    this.settleFirstAttempt();
  }

  request<M extends MethodName>(method: M, params: MethodParams<M>, opts?: { timeoutMs?: number }): Promise<MethodResult<M>> {
    const { state, message } = this.current.connection;
    if (state !== "online" || !this.client)
      return Promise.reject(
        new NimbusError("HOST_UNREACHABLE", `${this.name} is ${state}${message ? `: ${message}` : ""}`, { host: this.name, state }),
      );
    return this.client.request(method, params, { timeoutMs: opts?.timeoutMs ?? this.deps.timing.requestTimeoutMs });
  }

  /**
   * Pins the key the host offered, but only the one the admin saw: `fingerprint` must be what the
   * host presents now, and the old pin must still be in place (compare and swap in the store).
   */
  async acceptHostKey(fingerprint: string, acceptedBy: string | null = null): Promise<void> {
    const offered = this.offeredKey;
    const { state, pinnedKey } = this.current.connection;
    if (state !== "key-changed" || !offered || !pinnedKey)
      throw new NimbusError("CONFLICT", `${this.name}: no changed host key to accept (host is ${state})`, { host: this.name });
    if (offered.fingerprint !== fingerprint)
      throw new NimbusError(
        "CONFLICT",
        `${this.name} now presents the key ${offered.fingerprint}, not ${fingerprint}; nothing was accepted. Check the new fingerprint with the host's administrator before accepting it.`,
        { host: this.name, offered: offered.fingerprint, accepted: fingerprint },
      );
    if (!(await this.deps.knownHosts.replace(this.name, pinnedKey, { ...offered, acceptedBy }))) {
      this.reconnect();
      throw new NimbusError("CONFLICT", `${this.name}: its pinned key changed meanwhile (accepted elsewhere); nothing was accepted. Look at the host again.`, { host: this.name });
    }
    this.offeredKey = null;
    this.report("info", `${this.name}: new host key ${offered.fingerprint} accepted (was ${pinnedKey ?? "unknown"})`);
    this.reconnect();
  }

  setMaintenance(on: boolean): void {
    if (this.current.maintenance === on) return;
    this.current = { ...this.current, maintenance: on };
    this.emit(["maintenance"]);
  }

  private async connect(): Promise<void> {
    const gen = ++this.generation;
    this.clearRetry();
    this.closeSession();
    // Retries of a failing host keep its failure state (and `since`) instead of flickering.
    const { state } = this.current.connection;
    if (state === "online" || state === "key-changed") this.setConnection({ state: "connecting", message: null, nextRetryAt: null });
    try {
      const { session, client, hello, inventory } = await this.handshake(gen);
      if (gen !== this.generation) return;
      this.failures = 0;
      this.current = {
        ...this.current,
        inventory,
        connection: {
          ...this.connectionPatch({ state: "online", message: null, nextRetryAt: null }),
          agentVersion: hello.agentVersion,
          capabilities: hello.capabilities,
          pinnedKey: session.hostKey.fingerprint,
          offeredKey: null,
          lastSeen: client.lastMessageAt?.toISOString() ?? new Date().toISOString(),
        },
      };
      this.watchLiveness(client);
      this.deps.logger.info({ host: this.name, agentVersion: hello.agentVersion }, "host online");
      this.emit(["connection", ...ALL_SECTIONS]);
      this.settleFirstAttempt();
    } catch (err) {
      if (gen !== this.generation) return;
      this.fail(classifyFailure(err));
      this.settleFirstAttempt();
    }
  }

  private async handshake(gen: number) {
    const session = await this.deps.limiter.run(() => this.deps.dial(this.config));
    if (gen !== this.generation) {
      session.close();
      throw new Error("superseded");
    }
    this.session = session;
    session.onClose((failure) => this.onLost(session, failure?.message ?? "SSH connection closed"));
    const { timing } = this.deps;
    const started = await startAgent(
      session,
      {
        config: this.config,
        serverName: this.deps.serverName,
        requestTimeoutMs: timing.requestTimeoutMs,
        handshakeTimeoutMs: timing.handshakeTimeoutMs,
        exitGraceMs: timing.exitGraceMs,
        ensureAgent: this.deps.ensureAgent,
      },
      {
        attached: (client) => (this.client = client),
        notification: (client, n) => this.onNotification(client, n),
        protocolError: (client, e) => this.onProtocolError(client, e),
        closed: (client) => this.onLost(client, "agent channel closed"),
      },
    );
    return { session, ...started };
  }

  /**
   * Until the session closes, the fleet's sweep probes this agent when it falls silent and ends the
   * connection when it stays silent, with the message ssh2's keepalive timeout gave.
   */
  private watchLiveness(client: ProtocolClient) {
    const sweep = this.deps.liveness;
    if (!sweep) return;
    this.unwatchLiveness = sweep.watch({
      lastReceivedAt: () => client.lastReceivedAt,
      probe: () => {
        this.deps.logger.debug({ host: this.name, silentMs: Date.now() - client.lastReceivedAt }, "agent silent, probing");
        // Any answer is traffic and proves the agent and the link alive, methodNotFound from an
        // agent older than ping included; so the outcome itself is not needed.
        client.request("ping", {}, { timeoutMs: sweep.lostAfterMs }).catch(() => undefined);
      },
      lost: () => this.onLost(client, `${this.name}: Keepalive timeout`),
    });
  }

  private onLost(source: ProtocolClient | SshSession, reason: string) {
    if (source !== this.client && source !== this.session) return;
    // During the handshake the pending request reports the failure instead.
    if (this.current.connection.state !== "online") return;
    const lastSeen = this.client?.lastMessageAt;
    this.closeSession();
    this.deps.logger.warn({ host: this.name, reason }, "host connection lost");
    this.fail({ state: "unreachable", message: `${this.name}: connection lost (${reason})` }, lastSeen);
  }

  private fail(failure: ConnectFailure, lastSeen?: Date | null) {
    this.closeSession();
    if (this.stopped) return;
    const seen = lastSeen ? { lastSeen: lastSeen.toISOString() } : {};
    const previous = this.current.connection.state;
    if (failure.state === "key-changed") {
      this.offeredKey = failure.offered ?? null;
      this.current = {
        ...this.current,
        connection: {
          ...this.connectionPatch({ state: "key-changed", message: failure.message, nextRetryAt: null }),
          ...seen,
          pinnedKey: failure.pinned ?? this.current.connection.pinnedKey,
          offeredKey: failure.offered?.fingerprint ?? null,
        },
      };
      this.emit(["connection"]);
    } else {
      const delayMs =
        failure.state === "unreachable"
          ? backoffDelay(this.failures++, this.deps.timing.backoff, this.deps.random)
          : Math.round(this.deps.timing.slowRetryMs * (1 - this.deps.timing.backoff.jitter * (this.deps.random ?? Math.random)()));
      const nextRetryAt = new Date(Date.now() + delayMs).toISOString();
      this.current = {
        ...this.current,
        connection: { ...this.connectionPatch({ state: failure.state, message: failure.message, nextRetryAt }), ...seen },
      };
      this.emit(["connection"]);
      this.retryTimer = setTimeout(() => void this.connect(), delayMs);
      this.retryTimer.unref();
    }
    if (previous !== failure.state) {
      this.deps.logger.warn({ host: this.name, state: failure.state }, failure.message);
      this.report(failure.state === "unreachable" ? "warn" : "error", failure.message);
    }
  }

  private onNotification(client: ProtocolClient, n: AgentNotification) {
    if (client !== this.client) return;
    switch (n.method) {
      case "inventory.section": {
        const { section } = n.params;
        const parsed = sectionSchema(section).safeParse(n.params.data);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          return this.report("error", `${this.name}: pushed ${section} section does not match the schema (${issue?.path.join(".")}: ${issue?.message})`);
        }
        this.current = {
          ...this.current,
          inventory: { ...this.current.inventory, [section]: parsed.data },
          connection: { ...this.current.connection, lastSeen: client.lastMessageAt?.toISOString() ?? null },
        };
        return this.emit([section]);
      }
      case "job.update":
        return this.deps.events.job(n.params.job);
      case "host.event":
        return this.deps.events.hostEvent(n.params);
      case "console.output":
      case "console.closed":
        return this.deps.events.console?.(n.params);
      case "swarm.logLines":
        return this.deps.events.logLines?.(n.params);
      case "stats.counters":
        return this.deps.events.stats?.(Date.now(), n.params);
    }
  }

  /** Garbage on the channel is reported, but at most one event per 10 s so a noisy host cannot flood the log. */
  private onProtocolError(client: ProtocolClient, err: NimbusError) {
    if (client !== this.client) return;
    this.deps.logger.warn({ host: this.name, err: err.message }, "protocol error");
    if (typeof err.details?.oversizedBytes === "number" && this.tooManyOversized()) return this.dropOversized();
    const now = Date.now();
    if (now - this.lastGarbageReport < 10_000) {
      this.suppressedGarbage++;
      return;
    }
    const more = this.suppressedGarbage ? ` (${this.suppressedGarbage} more since the last report)` : "";
    this.lastGarbageReport = now;
    this.suppressedGarbage = 0;
    this.report("warn", err.message + more);
  }

  private tooManyOversized(): boolean {
    const now = Date.now();
    this.oversizedAt = [...this.oversizedAt.filter((t) => now - t < OVERSIZED_LIMIT.windowMs), now];
    return this.oversizedAt.length >= OVERSIZED_LIMIT.count;
  }

  private dropOversized() {
    const lastSeen = this.client?.lastMessageAt;
    // A handshake still awaiting its answers must not report this failure a second time.
    this.generation++;
    const message = `${this.name}: the agent sent ${this.oversizedAt.length} messages over the size limit within ${OVERSIZED_LIMIT.windowMs / 1000} s; connection dropped (a broken or compromised agent?)`;
    this.deps.logger.warn({ host: this.name }, message);
    this.fail({ state: "protocol-mismatch", message }, lastSeen);
    this.settleFirstAttempt();
  }

  private connectionPatch(patch: { state: ConnectionState; message: string | null; nextRetryAt: string | null }): ConnectionInfo {
    const prev = this.current.connection;
    return { ...prev, ...patch, since: prev.state === patch.state ? prev.since : new Date().toISOString() };
  }

  private setConnection(patch: { state: ConnectionState; message: string | null; nextRetryAt: string | null }) {
    this.current = { ...this.current, connection: this.connectionPatch(patch) };
    this.emit(["connection"]);
  }

  private emit(changed: HostChange[]) {
    this.deps.events.record(this.current, changed);
  }

  private report(level: HostEventLevel, message: string) {
    this.deps.events.hostEvent({ at: new Date().toISOString(), level, message });
  }

  private closeSession() {
    this.oversizedAt = [];
    this.unwatchLiveness?.();
    this.unwatchLiveness = null;
    const { client, session } = this;
    this.client = null;
    this.session = null;
    client?.close();
    session?.close();
  }

  private clearRetry() {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}

