import { describe, expect, it } from "vitest";
import { NimbusError, type Viewer } from "@nimbus/domain";
import type { FleetEvent, FleetView } from "@nimbus/fleet";
import type { AuditEntry, AuditService } from "../src/deps.js";
import { CONSOLE_RECONNECTED_LINE, CONSOLE_SERVER_LIMITS, ConsoleService, type ConsoleEvent } from "../src/services/console-sessions.js";

const alice: Viewer = { userId: "u1", name: "Alice", role: "tenant", tenant: "acme" };

/** A fleet whose agents answer console.* and whose pushes the test makes. */
function fakeFleet(opts: { refuseOpen?: string } = {}) {
  const listeners = new Set<(e: FleetEvent) => void>();
  const calls: { host: string; method: string; params: any }[] = [];
  let n = 0;
  const fleet = {
    hosts: () => [],
    host: () => undefined,
    acceptHostKey: async () => undefined,
    setMaintenance: () => undefined,
    subscribe: (l: (e: FleetEvent) => void) => (listeners.add(l), () => listeners.delete(l)),
    request: async (host: string, method: string, params: any) => {
      calls.push({ host, method, params });
      if (method === "console.open") {
        if (opts.refuseOpen) throw new NimbusError("CONFLICT", opts.refuseOpen);
        return { session: `s${++n}` };
      }
      return { ok: true };
    },
  } as unknown as FleetView;
  const emit = (e: FleetEvent) => {
    for (const l of listeners) l(e);
  };
  return { fleet, calls, emit };
}

function fakeAudit() {
  const rows: AuditEntry[] = [];
  return { rows, audit: { append: async (e: AuditEntry) => void rows.push(e) } as unknown as AuditService };
}

const target = { instance: "web1", host: "kvm1", domain: "web1", cols: 80, rows: 24 };
const allowed = async () => ({ host: "kvm1", domain: "web1" });

