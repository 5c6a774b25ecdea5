import { NimbusError, type HostRecord, type MethodName, type MethodParams, type MethodResult } from "@nimbus/domain";
import { pino, type Logger } from "pino";
import type { FleetEvent, FleetView, HostConfig, KnownHostsStore } from "./contract.js";
import type { EnsureAgent } from "./agent-start.js";
import { DEFAULT_TIMING, HostConnection, type ConnectionTiming, type Dialer } from "./host-connection.js";
import { ConcurrencyLimiter } from "./limiter.js";
import { ListenerSet } from "./listeners.js";
import { DEFAULT_LIVENESS, LivenessSweep } from "./liveness.js";
import { connectHost, parsePrivateKey } from "./ssh/index.js";
import { warmProtocolSchemas } from "./protocol-schemas.js";

export interface FleetOptions {
  hosts: readonly HostConfig[];
  /** The server's SSH private key (OpenSSH format); parsed once, a bad key throws BAD_INPUT here. */
  privateKey: Buffer | string;
  knownHosts: KnownHostsStore;
  /** Hosts in maintenance at start (persisted by the server). */
  maintenance?: ReadonlySet<string>;
  /**
   * Simultaneous SSH handshakes. Default 768, measured connecting 2,000 lab hosts on 2 cores: 64
   * took 7-8.6 s, 256 5.7-6.9 s, 768 5.6-6.4 s, 2,048 no better; a deep queue lets each turn of the
   * event loop (here and at the peers) serve many sockets, and the CPUs never wait on each other.
   * Each handshake then takes ~2 s at 400 a second, well inside connectTimeoutMs.
   */
  concurrency?: number;
  connectTimeoutMs?: number;
  /**
   * Liveness of online agents, from their traffic (liveness.ts): one silent this long (default
   * 15 s) is probed, once per interval; one silent keepaliveMs * keepaliveCountMax (default 3,
   * so 45 s) is lost like a dropped link. 0 turns it off (only a closed connection is noticed).
   */
  keepaliveMs?: number;
  keepaliveCountMax?: number;
  timing?: Partial<ConnectionTiming>;
  serverName?: string;
  logger?: Logger;
  ensureAgent?: EnsureAgent;
  /** Replaces SSH (tests of the state machine); defaults to connectHost with the options above. */
  dial?: Dialer;
}

/**
 * The live fleet: one HostConnection per host and their records held in memory. Subscribers get
 * every change as an event carrying the changed host's record (never a copy of the whole fleet).
 */
export class Fleet implements FleetView {
  private readonly connections = new Map<string, HostConnection>();
  private readonly listeners: ListenerSet<FleetEvent>;
  private readonly limiter: ConcurrencyLimiter;
  private readonly timing: ConnectionTiming;
  private readonly dial: Dialer;
  private readonly logger: Logger;
  /** One sweep, one timer, for every host's liveness. */
  private readonly liveness: LivenessSweep | undefined;
  private started = false;
  /** Pins read in one query at start, each used once by its host's first connection. */
  private startupPins = new Map<string, { fingerprint: string; key: string } | null>();

  constructor(private readonly opts: FleetOptions) {
    this.limiter = new ConcurrencyLimiter(opts.concurrency ?? 768);
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.logger = opts.logger ?? pino({ level: "silent" });
    this.listeners = new ListenerSet(this.logger, "fleet event");
    const keepaliveMs = opts.keepaliveMs ?? DEFAULT_LIVENESS.keepaliveMs;
    if (keepaliveMs > 0) this.liveness = new LivenessSweep({ keepaliveMs, countMax: opts.keepaliveCountMax ?? DEFAULT_LIVENESS.countMax });
    const privateKey = opts.dial ? null : parsePrivateKey(opts.privateKey);
    const knownHosts: KnownHostsStore = {
      get: (host) => {
        const pin = this.startupPins.get(host);
        if (pin === undefined) return opts.knownHosts.get(host);
        // Later connections read the store again: an admin may accept a new key meanwhile.
        this.startupPins.delete(host);
        return Promise.resolve(pin);
      },
      pin: (host, entry) => opts.knownHosts.pin(host, entry),
      replace: (host, previous, entry) => opts.knownHosts.replace(host, previous, entry),
    };
    this.dial =
      opts.dial ??
      ((config) =>
        connectHost(config, {
          privateKey: privateKey!,
          knownHosts,
          timeoutMs: opts.connectTimeoutMs ?? 10_000,
        }));
    for (const h of opts.hosts) this.create(h);
    // Compiled while the server starts (~0.1 s once), not in the first answer's turn mid-connect.
    warmProtocolSchemas();
  }

