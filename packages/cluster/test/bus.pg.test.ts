import pg from "pg";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ClusterBus, type BusMessage } from "../src/bus.js";
import { freshDatabase, pool } from "./support/pg.js";
import { TcpProxy } from "./support/tcp-proxy.js";

describe("cluster bus (LISTEN/NOTIFY + outbox) on PostgreSQL", () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function bus(url: string, id: string, opts: { outboxKeepMs?: number } = {}) {
    const b = new ClusterBus({ url, replicaId: id, retryMs: 100, ...opts });
    await b.start();
    cleanups.push(() => b.stop());
    const got: BusMessage[] = [];
    b.subscribe((m) => got.push(m));
    return { b, got };
  }

  it("delivers to the others in publishing order, large messages through the outbox, never back to the sender", async () => {
    const { url, target } = await freshDatabase();
    cleanups.push(() => target.remove());
    const a = await bus(url, "a");
    const b = await bus(url, "b");
    const c = await bus(url, "c");
    const big = (i: number) => ({ i, blob: "x".repeat(50_000 + i) });
    for (let i = 0; i < 20; i++) await a.b.publish("m", i % 3 === 0 ? big(i) : { i });
    await vi.waitFor(() => expect(b.got).toHaveLength(20), { timeout: 10_000, interval: 20 });
    await vi.waitFor(() => expect(c.got).toHaveLength(20), { timeout: 10_000, interval: 20 });
    expect(b.got.map((m) => (m.payload as { i: number }).i)).toEqual([...Array(20).keys()]);
    expect(b.got.every((m) => m.from === "a" && m.kind === "m")).toBe(true);
    expect((b.got[3]!.payload as { blob: string }).blob).toHaveLength(50_003);
    expect(a.got).toHaveLength(0);
    expect(a.b.stats.outbox).toBe(7);
    // Outbox rows carry the large ones only.
    const admin = pool(url);
    cleanups.push(() => admin.end());
    expect((await admin.query(`select count(*)::int as n from cluster_outbox`)).rows[0]!.n).toBe(7);
  });

  it("measures a message in bytes, not characters (a short text of wide characters goes by the outbox), and sends one without payload", async () => {
    const { url, target } = await freshDatabase();
    cleanups.push(() => target.remove());
    const a = await bus(url, "a");
    const b = await bus(url, "b");
    // 3,000 characters, 9,000 bytes of UTF-8: over NOTIFY's 8,000-byte limit, under it in characters.
    const wide = { s: "\u20ac".repeat(3_000) };
    await a.b.publish("wide", wide);
    await a.b.publish("none", undefined);
    await a.b.publish("small", { s: "\u20ac" });
    await vi.waitFor(() => expect(b.got).toHaveLength(3), { timeout: 10_000, interval: 20 });
    expect(b.got.map((m) => [m.kind, m.payload])).toEqual([["wide", wide], ["none", undefined], ["small", { s: "\u20ac" }]]);
    expect(a.b.stats.outbox).toBe(1);
  });

  it("numbers each boot's messages in publishing order (outbox ones too); the watermark says how far each origin was read", async () => {
    const { url, target } = await freshDatabase();
    cleanups.push(() => target.remove());
    const a = await bus(url, "a");
    const b = await bus(url, "b");
    const published: number[] = [];
    a.b.onPublished((m) => published.push(m.n!));
    for (let i = 0; i < 5; i++) await a.b.publish("m", i === 2 ? { blob: "x".repeat(20_000) } : { i });
    await vi.waitFor(() => expect(b.got).toHaveLength(5), { timeout: 10_000, interval: 20 });
    expect(a.b.origin).toMatch(/^a@[0-9a-f]{8}$/);
    expect(published).toEqual([1, 2, 3, 4, 5]);
    expect(b.got.map((m) => [m.origin, m.n])).toEqual([1, 2, 3, 4, 5].map((n) => [a.b.origin, n]));
    expect(b.b.watermark()).toEqual(new Map([[a.b.origin, 5], [b.b.origin, 0]]));
    expect(a.b.watermark().get(a.b.origin)).toBe(5);
    // A forged number is no number: the message arrives without one and the watermark stays.
    const admin = pool(url);
    cleanups.push(() => admin.end());
    await admin.query(`select pg_notify('nimbus_cluster', $1)`, [JSON.stringify({ k: "m", f: "x", p: {}, b: "x@nothex!", n: 1e300 })]);
    await vi.waitFor(() => expect(b.got).toHaveLength(6), { timeout: 5_000, interval: 20 });
    expect(b.got[5]!.n).toBeUndefined();
    expect(b.b.watermark().size).toBe(2);
  });

  it("ignores junk on the channel (not JSON, no sender, an outbox id that is not there)", async () => {
    const { url, target } = await freshDatabase();
    cleanups.push(() => target.remove());
    const b = await bus(url, "b");
    const admin = pool(url);
    cleanups.push(() => admin.end());
    for (const junk of ["not json", "{}", JSON.stringify({ k: "m" }), JSON.stringify({ k: "m", f: "x", o: 999_999 })]) await admin.query(`select pg_notify('nimbus_cluster', $1)`, [junk]);
    await admin.query(`select pg_notify('nimbus_cluster', $1)`, [JSON.stringify({ k: "m", f: "x", p: { ok: true } })]);
    await vi.waitFor(() => expect(b.got).toHaveLength(1), { timeout: 5_000, interval: 20 });
    expect(b.got[0]!.payload).toEqual({ ok: true });
  });

  it("a lost connection is made again and announced (resync), and messages flow again", async () => {
    const { url, target } = await freshDatabase();
    cleanups.push(() => target.remove());
    const u = new URL(url);
    const proxy = new TcpProxy(u.hostname, Number(u.port || 5432));
    await proxy.start();
    cleanups.push(() => proxy.stop());
    const a = await bus(url, "a");
    const b = await bus(proxy.url(url), "b");
    let resyncs = 0;
    b.b.onResync(() => resyncs++);
    proxy.cut();
    proxy.restore(); // drops every connection: b notices at once
    await vi.waitFor(() => expect(resyncs).toBe(1), { timeout: 10_000, interval: 20 });
    expect(b.b.isConnected()).toBe(true);
    await a.b.publish("m", { after: true });
    await vi.waitFor(() => expect(b.got.map((m) => m.payload)).toContainEqual({ after: true }), { timeout: 5_000, interval: 20 });
  });

  it("refuses to publish when not connected (the caller learns the message is lost)", async () => {
    const { url, target } = await freshDatabase();
    cleanups.push(() => target.remove());
    const a = await bus(url, "a");
    await a.b.stop();
    await expect(a.b.publish("m", {})).rejects.toThrow(/not connected/);
    expect(a.b.stats.dropped).toBe(1);
  });

  it("trims outbox rows older than outboxKeepMs", async () => {
    const { url, target } = await freshDatabase();
    cleanups.push(() => target.remove());
    const a = await bus(url, "a", { outboxKeepMs: 200 });
    await a.b.publish("m", { blob: "x".repeat(20_000) });
    const admin = pool(url);
    cleanups.push(() => admin.end());
    await admin.query(`update cluster_outbox set at = now() - interval '1 hour'`);
    await vi.waitFor(async () => expect((await admin.query(`select count(*)::int as n from cluster_outbox`)).rows[0]!.n).toBe(0), { timeout: 5_000, interval: 20 });
  });

  it("reads the outbox rows of a burst in a few queries (the messages waiting when a read starts), in publishing order, junk ids skipped", async () => {
    const { url, target } = await freshDatabase();
    cleanups.push(() => target.remove());
    const a = await bus(url, "a");
    const b = await bus(url, "b");
    // b's first outbox read is held until the whole burst has arrived (a busy replica).
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const reads: number[] = [];
    const query = pg.Client.prototype.query;
    const spy = vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const text = typeof args[0] === "string" ? args[0] : "";
      if (!text.includes("from cluster_outbox where id = any")) return (query as (...a: unknown[]) => unknown).apply(this, args);
      reads.push((args[1] as string[][])[0]!.length);
      return (reads.length === 1 ? gate : Promise.resolve()).then(() => (query as (...a: unknown[]) => unknown).apply(this, args));
    } as never);
    cleanups.push(() => spy.mockRestore());
    const admin = pool(url);
    cleanups.push(() => admin.end());
    const big = (i: number) => ({ i, blob: "x".repeat(10_000) });
    await Promise.all(Array.from({ length: 40 }, (_, i) => a.b.publish("m", i % 5 === 4 ? { i } : big(i))));
    // A forged notification naming an outbox id that is no number is dropped, not sent to PostgreSQL.
    await admin.query(`select pg_notify('nimbus_cluster', $1)`, [JSON.stringify({ k: "m", f: "x", o: "1; drop table cluster_outbox" })]);
    await a.b.publish("m", { i: 40 });
    await vi.waitFor(() => expect((b.b as unknown as { inbound: unknown[] }).inbound.length).toBe(40), { timeout: 10_000, interval: 10 });
    release();
    await vi.waitFor(() => expect(b.got).toHaveLength(41), { timeout: 10_000, interval: 20 });
    expect(b.got.map((m) => (m.payload as { i: number }).i)).toEqual([...Array(41).keys()]);
    expect(b.got.map((m) => m.n)).toEqual([...Array(41).keys()].map((i) => i + 1));
    // 32 outbox messages: the first alone (it started the read), then the 31 that waited, in one or two reads (at most 32 rows each).
    expect(reads[0]).toBe(1);
    expect(reads.length).toBeLessThanOrEqual(3);
    expect(reads.reduce((x, y) => x + y, 0)).toBe(32);
    expect((await admin.query(`select count(*)::int as n from cluster_outbox`)).rows[0]!.n).toBe(32);
  });
});