/** Reads a stream in the background; `events` fills as they come. */
function read(gen: AsyncGenerator<{ id: string; event: ConsoleEvent }>) {
  const events: ConsoleEvent[] = [];
  const ids: string[] = [];
  let done = false;
  void (async () => {
    for await (const { id, event } of gen) {
      events.push(event);
      ids.push(id);
    }
    done = true;
  })();
  const until = async (cond: () => boolean, what: string) => {
    const deadline = Date.now() + 3_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  return { events, ids, isDone: () => done, until, text: () => events.filter((e) => e.kind === "output").map((e) => Buffer.from(JSON.parse(JSON.stringify((e as { data: unknown }).data)), "base64").toString()).join("") };
}

const out = (session: string, text: string): FleetEvent => ({ type: "console-output", host: "kvm1", session, data: Buffer.from(text).toString("base64") });

describe("ConsoleService", () => {
  it("opens one agent session per user and instance, forwards output, audits open and close with the duration", async () => {
    const f = fakeFleet();
    const a = fakeAudit();
    const svc = new ConsoleService(f.fleet, a.audit);
    const abort = new AbortController();
    const r = read(svc.stream(alice, target, allowed, abort.signal));
    await r.until(() => r.events.some((e) => e.kind === "connected"), "connected");
    expect(f.calls.filter((c) => c.method === "console.open")).toEqual([{ host: "kvm1", method: "console.open", params: { domain: "web1", cols: 80, rows: 24 } }]);
    f.emit(out("s1", "login: "));
    await r.until(() => r.text() === "login: ", "output");
    // Output of another host's session with the same id is not ours.
    f.emit({ type: "console-output", host: "kvm2", session: "s1", data: Buffer.from("x").toString("base64") });
    await svc.input(alice, "web1", "root\r");
    expect(f.calls.at(-1)).toEqual({ host: "kvm1", method: "console.input", params: { session: "s1", data: "root\r" } });
    await svc.closeFor(alice, "web1");
    await r.until(() => r.isDone(), "the stream to end");
    expect(r.events.at(-1)).toEqual({ kind: "closed", reason: "closed by you" });
    expect(r.text()).toBe("login: ");
    expect(f.calls.at(-1)).toMatchObject({ method: "console.close", params: { session: "s1" } });
    await r.until(() => a.rows.length === 2, "two audit rows");
    expect(a.rows.map((x) => [x.action, x.target, x.result])).toEqual([["instances.console.open", "web1", "ok"], ["instances.console.close", "web1", "ok"]]);
    expect(a.rows[1]!.input).toMatchObject({ durationSeconds: expect.any(Number), reason: "closed by you" });
    abort.abort();
  });

  it("keeps the session for a reload within the grace and replays a bounded scrollback; after the grace it closes", async () => {
    const f = fakeFleet();
    const a = fakeAudit();
    const svc = new ConsoleService(f.fleet, a.audit, { graceMs: 50 });
    const first = new AbortController();
    const r1 = read(svc.stream(alice, target, allowed, first.signal));
    await r1.until(() => r1.events.some((e) => e.kind === "connected"), "connected");
    const big = "x".repeat(CONSOLE_SERVER_LIMITS.scrollbackBytes / 4);
    for (let i = 0; i < 6; i++) f.emit(out("s1", `${i}${big}`));
    f.emit(out("s1", "tail"));
    first.abort();
    const r2 = read(svc.stream(alice, target, allowed, new AbortController().signal));
    await r2.until(() => r2.text().endsWith("tail"), "the replay");
    expect(r2.events[0]).toEqual({ kind: "reset" });
    expect(f.calls.filter((c) => c.method === "console.open")).toHaveLength(1);
    // Bounded: the oldest chunks were dropped, the newest kept.
    expect(r2.text().length).toBeLessThanOrEqual(CONSOLE_SERVER_LIMITS.scrollbackBytes + big.length);
    expect(r2.text().startsWith("0")).toBe(false);
    expect(svc.size).toBe(1);
  });

  it("closes after the grace once the last stream left", async () => {
    const f = fakeFleet();
    const svc = new ConsoleService(f.fleet, fakeAudit().audit, { graceMs: 20 });
    const abort = new AbortController();
    const r = read(svc.stream(alice, target, allowed, abort.signal));
    await r.until(() => r.events.some((e) => e.kind === "connected"), "connected");
    abort.abort();
    await r.until(() => svc.size === 0, "the grace to end");
    expect(f.calls.at(-1)).toMatchObject({ method: "console.close", params: { session: "s1" } });
  });

  it("closes at once when access is lost (checked on output), when the agent ends the session, and when the host's link drops", async () => {
    const f = fakeFleet();
    // The fake fleet lists no VM anywhere: a session the agent ends closes after the settle (3 s by
    // default, as long as `until` waits, so a loaded machine timed out), shortened here.
    const svc = new ConsoleService(f.fleet, fakeAudit().audit, { recheckMs: 60_000, settleMs: 100 });
    let access: string | null = null;
    const r = read(svc.stream(alice, target, async () => access ?? { host: "kvm1", domain: "web1" }, new AbortController().signal));
    await r.until(() => r.events.some((e) => e.kind === "connected"), "connected");
    access = "you no longer have access to this instance";
    // The first output after a second triggers the check (the check at open counts as the last one).
    const typing = setInterval(() => f.emit(out("s1", ".")), 50);
    await r.until(() => r.isDone(), "the stream to close");
    clearInterval(typing);
    expect(r.events.at(-1)).toEqual({ kind: "closed", reason: "you no longer have access to this instance" });

    const bob: Viewer = { ...alice, userId: "u2" };
    const r2 = read(svc.stream(bob, target, allowed, new AbortController().signal));
    await r2.until(() => r2.events.some((e) => e.kind === "connected"), "connected");
    f.emit({ type: "console-closed", host: "kvm1", session: "s2", reason: "the VM stopped" });
    await r2.until(() => r2.isDone(), "closed by the agent");
    expect(r2.events.at(-1)).toEqual({ kind: "closed", reason: "the VM stopped" });

    const r3 = read(svc.stream(bob, target, allowed, new AbortController().signal));
    await r3.until(() => r3.events.some((e) => e.kind === "connected"), "connected");
    f.emit({ type: "host", host: { name: "kvm1", connection: { state: "unreachable" } } as never, changed: ["connection"] });
    await r3.until(() => r3.isDone(), "closed with the link");
    expect(r3.events.at(-1)).toEqual({ kind: "closed", reason: "the host's agent is unreachable" });
    expect(svc.size).toBe(0);
  });

  it("closes a revoked user's consoles and tells a refused open why", async () => {
    const svc = new ConsoleService(fakeFleet().fleet, fakeAudit().audit);
    const r = read(svc.stream(alice, target, allowed, new AbortController().signal));
    await r.until(() => r.events.some((e) => e.kind === "connected"), "connected");
    svc.revokeUser("u1");
    await r.until(() => r.isDone(), "revoked");
    expect(r.events.at(-1)).toMatchObject({ kind: "closed", reason: expect.stringMatching(/your session ended/) });

    const a = fakeAudit();
    const refusing = new ConsoleService(fakeFleet({ refuseOpen: "domain web1 is shutoff: a stopped VM has no console" }).fleet, a.audit);
    const r2 = read(refusing.stream(alice, target, allowed, new AbortController().signal));
    await r2.until(() => r2.isDone(), "refused");
    expect(r2.events.at(-1)).toEqual({ kind: "closed", reason: "domain web1 is shutoff: a stopped VM has no console" });
    expect(a.rows).toEqual([expect.objectContaining({ action: "instances.console.open", result: "error", errorCode: "CONFLICT" })]);
  });

  it("bounds streams and consoles per user, and refuses input without an open console", async () => {
    const svc = new ConsoleService(fakeFleet().fleet, fakeAudit().audit);
    await expect(svc.input(alice, "web1", "x")).rejects.toMatchObject({ code: "NOT_FOUND" });
    const aborts: AbortController[] = [];
    for (let i = 0; i < CONSOLE_SERVER_LIMITS.consolesPerUser; i++) {
      const a = new AbortController();
      aborts.push(a);
      read(svc.stream(alice, { ...target, instance: `vm${i}`, domain: `vm${i}` }, allowed, a.signal));
    }
    expect(() => svc.assertRoom(alice, "vm-new")).toThrow(/already have 4 consoles open/);
    expect(() => svc.assertRoom(alice, "vm0")).not.toThrow();
    for (let i = 0; i < 2; i++) read(svc.stream(alice, { ...target, instance: "vm0", domain: "vm0" }, allowed, new AbortController().signal));
    expect(() => svc.assertRoom(alice, "vm0")).toThrow(/already have 6 console streams open/);
    aborts[0]!.abort();
    expect(() => svc.assertRoom(alice, "vm0")).not.toThrow();
  });

  it("replica mode: keystrokes for a console held elsewhere go through the relay; one held here never does; a close reaches the peers too", async () => {
    const f = fakeFleet();
    const svc = new ConsoleService(f.fleet, fakeAudit().audit);
    const relayed: string[] = [];
    let peerHolds = true;
    svc.relay = {
      input: async (v, instance, data) => (relayed.push(`input ${v.userId} ${instance} ${data}`), peerHolds),
      close: async (v, instance) => relayed.push(`close ${v.userId} ${instance}`),
    };
    await svc.input(alice, "web1", "ls\r");
    expect(relayed).toEqual(["input u1 web1 ls\r"]);
    expect(f.calls).toEqual([]);
    peerHolds = false;
    await expect(svc.input(alice, "web1", "x")).rejects.toMatchObject({ code: "NOT_FOUND", message: "no open console for instance web1" });
    // Held here: the agent gets it, the relay is not asked; a relayed call for it is taken too, but only for the same user, role and tenant.
    const abort = new AbortController();
    const r = read(svc.stream(alice, target, allowed, abort.signal));
    await r.until(() => r.events.some((e) => e.kind === "connected"), "connected");
    relayed.length = 0;
    await svc.input(alice, "web1", "a");
    await svc.inputHere(alice, "web1", "b");
    expect(relayed).toEqual([]);
    expect(f.calls.filter((c) => c.method === "console.input").map((c) => c.params.data)).toEqual(["a", "b"]);
    for (const v of [{ ...alice, userId: "u2" }, { ...alice, tenant: "globex" }, { ...alice, role: "admin" as const, tenant: null }])
      await expect(svc.inputHere(v, "web1", "c")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(svc.closeHere({ ...alice, userId: "u2" }, "web1")).toBe(false);
    await svc.closeFor(alice, "web1");
    await r.until(() => r.isDone(), "the stream to end");
    expect(relayed).toEqual(["close u1 web1"]);
    expect(svc.closeHere(alice, "web1")).toBe(false);
    abort.abort();
  });
});

describe("ConsoleService in replica mode: the host changes hands", () => {
  it("a host handed to another replica (online -> connecting -> online): the console opens again there, says so, keeps the scrollback and the audit session; keystrokes meanwhile are refused as reconnecting, none sent", async () => {
    const f = fakeFleet();
    let state = "online";
    (f.fleet as { host: unknown }).host = (name: string) => (name === "kvm1" ? { name, connection: { state } } : undefined);
    const a = fakeAudit();
    const svc = new ConsoleService(f.fleet, a.audit);
    svc.handoverMs = 3_000;
    const abort = new AbortController();
    const r = read(svc.stream(alice, target, allowed, abort.signal));
    await r.until(() => r.events.some((e) => e.kind === "connected"), "connected");
    f.emit(out("s1", "login: "));
    await r.until(() => r.text() === "login: ", "output");
    const hostEvent = (s: string): FleetEvent => ((state = s), { type: "host", host: { name: "kvm1", connection: { state: s } } as never, changed: ["connection"] });
    f.emit(hostEvent("connecting"));
    await r.until(() => r.events.at(-1)?.kind === "connecting", "connecting");
    const before = f.calls.length;
    await expect(svc.input(alice, "web1", "x")).rejects.toMatchObject({ code: "CONFLICT", message: expect.stringMatching(/reconnecting/), details: { reconnecting: true } });
    expect(f.calls.length).toBe(before);
    // The old session's late output is not this console's any more.
    f.emit(out("s1", "stale"));
    // The first open goes to a replica that no longer holds the host (views catch up within a lease round): asked again.
    const request = (f.fleet as { request: (h: string, m: string, p: unknown) => Promise<unknown> }).request;
    let refusals = 1;
    (f.fleet as { request: unknown }).request = (h: string, m: string, p: unknown) =>
      m === "console.open" && refusals-- > 0 ? Promise.reject(new NimbusError("HOST_UNREACHABLE", "kvm1 is not watched by this server any more", { moved: true })) : request(h, m, p);
    f.emit(hostEvent("online"));
    await r.until(() => r.events.at(-1)?.kind === "connected", "connected again");
    expect(f.calls.filter((c) => c.method === "console.open")).toHaveLength(2);
    expect(r.text()).toBe(`login: ${CONSOLE_RECONNECTED_LINE}`);
    f.emit(out("s2", "$ "));
    await svc.input(alice, "web1", "ls\r");
    expect(f.calls.at(-1)).toEqual({ host: "kvm1", method: "console.input", params: { session: "s2", data: "ls\r" } });
    await r.until(() => r.text().endsWith("$ "), "output of the new session");
    await svc.closeFor(alice, "web1");
    await r.until(() => a.rows.length === 2, "two audit rows");
    expect(a.rows.map((x) => x.action)).toEqual(["instances.console.open", "instances.console.close"]);
    abort.abort();
  });

  it("a host that does not come back through its new owner in time, or goes unreachable, closes the console as on one server", async () => {
    const f = fakeFleet();
    let state = "online";
    (f.fleet as { host: unknown }).host = (name: string) => (name === "kvm1" ? { name, connection: { state } } : undefined);
    const svc = new ConsoleService(f.fleet, fakeAudit().audit);
    svc.handoverMs = 50;
    const hostEvent = (s: string): FleetEvent => ((state = s), { type: "host", host: { name: "kvm1", connection: { state: s } } as never, changed: ["connection"] });
    const abort = new AbortController();
    const r = read(svc.stream(alice, target, allowed, abort.signal));
    await r.until(() => r.events.some((e) => e.kind === "connected"), "connected");
    f.emit(hostEvent("connecting"));
    await r.until(() => r.isDone(), "the stream to end");
    expect(r.events.at(-1)).toEqual({ kind: "closed", reason: "the host's agent is unreachable" });
    state = "online";
    svc.handoverMs = 3_000;
    const r2 = read(svc.stream(alice, target, allowed, abort.signal));
    await r2.until(() => r2.events.some((e) => e.kind === "connected"), "connected");
    f.emit(hostEvent("connecting"));
    await r2.until(() => r2.events.at(-1)?.kind === "connecting", "connecting");
    f.emit(hostEvent("unreachable"));
    await r2.until(() => r2.isDone(), "the second stream to end");
    expect(r2.events.at(-1)).toEqual({ kind: "closed", reason: "the host's agent is unreachable" });
    abort.abort();
  });
});
