import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CheckSpec, type CheckProbe, type CheckSpecInput } from "@nimbus/domain";
import { CheckRunner, realProbe, type ProbeOutcome } from "../../src/index.js";

const spec = (over: Partial<CheckSpecInput> = {}): CheckSpec =>
  CheckSpec.parse({
    id: "active:svc:web:8080:swarm1",
    target: "web :8080 on swarm1",
    category: "swarm",
    probe: { kind: "tcp", host: "127.0.0.1", port: 8080 },
    timing: { intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3 },
    ...over,
  });

describe("CheckRunner (fake timers)", () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date("2026-12-07T09:00:00.000Z") }));
  afterEach(() => vi.useRealTimers());

  const timers = { now: () => new Date(), setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };

  it("probes every interval and applies rise/fall: UP after 2 passes, DOWN after 3 failures, pushing only on news", async () => {
    let ok = true;
    const probe = vi.fn(async (): Promise<ProbeOutcome> => (ok ? { ok: true, message: "connected" } : { ok: false, message: "connection refused" }));
    const runner = new CheckRunner(probe, timers);
    const changes = vi.fn();
    runner.watch(changes);
    runner.configure([spec()]);
    expect(changes).toHaveBeenCalledTimes(1);
    expect((await runner.snapshot()).checks[0]).toMatchObject({ status: "unknown", lastOk: null });

    await vi.advanceTimersByTimeAsync(0); // first probe (spread: the only check starts at once)
    expect((await runner.snapshot()).checks[0]).toMatchObject({ status: "unknown", lastOk: true, lastResult: "connected" });
    await vi.advanceTimersByTimeAsync(1000);
    expect((await runner.snapshot()).checks[0]).toMatchObject({ status: "up", since: "2026-12-07T09:00:01.000Z" });
    const pushes = changes.mock.calls.length;
    await vi.advanceTimersByTimeAsync(5000); // steady UP: probes go on, nothing new to push
    expect(probe).toHaveBeenCalledTimes(7);
    expect(changes.mock.calls.length).toBe(pushes);

    ok = false;
    await vi.advanceTimersByTimeAsync(2000);
    expect((await runner.snapshot()).checks[0]).toMatchObject({ status: "up", health: 2, lastResult: "connection refused" });
    await vi.advanceTimersByTimeAsync(1000);
    expect((await runner.snapshot()).checks[0]).toMatchObject({ status: "down", since: "2026-12-07T09:00:09.000Z" });
    ok = true;
    await vi.advanceTimersByTimeAsync(2000);
    expect((await runner.snapshot()).checks[0]).toMatchObject({ status: "up", since: "2026-12-07T09:00:11.000Z" });
    runner.stop();
  });

  it("a flapping target (pass, fail, pass, …) stays UP", async () => {
    let n = 0;
    const runner = new CheckRunner(async () => ({ ok: n++ < 2 || n % 2 === 0, message: "x" }), timers);
    runner.configure([spec()]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect((await runner.snapshot()).checks[0]!.status).toBe("up");
    runner.stop();
  });

  it("a probe that never answers fails at its timeout and the next probe still runs", async () => {
    const probe = vi.fn(() => new Promise<ProbeOutcome>(() => undefined));
    const runner = new CheckRunner(probe, timers);
    runner.configure([spec()]);
    await vi.advanceTimersByTimeAsync(3 * 2000);
    const c = (await runner.snapshot()).checks[0]!;
    expect(c).toMatchObject({ status: "down", lastOk: false, lastResult: "no answer within 1000 ms" });
    expect(probe.mock.calls.length).toBeGreaterThanOrEqual(3);
    runner.stop();
  });

  it("configure keeps unchanged checks' state, drops removed ones, restarts changed ones; results of a removed check are ignored", async () => {
    let release: (o: ProbeOutcome) => void = () => undefined;
    const probe = vi.fn((p: CheckProbe) => (p.kind === "tcp" && p.port === 9 ? new Promise<ProbeOutcome>((r) => (release = r)) : Promise.resolve({ ok: true, message: "connected" })));
    const runner = new CheckRunner(probe, timers);
    runner.configure([spec(), spec({ id: "slow", probe: { kind: "tcp", host: "127.0.0.1", port: 9 } })]);
    await vi.advanceTimersByTimeAsync(2000);
    expect((await runner.snapshot()).checks.find((c) => c.id !== "slow")!.status).toBe("up");
    runner.configure([spec()]);
    release({ ok: false, message: "late" });
    await vi.advanceTimersByTimeAsync(0);
    expect((await runner.snapshot()).checks.map((c) => [c.id, c.status])).toEqual([["active:svc:web:8080:swarm1", "up"]]);
    runner.configure([spec({ timing: { intervalMs: 1000, timeoutMs: 500, rise: 3, fall: 3 } })]);
    expect((await runner.snapshot()).checks[0]!.status).toBe("unknown");
    runner.stop();
  });

  it("spreads a new plan's first probes over one interval", async () => {
    const probe = vi.fn(async () => ({ ok: true, message: "connected" }));
    const runner = new CheckRunner(probe, timers);
    runner.configure([0, 1, 2, 3].map((i) => spec({ id: `c${i}` })));
    await vi.advanceTimersByTimeAsync(0);
    expect(probe).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(probe).toHaveBeenCalledTimes(3);
    runner.stop();
  });
});