  /** Starts every connection; resolves once each host's first attempt ended (online or not). */
  async start(): Promise<void> {
    const pins = await this.opts.knownHosts.list?.();
    if (pins) {
      // null: known not to be pinned yet (first start), so its first connection needs no query either.
      const byHost = new Map(pins.map((p) => [p.host, { fingerprint: p.fingerprint, key: p.key }]));
      this.startupPins = new Map([...this.connections.keys()].map((h) => [h, byHost.get(h) ?? null]));
    }
    this.started = true;
    for (const c of this.connections.values()) c.start();
    await Promise.all([...this.connections.values()].map((c) => c.firstAttempt));
  }

  stop(): void {
    this.started = false;
    for (const c of this.connections.values()) c.stop();
    this.liveness?.stop();
  }

  hosts(): readonly HostRecord[] {
    return Array.from(this.connections.values(), (c) => c.record);
  }

  host(name: string): HostRecord | undefined {
    return this.connections.get(name)?.record;
  }

  hostConfig(name: string): HostConfig | undefined {
    return this.connections.get(name)?.config;
  }

  request<M extends MethodName>(host: string, method: M, params: MethodParams<M>, opts?: { timeoutMs?: number }): Promise<MethodResult<M>> {
    const conn = this.connections.get(host);
    if (!conn) return Promise.reject(new NimbusError("NOT_FOUND", `host ${host} is not part of the fleet`, { host }));
    return conn.request(method, params, opts);
  }

  acceptHostKey(host: string, fingerprint: string, acceptedBy?: string | null): Promise<void> {
    return this.connection(host).acceptHostKey(fingerprint, acceptedBy ?? null);
  }

  setMaintenance(host: string, on: boolean): void {
    this.connection(host).setMaintenance(on);
  }

  /** Retry a host now (after fixing its agent or credentials) instead of waiting for the backoff. */
  reconnect(host: string): void {
    this.connection(host).reconnect();
  }

  subscribe(listener: (e: FleetEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  /**
   * Starts watching one more host (a replica that took its lease; `maintenance` as persisted, since
   * the flags read at start are stale by then).
   */
  addHost(config: HostConfig, initial: { maintenance?: boolean } = {}): void {
    if (this.connections.has(config.name)) throw new NimbusError("CONFLICT", `host ${config.name} is already part of the fleet`, { host: config.name });
    const conn = this.create(config, initial.maintenance);
    if (this.started) conn.start();
  }

  /** Stops watching a host: its SSH session is closed before this returns. */
  removeHost(name: string): void {
    this.connection(name).stop();
    this.connections.delete(name);
  }

  private connection(name: string): HostConnection {
    const conn = this.connections.get(name);
    if (!conn) throw new NimbusError("NOT_FOUND", `host ${name} is not part of the fleet`, { host: name });
    return conn;
  }

  private create(config: HostConfig, maintenance?: boolean): HostConnection {
    const host = config.name;
    const conn = new HostConnection(
      config,
      {
        dial: this.dial,
        knownHosts: this.opts.knownHosts,
        limiter: this.limiter,
        timing: this.timing,
        serverName: this.opts.serverName ?? "nimbus-server",
        logger: this.logger,
        ensureAgent: this.opts.ensureAgent,
        liveness: this.liveness,
        events: {
          record: (record, changed) => this.listeners.emit({ type: "host", host: record, changed }),
          job: (job) => this.listeners.emit({ type: "job", host, job }),
          hostEvent: (e) => this.listeners.emit({ type: "host-event", host, ...e }),
          console: (e) =>
            this.listeners.emit("data" in e ? { type: "console-output", host, session: e.session, data: e.data } : { type: "console-closed", host, session: e.session, reason: e.reason }),
          logLines: (chunk) => this.listeners.emit({ type: "log-lines", host, chunk }),
          stats: (at, counters) => this.listeners.emit({ type: "stats", host, at, counters }),
        },
      },
      { maintenance: maintenance ?? this.opts.maintenance?.has(host) ?? false },
    );
    this.connections.set(host, conn);
    return conn;
  }
}
