import { rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AlertService, SIGNATURE_HEADER, TIMESTAMP_HEADER, appRouter, createCallerFactory, verifyWebhook } from "@nimbus/api";
import { AlertStore, type Database } from "@nimbus/db";
import { openTestDatabase } from "@nimbus/db/testing";
import type { AlertCheckInput, Viewer } from "@nimbus/domain";
import { createApp } from "../src/app.js";
import { loadEnv } from "../src/env.js";
import { metricsHandler } from "../src/http/metrics.js";
import { freshDataDir, until, viewers } from "./backend.js";
import { startServerProcess } from "./server-process.js";

const listen = (s: Server) => new Promise<number>((r) => s.listen(0, "127.0.0.1", () => r((s.address() as AddressInfo).port)));
const readBody = (req: IncomingMessage) => new Promise<string>((r) => {
  let b = "";
  req.on("data", (d) => (b += d));
  req.on("end", () => r(b));
});

const T0 = Date.parse("2026-12-07T10:00:00.000Z");
const kvm1Down: AlertCheckInput = { id: "host:kvm1", category: "host", target: "kvm1 agent", state: "crit", message: "unreachable", since: new Date(T0).toISOString(), affects: ["acme-web1"], tenants: ["acme"] };

/** The service over a real database, fed a health list the test sets; time and retry waits are the test's. */
async function serviceFor(database: Database) {
  const checks: AlertCheckInput[] = [];
  const acked: string[] = [];
  let now = T0;
  const waits: number[] = [];
  const service = new AlertService(
    new AlertStore(database.db),
    { checks: () => checks as never, acknowledge: (id: string) => (acked.push(id), true), unacknowledge: (id: string) => (acked.push(`-${id}`), true) },
    { hosts: () => [] },
    { publicUrl: "https://nimbus.example.test/console", now: () => new Date(now), sleep: async (ms) => void waits.push(ms) },
  );
  await service.load();
  return { service, checks, acked, waits, at: (s: number) => (now = T0 + s * 1000) };
}

