import pg from "pg";
import { pino, type Logger } from "pino";

/**
 * The cluster's message bus: PostgreSQL LISTEN/NOTIFY on channel `nimbus_cluster`. A message
 * whose JSON is larger than `maxInlineBytes` (NOTIFY payloads stop at 8,000 bytes) is written to
 * cluster_outbox in the same statement and the notification carries only its id. Messages from one
 * replica arrive in the order it published them (one connection publishes, receivers apply in
 * order, outbox reads included). A connection lost and made again may have missed messages: the
 * bus then emits `resync` so the owners publish their records again (ClusterFleet).
 */
export const BUS_CHANNEL = "nimbus_cluster";

export interface BusMessage {
  kind: string;
  /** The replica that published it. */
  from: string;
  payload: unknown;
}

type Wire = { k: string; f: string; p?: unknown; o?: number | string };

export interface ClusterBusOptions {
  url: string;
  replicaId: string;
  maxInlineBytes?: number;
  /** Outbox rows older than this are deleted (every receiver has read them long before). */
  outboxKeepMs?: number;
  logger?: Logger;
  /** Reconnect delay after the connection is lost. */
  retryMs?: number;
}

export class ClusterBus {
  private client: pg.Client | null = null;
  private readonly listeners = new Set<(m: BusMessage) => void>();
  private readonly resyncListeners = new Set<() => void>();
  private readonly logger: Logger;
  private readonly maxInline: number;
  /** Received messages are applied one after the other (an outbox read must not let a later one pass). */
  private inbound: Promise<void> = Promise.resolve();
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private trimTimer: NodeJS.Timeout | null = null;
  private connected = false;
  /** Published, delivered to PostgreSQL, and received counts (tests and /metrics). */
  readonly stats = { published: 0, outbox: 0, received: 0, dropped: 0 };

  constructor(private readonly opts: ClusterBusOptions) {
    this.logger = opts.logger ?? pino({ level: "silent" });
    this.maxInline = opts.maxInlineBytes ?? 7_000;
  }

  async start(): Promise<void> {
    await this.connect();
    const keep = this.opts.outboxKeepMs ?? 60_000;
    this.trimTimer = setInterval(() => {
      void this.client?.query(`delete from cluster_outbox where at < now() - $1 * interval '1 millisecond'`, [keep]).catch(() => undefined);
    }, Math.max(1_000, keep / 2));
    this.trimTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.trimTimer) clearInterval(this.trimTimer);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  isConnected(): boolean {
    return this.connected;
  }

  subscribe(listener: (m: BusMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called after a reconnect: messages may have been missed both ways. */
  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  /**
   * Sends to every other replica. Resolves once PostgreSQL took it; rejects when not connected
   * (the message is lost: a resync follows the reconnect).
   */
  async publish(kind: string, payload: unknown): Promise<void> {
    const c = this.client;
    if (!c || !this.connected) {
      this.stats.dropped++;
      throw new Error("cluster bus not connected");
    }
    const inline = JSON.stringify({ k: kind, f: this.opts.replicaId, p: payload } satisfies Wire);
    this.stats.published++;
    if (Buffer.byteLength(inline) <= this.maxInline) {
      await c.query(`select pg_notify($1, $2)`, [BUS_CHANNEL, inline]);
      return;
    }
    this.stats.outbox++;
    await c.query(
      `with row as (insert into cluster_outbox (kind, payload) values ($2, $3::jsonb) returning id)
       select pg_notify($1, json_build_object('k', $2::text, 'f', $4::text, 'o', (select id from row))::text)`,
      [BUS_CHANNEL, kind, JSON.stringify(payload), this.opts.replicaId],
    );
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.opts.url, keepAlive: true });
    client.on("error", (err) => this.lost(client, err));
    client.on("end", () => this.lost(client, new Error("connection ended")));
    await client.connect();
    client.on("notification", (n) => {
      if (n.channel !== BUS_CHANNEL || !n.payload) return;
      this.receive(client, n.payload);
    });
    await client.query(`listen ${BUS_CHANNEL}`);
    this.client = client;
    this.connected = true;
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.client !== client) return;
    this.connected = false;
    this.client = null;
    client.end().catch(() => undefined);
    if (this.stopped) return;
    this.logger.warn({ err }, "cluster bus connection lost; reconnecting");
    const retry = () => {
      this.retryTimer = null;
      if (this.stopped) return;
      this.connect().then(
        () => {
          this.logger.info("cluster bus reconnected");
          for (const l of this.resyncListeners) l();
        },
        (e: unknown) => {
          this.logger.warn({ err: e }, "cluster bus reconnect failed");
          this.retryTimer = setTimeout(retry, this.opts.retryMs ?? 1_000);
        },
      );
    };
    this.retryTimer = setTimeout(retry, this.opts.retryMs ?? 1_000);
  }

  private receive(client: pg.Client, text: string): void {
    let wire: Wire;
    try {
      wire = JSON.parse(text) as Wire;
    } catch {
      return;
    }
    if (typeof wire.k !== "string" || typeof wire.f !== "string" || wire.f === this.opts.replicaId) return;
    this.inbound = this.inbound.then(async () => {
      let payload = wire.p;
      if (wire.o !== undefined) {
        try {
          const { rows } = await client.query<{ payload: unknown }>(`select payload from cluster_outbox where id = $1`, [wire.o]);
          if (!rows[0]) return;
          payload = rows[0].payload;
        } catch (err) {
          this.logger.warn({ err }, "cluster bus message not read from the outbox");
          return;
        }
      }
      this.stats.received++;
      const message: BusMessage = { kind: wire.k, from: wire.f, payload };
      for (const l of this.listeners) {
        try {
          l(message);
        } catch (err) {
          this.logger.error({ err, kind: wire.k }, "cluster bus listener failed");
        }
      }
    });
  }
}