describe("realProbe (loopback)", () => {
  let server: Server;
  let port: number;
  beforeEach(async () => {
    server = createServer((req, res) => (req.url === "/ok" ? res.writeHead(200).end("all good") : res.writeHead(503).end("sick")));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it("TCP: connected, or the refusal in words", async () => {
    expect(await realProbe({ kind: "tcp", host: "127.0.0.1", port }, 1000)).toEqual({ ok: true, message: "connected" });
    const closed = await new Promise<number>((r) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => r(p));
      });
    });
    expect(await realProbe({ kind: "tcp", host: "127.0.0.1", port: closed }, 1000)).toEqual({ ok: false, message: "connection refused" });
  });

  it("HTTP: status and body match", async () => {
    const http = (path: string, expectBody: string | null = null, expectStatus = 200) => realProbe({ kind: "http", host: "127.0.0.1", port, path, expectStatus, expectBody }, 1000);
    expect(await http("/ok")).toEqual({ ok: true, message: "HTTP 200" });
    expect(await http("/ok", "good")).toEqual({ ok: true, message: "HTTP 200, body matches" });
    expect(await http("/ok", "bad")).toEqual({ ok: false, message: 'HTTP 200, body lacks "bad"' });
    expect(await http("/sick")).toEqual({ ok: false, message: "HTTP 503, expected 200" });
    expect(await http("/sick", null, 503)).toEqual({ ok: true, message: "HTTP 503" });
  });

  it("HTTP against a hostile or broken server: an endless body is read only 16 KiB, a silent one times out, a non-HTTP answer fails", async () => {
    const { createServer: createTcpServer } = await import("node:net");
    const hostile = createServer((req, res) => {
      if (req.url === "/endless") {
        res.writeHead(200);
        // Never ends: the probe must stop reading after CHECK_LIMITS.bodyBytes.
        const chunk = "x".repeat(4096);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once("drain", pump);
        };
        pump();
      }
      // /silent: no answer at all.
    });
    await new Promise<void>((r) => hostile.listen(0, "127.0.0.1", r));
    const hp = (hostile.address() as AddressInfo).port;
    const garbage = createTcpServer((sock) => sock.end("SSH-2.0-OpenSSH_9.2\r\n"));
    await new Promise<void>((r) => garbage.listen(0, "127.0.0.1", r));
    const gp = (garbage.address() as AddressInfo).port;
    try {
      const probe = (p: number, path: string, expectBody: string | null = null) => realProbe({ kind: "http", host: "127.0.0.1", port: p, path, expectStatus: 200, expectBody }, 400);
      expect(await probe(hp, "/endless", "needle")).toEqual({ ok: false, message: 'HTTP 200, body lacks "needle"' });
      expect(await probe(hp, "/silent")).toEqual({ ok: false, message: "no answer within 400 ms" });
      const g = await probe(gp, "/");
      expect(g.ok).toBe(false);
      expect(g.message).toBe("HPE_INVALID_CONSTANT");
    } finally {
      hostile.close();
      hostile.closeAllConnections();
      garbage.close();
    }
  });
});