describe("alert notifications", () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database?.close());

  it("a webhook failing twice gets the signed alert on the third attempt, after 2 s and 4 s, with every attempt logged", async () => {
    const seen: { status: number; body: string; sig: string; ts: string }[] = [];
    const hook = createServer(async (req, res) => {
      const body = await readBody(req);
      const status = seen.length < 2 ? 500 : 204;
      seen.push({ status, body, sig: String(req.headers[SIGNATURE_HEADER]), ts: String(req.headers[TIMESTAMP_HEADER]) });
      res.statusCode = status;
      res.end();
    });
    const port = await listen(hook);
    try {
      const { service, checks, waits } = await serviceFor(database);
      await service.putChannel({ id: "ops-hook", name: "Ops", enabled: true, target: { kind: "webhook", config: { url: `http://127.0.0.1:${port}/hook` } }, secret: "hmac-key-for-tests-0001" }, true);
      await service.updateRule("host-down", { channels: ["ops-hook"] }, "ann");
      checks.push(kvm1Down);
      service.tick();
      await service.settled();

      expect(seen.map((s) => s.status)).toEqual([500, 500, 204]);
      expect(waits).toEqual([2000, 4000]);
      for (const s of seen) expect(verifyWebhook("hmac-key-for-tests-0001", s.ts, s.body, s.sig)).toBe(true);
      expect(verifyWebhook("another-key", seen[2]!.ts, seen[2]!.body, seen[2]!.sig)).toBe(false);
      const body = JSON.parse(seen[2]!.body);
      expect(body).toMatchObject({ version: 1, event: "firing", alert: { id: "host-down|host:kvm1", severity: "critical", url: "https://nimbus.example.test/console/hosts/kvm1", affects: ["acme-web1"] } });
      const log = await service.deliveries(10, "ops-hook");
      expect(log.map((d) => [d.attempt, d.status, d.statusCode])).toEqual([
        [3, "ok", 204],
        [2, "retrying", 500],
        [1, "retrying", 500],
      ]);
      // The API never hands the key back.
      expect(JSON.stringify(service.channelList())).not.toContain("hmac-key-for-tests-0001");
      expect(service.channelList()[0]!.secret).toEqual({ set: true, hint: "…0001" });
    } finally {
      hook.close();
    }
  });

  it("a webhook that never answers well is given up after the last attempt, logged as failed", async () => {
    const { service, checks } = await serviceFor(await openTestDatabase());
    // A port that was just free: nothing listens there.
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((r) => closed.close(r));
    await service.putChannel({ id: "dead-hook", name: "Dead", enabled: true, target: { kind: "webhook", config: { url: `http://127.0.0.1:${port}/nothing-listens` } } }, true);
    await service.updateRule("host-down", { channels: ["dead-hook"] }, "ann");
    checks.push(kvm1Down);
    service.tick();
    await service.settled();
    const log = await service.deliveries(10);
    expect(log.map((d) => d.status)).toEqual(["failed", "retrying", "retrying", "retrying", "retrying"]);
    expect(log[0]!.error).toMatch(/ECONNREFUSED/);
  });

  it("email goes through a real SMTP server with the stored login, subject, text and the link to the cause", async () => {
    const mails: { from: string; to: string[]; data: string; user: string }[] = [];
    const smtp = new SMTPServer({
      disabledCommands: ["STARTTLS"],
      allowInsecureAuth: true,
      onAuth(auth, _session, cb) {
        if (auth.username === "nimbus" && auth.password === "smtp-pass-123") return cb(null, { user: auth.username });
        cb(new Error("Invalid username or password"));
      },
      onData(stream, session, cb) {
        let data = "";
        stream.on("data", (d) => (data += d));
        stream.on("end", () => {
          mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address), data, user: String(session.user) });
          cb();
        });
      },
    });
    const port = await new Promise<number>((r) => smtp.listen(0, "127.0.0.1", () => r((smtp.server.address() as AddressInfo).port)));
    try {
      const { service, checks, at } = await serviceFor(await openTestDatabase());
      const config = { host: "127.0.0.1", port, secure: false, requireTls: false, username: "nimbus", from: "nimbus@example.test", to: ["oncall@example.test"] };
      await service.putChannel({ id: "mail", name: "On-call mail", enabled: true, target: { kind: "email", config }, secret: "smtp-pass-123" }, true);
      await service.putChannel({ id: "bad-mail", name: "Wrong password", enabled: true, target: { kind: "email", config }, secret: "wrong" }, true);
      await service.updateRule("host-down", { channels: ["mail"], escalation: { afterMinutes: 5, channel: "bad-mail" } }, "ann");
      checks.push(kvm1Down);
      service.tick();
      await service.settled();
      expect(mails).toHaveLength(1);
      expect(mails[0]).toMatchObject({ from: "nimbus@example.test", to: ["oncall@example.test"], user: "nimbus" });
      expect(mails[0]!.data).toContain("Subject: [Nimbus CRITICAL] Host down: kvm1 agent");
      expect(mails[0]!.data).toContain("https://nimbus.example.test/console/hosts/kvm1");
      // Nobody acknowledged for 5 minutes: escalated to the second channel, whose login the server refuses.
      at(5 * 60);
      service.tick();
      await service.settled();
      const log = await service.deliveries(10, "bad-mail");
      expect(log[0]).toMatchObject({ event: "escalated", status: "failed", statusCode: 535 });
      expect(service.list().firing[0]!.escalatedAt).not.toBeNull();
    } finally {
      await new Promise<void>((r) => smtp.close(() => r()));
    }
  });

  it("an acknowledged alert is not escalated; a silenced one sends nothing", async () => {
    const seen: string[] = [];
    const hook = createServer(async (req, res) => {
      seen.push(JSON.parse(await readBody(req)).event);
      res.end();
    });
    const port = await listen(hook);
    try {
      const { service, checks, acked, at } = await serviceFor(await openTestDatabase());
      await service.putChannel({ id: "h", name: "H", enabled: true, target: { kind: "webhook", config: { url: `http://127.0.0.1:${port}/` } } }, true);
      await service.updateRule("host-down", { channels: ["h"], escalation: { afterMinutes: 1, channel: "h" } }, "ann");
      checks.push(kvm1Down);
      service.tick();
      service.acknowledge("host-down|host:kvm1", "Olga", "rebooting the switch");
      expect(acked).toEqual(["host:kvm1"]);
      service.unacknowledge("host-down|host:kvm1");
      expect(acked).toEqual(["host:kvm1", "-host:kvm1"]);
      // Acknowledged on its health card instead: the alert takes that acknowledgement over.
      checks[0] = { ...kvm1Down, ack: { by: "Otto", at: new Date(T0 + 5000).toISOString(), note: "on the card" } } as AlertCheckInput;
      service.tick();
      expect(service.list().firing[0]!.ack).toEqual({ by: "Otto", at: new Date(T0 + 5000).toISOString(), note: "on the card" });
      at(120);
      service.tick();
      await service.settled();
      expect(seen).toEqual(["firing"]);
      await service.silence({ checks: "host:*", labels: {} }, 60, "planned work", "Olga");
      checks.splice(0);
      at(130);
      service.tick();
      await service.settled();
      expect(seen).toEqual(["firing"]);
      expect(service.list().resolved.map((a) => a.id)).toEqual(["host-down|host:kvm1"]);
    } finally {
      hook.close();
    }
  });

  it("writes a round of 300 hosts going down, then coming back, in one statement each (counted on the database client)", async () => {
    const db = await openTestDatabase();
    try {
      const { service, checks, at } = await serviceFor(db);
      const statements = vi.spyOn((db.db as unknown as { $client: { query: (...a: unknown[]) => unknown } }).$client, "query");
      for (let i = 0; i < 300; i++) checks.push({ ...kvm1Down, id: `host:h${i}`, target: `h${i} agent`, affects: [], tenants: [] });
      service.tick();
      await service.settled();
      expect(service.list().firing).toHaveLength(300);
      expect(statements.mock.calls.length).toBe(1);
      // A round where nothing changed writes nothing.
      at(10);
      service.tick();
      await service.settled();
      expect(statements.mock.calls.length).toBe(1);
      checks.splice(0);
      at(20);
      service.tick();
      await service.settled();
      expect(statements.mock.calls.length).toBe(2);
      statements.mockRestore();
      expect(await new AlertStore(db.db).openAlerts()).toEqual([]);
      expect((await new AlertStore(db.db).recentAlerts(500)).filter((a) => a.resolvedAt)).toHaveLength(300);
    } finally {
      await db.close();
    }
  });
});

