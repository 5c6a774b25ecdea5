import { randomBytes } from "node:crypto";
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
  /** The publisher's boot (`<replica>@<nonce>`) and its message number, 1, 2, 3… per boot (absent from a foreign sender). */
  origin?: string;
  n?: number;
}

type Wire = { k: string; f: string; p?: unknown; o?: number | string; b?: string; n?: number };

/** Outbox rows read in one query at most (messages waiting when a read starts). */
const OUTBOX_BATCH = 32;

/** Origins remembered in the watermark (a replica restarted many times leaves one per boot). */
const MAX_ORIGINS = 16;
const ORIGIN = /^[A-Za-z0-9._-]{1,64}@[0-9a-f]{8}$/;

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
  /**
   * Received messages, applied one after the other (an outbox read must not let a later one pass).
   * The outbox rows of the messages waiting when a read starts are read in one query: a replica's
   * connect sends dozens of large messages in a burst, and one round trip each kept them queued.
   */
  private readonly inbound: { client: pg.Client; wire: Wire }[] = [];
  private draining = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private trimTimer: NodeJS.Timeout | null = null;
  private connected = false;
  /** Published, delivered to PostgreSQL, and received counts (tests and /metrics). */
  readonly stats = { published: 0, outbox: 0, received: 0, dropped: 0 };
  /** This boot's name on the bus: message numbers restart with every boot. */
  readonly origin: string;
  /** Messages this boot published (numbered from 1, in publishing order, the receivers' order). */
  private sent = 0;
  /** Per origin, the number of the last message received (messages of one origin arrive in order). */
  private readonly marks = new Map<string, number>();
  private readonly publishedListeners = new Set<(m: BusMessage) => void>();

  constructor(private readonly opts: ClusterBusOptions) {
    this.logger = opts.logger ?? pino({ level: "silent" });
    this.maxInline = opts.maxInlineBytes ?? 7_000;
    this.origin = `${opts.replicaId}@${randomBytes(4).toString("hex")}`;
  }

  /**
   * How far this replica has read every origin's messages (its own: how many it published). Two
   * replicas' watermarks compare origin by origin: the live channel's cluster cursor (replay.ts).
   */
  watermark(): Map<string, number> {
    return new Map([...this.marks, [this.origin, this.sent]]);
  }

  /** Hears each message this replica publishes, numbered, when it is handed to PostgreSQL (in order). */
  onPublished(listener: (m: BusMessage) => void): () => void {
    this.publishedListeners.add(listener);
    return () => this.publishedListeners.delete(listener);
  }

  async start(): Promise<void> {
    await this.connect();
    const keep = this.opts.outboxKeepMs ?? 60_000;
    this.trimTimer = setInterval(() => {
      void this.client?.query(`delete from cluster_outbox where at < now() - $1 * interval '1 millisecond'`, [keep]).catch(() => undefined);
    }, Math.max(100, keep / 2));
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
    const n = ++this.sent;
    const message: BusMessage = { kind, from: this.opts.replicaId, payload, origin: this.origin, n };
    for (const l of this.publishedListeners) {
      try {
        l(message);
      } catch (err) {
        this.logger.error({ err, kind }, "cluster bus publish listener failed");
      }
    }
    // The payload is encoded once (a connect's messages are 100 host records, ~100 KB each): the
    // notification is the envelope around that text, or the outbox row is that text.
    const body = JSON.stringify(payload) as string | undefined;
    this.stats.published++;
    // A string's UTF-8 length is at least its length in UTF-16 units: most outbox messages need no count.
    if (body === undefined || body.length <= this.maxInline) {
      const envelope = JSON.stringify({ k: kind, f: this.opts.replicaId, b: this.origin, n } satisfies Wire);
      const inline = body === undefined ? envelope : `${envelope.slice(0, -1)},"p":${body}}`;
      if (Buffer.byteLength(inline) <= this.maxInline) {
        await c.query(`select pg_notify($1, $2)`, [BUS_CHANNEL, inline]);
        return;
      }
    }
    this.stats.outbox++;
    await c.query(
      `with row as (insert into cluster_outbox (kind, payload) values ($2, $3::jsonb) returning id)
       select pg_notify($1, json_build_object('k', $2::text, 'f', $4::text, 'o', (select id from row), 'b', $5::text, 'n', $6::int)::text)`,
      [BUS_CHANNEL, kind, body ?? "null", this.opts.replicaId, this.origin, n],
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

  /** Notes a received message number before the listeners apply it (they may read the watermark). */
  private mark(origin: string, n: number): void {
    if ((this.marks.get(origin) ?? 0) >= n) return;
    this.marks.delete(origin);
    this.marks.set(origin, n);
    // Bounded: the origin heard from least recently goes (a cursor without it is only replayed more).
    if (this.marks.size > MAX_ORIGINS) this.marks.delete(this.marks.keys().next().value!);
  }

  private receive(client: pg.Client, text: string): void {
    let wire: Wire;
    try {
      wire = JSON.parse(text) as Wire;
    } catch {
      return;
    }
    if (typeof wire.k !== "string" || typeof wire.f !== "string" || wire.f === this.opts.replicaId) return;
    // An outbox id is a bigint: anything else is junk (and must not fail the read of the others' rows).
    if (wire.o !== undefined && !(Number.isSafeInteger(wire.o) || (typeof wire.o === "string" && /^[0-9]{1,18}$/.test(wire.o)))) return;
    this.inbound.push({ client, wire });
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    // Cleared in the same turn the queue is found empty: notifications parsed from one socket read
    // arrive in one turn, and one queued after the loop's last look would wait for the next message.
    this.draining = true;
    try {
      while (this.inbound.length) await this.applyBatch();
    } finally {
      this.draining = false;
    }
  }

  /** The next messages of one connection, their outbox rows read in one query. */
  private async applyBatch(): Promise<void> {
    // One connection's messages, at most OUTBOX_BATCH of them (rows of ~100 KB each).
    const client = this.inbound[0]!.client;
    let end = 0;
    while (end < this.inbound.length && end < OUTBOX_BATCH && this.inbound[end]!.client === client) end++;
    const batch = this.inbound.splice(0, end).map((x) => x.wire);
    const ids = batch.flatMap((w) => (w.o === undefined ? [] : [String(w.o)]));
    let rows: Map<string, unknown> | null = new Map();
    if (ids.length) {
      try {
        const { rows: found } = await client.query<{ id: string; payload: unknown }>(`select id::text as id, payload from cluster_outbox where id = any($1::bigint[])`, [ids]);
        rows = new Map(found.map((r) => [r.id, r.payload]));
      } catch (err) {
        this.logger.warn({ err }, "cluster bus messages not read from the outbox");
        rows = null;
      }
    }
    for (const wire of batch) {
      let payload = wire.p;
      if (wire.o !== undefined) {
        // Not there (trimmed, or junk): skipped, as a lost message (a resync follows a reconnect).
        if (!rows?.has(String(wire.o))) continue;
        payload = rows.get(String(wire.o));
      }
      this.deliver(wire, payload);
    }
  }

  private deliver(wire: Wire, payload: unknown): void {
    this.stats.received++;
    const message: BusMessage = { kind: wire.k, from: wire.f, payload };
    if (typeof wire.b === "string" && ORIGIN.test(wire.b) && Number.isSafeInteger(wire.n) && wire.n! > 0) {
      message.origin = wire.b;
      message.n = wire.n!;
      this.mark(wire.b, wire.n!);
    }
    for (const l of this.listeners) {
      try {
        l(message);
      } catch (err) {
        this.logger.error({ err, kind: wire.k }, "cluster bus listener failed");
      }
    }
  }
}