type App = Awaited<ReturnType<typeof createApp>>;
const caller = (app: App, viewer: Viewer = viewers.admin) =>
  createCallerFactory(appRouter)({ deps: app.deps, live: app.live, health: app.health, topology: app.topology, viewer, requestId: "t", ip: "127.0.0.1" });

describe("alerts on the lab, across a restart", () => {
  it("a host-down alert's acknowledgement and a silence survive a restart; the alert is not fired again", { timeout: 240_000 }, async () => {
    const dir = freshDataDir();
    const env = loadEnv({ NIMBUS_DATA_DIR: dir, NIMBUS_LAB_SPEED: "10", NIMBUS_ADMIN_PASSWORD: "test-admin-password", NIMBUS_LOG_LEVEL: "silent" });
    const firing = async (app: App) => {
      app.alerts.tick();
      return (await caller(app).alerts.list()).firing.find((a) => a.id === "host-down|host:kvm2");
    };
    try {
      let firedAt: string;
      let silenceId: string;
      const first = await createApp(env, "http://127.0.0.1:9", pino({ level: "silent" }));
      try {
        await until(async () => first.fleet.host("kvm2")?.connection.state, (s) => s === "online", "kvm2 online", 60_000);
        // A changed host key lasts across the restart (the lab keeps it, the pin stays in the database).
        await caller(first).lab.inject({ name: "change-host-key", args: ["kvm2"] });
        const alert = await until(() => firing(first), (a) => !!a, "host-down alert for kvm2", 60_000);
        expect(alert).toMatchObject({ severity: "critical", link: "/hosts/kvm2", ack: null });
        firedAt = alert!.firedAt;
        await caller(first, viewers.oncall).alerts.acknowledge({ id: "host-down|host:kvm2", note: "checking the new key with the DC team" });
        silenceId = (await caller(first, viewers.oncall).alerts.silence({ match: { checks: "storage:*", labels: {} }, minutes: 120, comment: "NFS maintenance" })).id;
        // The alert's ack is the check's ack too: one answer to "who is on it".
        expect((await caller(first).health.list()).find((c) => c.id === "host:kvm2")?.ack).toMatchObject({ by: viewers.oncall.name });
        const audit = await caller(first).audit.list({ action: "alerts.acknowledge", limit: 5, offset: 0 });
        expect(audit.records[0]).toMatchObject({ userName: viewers.oncall.name, result: "ok", target: "host-down|host:kvm2" });
      } finally {
        await first.stop();
      }
      const second = await createApp(env, "http://127.0.0.1:9", pino({ level: "silent" }));
      try {
        // While the hosts connect again nothing is decided: the alert is not resolved (and then fired anew).
        second.alerts.tick();
        expect((await caller(second).alerts.list()).firing.find((a) => a.id === "host-down|host:kvm2")?.ack?.note).toBe("checking the new key with the DC team");
        await until(async () => (await caller(second).health.list()).find((c) => c.id === "host:kvm2")?.state, (s) => s === "crit", "kvm2 critical again", 60_000);
        const again = await firing(second);
        expect(again).toMatchObject({ firedAt, ack: { by: viewers.oncall.name, note: "checking the new key with the DC team" } });
        expect((await caller(second).alerts.list()).resolved.map((a) => a.id)).not.toContain("host-down|host:kvm2");
        expect((await caller(second).alerts.silences()).map((s) => [s.id, s.checks, s.comment])).toEqual([[silenceId, "storage:*", "NFS maintenance"]]);
        await caller(second).alerts.endSilence({ id: silenceId });
        expect(await caller(second).alerts.silences()).toEqual([]);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("channel secrets are kept but never returned nor audited; a bad channel input is refused with nothing stored", { timeout: 240_000 }, async () => {
    const dir = freshDataDir();
    const env = loadEnv({ NIMBUS_DATA_DIR: dir, NIMBUS_LAB_SPEED: "10", NIMBUS_ADMIN_PASSWORD: "test-admin-password", NIMBUS_LOG_LEVEL: "silent" });
    const app = await createApp(env, "http://127.0.0.1:9", pino({ level: "silent" }));
    try {
      const admin = caller(app);
      await admin.alerts.createChannel({ id: "pager", name: "Pager", target: { kind: "email", config: { host: "127.0.0.1", port: 2525, secure: false, requireTls: true, username: "u", from: "n@example.test", to: ["p@example.test"] } }, secret: "smtp-password-never-shown" });
      await admin.alerts.updateChannel({ id: "pager", name: "Pager 2", target: { kind: "email", config: { host: "127.0.0.1", port: 2525, secure: false, requireTls: true, username: "u", from: "n@example.test", to: ["p@example.test"] } } });
      const listed = JSON.stringify(await admin.alerts.channels());
      expect(listed).toContain("Pager 2");
      expect(listed).not.toContain("smtp-password-never-shown");
      const audit = JSON.stringify(await admin.audit.list({ action: "alerts.createChannel", limit: 5, offset: 0 }));
      expect(audit).toContain("pager");
      expect(audit).not.toContain("smtp-password-never-shown");
      await expect(admin.alerts.createChannel({ id: "x", name: "X", target: { kind: "webhook", config: { url: "file:///etc/passwd" } } })).rejects.toMatchObject({ code: "BAD_REQUEST" });
      await expect(admin.alerts.updateRule({ id: "host-down", patch: { channels: ["no-such-channel"] } })).rejects.toMatchObject({ code: "BAD_REQUEST" });
      await expect(admin.alerts.deleteChannel({ id: "pager" })).resolves.toEqual({ ok: true });
      await admin.alerts.createChannel({ id: "pager", name: "Pager", target: { kind: "webhook", config: { url: "http://127.0.0.1:9/x" } } });
      await admin.alerts.updateRule({ id: "host-down", patch: { channels: ["pager"] } });
      await expect(admin.alerts.deleteChannel({ id: "pager" })).rejects.toMatchObject({ code: "CONFLICT" });
      await expect(admin.alerts.silence({ match: { checks: null, labels: {} }, minutes: 60 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
      expect(await admin.alerts.silences()).toEqual([]);
    } finally {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("alerts.watch", () => {
  it("pushes the list again when an alert changes, and holds at most 8 watches per user", { timeout: 240_000 }, async () => {
    const dir = freshDataDir();
    const env = loadEnv({ NIMBUS_DATA_DIR: dir, NIMBUS_LAB_SPEED: "10", NIMBUS_ADMIN_PASSWORD: "test-admin-password", NIMBUS_LOG_LEVEL: "silent" });
    const app = await createApp(env, "http://127.0.0.1:9", pino({ level: "silent" }));
    const aborts: AbortController[] = [];
    const watch = async () => {
      const abort = new AbortController();
      aborts.push(abort);
      const c = createCallerFactory(appRouter)({ deps: app.deps, live: app.live, health: app.health, topology: app.topology, viewer: viewers.oncall, requestId: "w", ip: "127.0.0.1" }, { signal: abort.signal });
      const it = ((await c.alerts.watch()) as AsyncIterable<{ firing: { id: string; ack: unknown }[] }>)[Symbol.asyncIterator]();
      return { it, first: await it.next(), abort };
    };
    try {
      await until(async () => app.fleet.host("kvm2")?.connection.state, (s) => s === "online", "kvm2 online", 60_000);
      const w = await watch();
      expect(w.first.done).toBe(false);
      await caller(app).lab.inject({ name: "change-host-key", args: ["kvm2"] });
      // Pushed, not polled: the next value comes when the alert fires.
      let next = await w.it.next();
      while (!next.value.firing.some((a: { id: string }) => a.id === "host-down|host:kvm2")) {
        app.alerts.tick();
        next = await w.it.next();
      }
      await caller(app, viewers.oncall).alerts.acknowledge({ id: "host-down|host:kvm2", note: "seen" });
      expect((await w.it.next()).value.firing.find((a: { id: string }) => a.id === "host-down|host:kvm2")?.ack).toMatchObject({ by: viewers.oncall.name, note: "seen" });
      for (let i = 0; i < 7; i++) await watch();
      await expect(watch()).rejects.toMatchObject({ code: "TOO_MANY_REQUESTS" });
      w.abort.abort();
      await w.it.return?.();
      await expect(watch()).resolves.toMatchObject({ first: { done: false } });
    } finally {
      for (const a of aborts) a.abort();
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("/metrics", () => {
  it("does not exist without NIMBUS_METRICS_TOKEN (404)", async () => {
    const s = createServer(metricsHandler(undefined, () => null));
    const port = await listen(s);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(404);
    } finally {
      s.close();
    }
  });

  it("refuses a missing or wrong bearer token and answers the right one with server and fleet metrics", { timeout: 240_000 }, async () => {
    const token = "metrics-token-for-tests-0123456789";
    const server = await startServerProcess({ NIMBUS_METRICS_TOKEN: token });
    try {
      expect((await fetch(`${server.base}/metrics`)).status).toBe(401);
      expect((await fetch(`${server.base}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      const res = await fetch(`${server.base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/plain");
      const text = await res.text();
      for (const line of [/^nimbus_hosts\{state="online"\} [1-9]\d*$/m, /^nimbus_sse_subscribers 0$/m, /^nimbus_db_latency_seconds \d/m, /^nimbus_host_cpu_percent\{host="kvm1"\} \d/m, /^nimbus_datastore_used_bytes\{datastore="\/instance"\} \d/m, /^nodejs_eventloop_lag_p99_seconds \d/m, /^nimbus_ssh_reconnects_total 0$/m, /^# TYPE nimbus_operations_running gauge$/m, /^nimbus_live_event_lag_seconds_count [1-9]\d*$/m]) {
        expect(text).toMatch(line);
      }
      // VMs are counted per host, never one series each.
      expect(text).not.toMatch(/acme-web1/);
    } finally {
      await server.stop();
    }
  });
});
