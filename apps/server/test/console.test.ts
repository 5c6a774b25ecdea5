import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter, consoleRelayHandlers, createCallerFactory } from "@nimbus/api";
import type { Viewer } from "@nimbus/domain";
import { startBackend, until, viewers, type Backend } from "./backend.js";

// The serial console through the API on the embedded lab: SSE output + batched input, end to end.
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(() => backend?.stop());

type Ev = { kind: string; data?: unknown; reason?: string };

/** Opens a console stream as `viewer` and reads it in the background (the terminal's text, its events, its end). */
async function openConsole(viewer: Viewer | null, instance: string, opts: { revalidate?: () => Promise<boolean>; lastEventId?: string } = {}) {
  const abort = new AbortController();
  const caller = createCallerFactory(appRouter)(
    { deps: backend.app.deps, live: backend.app.live, health: backend.app.health, topology: backend.app.topology, viewer, requestId: "console-test", ip: "127.0.0.1", revalidate: opts.revalidate },
    { signal: abort.signal },
  );
  const stream = (await caller.instances.console({ instance, cols: 100, rows: 30, lastEventId: opts.lastEventId })) as AsyncIterable<unknown>;
  const state = { events: [] as Ev[], ids: [] as string[], text: "", ended: false, error: null as unknown };
  const it = stream[Symbol.asyncIterator]();
  void (async () => {
    for (;;) {
      const n = await it.next();
      if (n.done) break;
      const [id, ev] = (Array.isArray(n.value) ? n.value : [null, n.value]) as [string, Ev];
      state.ids.push(id);
      state.events.push(ev);
      if (ev.kind === "reset") state.text = "";
      if (ev.kind === "output") state.text += Buffer.from(JSON.parse(JSON.stringify(ev.data)) as string, "base64").toString("utf8");
    }
  })()
    .catch((e: unknown) => (state.error = e))
    .finally(() => (state.ended = true));
  const until = (what: string, cond: () => boolean) => backend.waitFor(() => cond() || undefined, what, 15_000);
  return {
    state,
    caller,
    /** The getty or shell waits for input (whatever an earlier test left it at). */
    ready: () => until("a prompt", () => /(login: |Password: |[$#] )$/.test(state.text)),
    screen: (text: string | RegExp) => until(`console to show ${text}`, () => (typeof text === "string" ? state.text.includes(text) : text.test(state.text))),
    closed: async () => {
      await until("the console to close", () => state.events.some((e) => e.kind === "closed") || state.ended);
      return state.events.find((e) => e.kind === "closed")?.reason ?? null;
    },
    leave: async () => {
      abort.abort();
      await it.return?.();
    },
  };
}

const audit = async (action: string) => (await backend.as(viewers.admin).audit.list({ action, limit: 50, offset: 0 })).records;

describe("instances.console", () => {
  it("a tenant opens its own instance's console, sees the login prompt and gets Password: for a user name; opening and closing are audited with the duration", async () => {
    const c = await openConsole(viewers.acme, "acme-web1");
    await c.screen("acme-web1 login: ");
    expect(c.state.events.slice(0, 2).map((e) => e.kind)).toEqual(["reset", "connecting"]);
    expect(c.state.events.some((e) => e.kind === "connected")).toBe(true);
    await backend.as(viewers.acme).instances.consoleInput({ instance: "acme-web1", data: "alice\r" });
    await c.screen("alice\r\nPassword: ");
    const opened = await audit("instances.console.open");
    expect(opened[0]).toMatchObject({ userName: viewers.acme.name, tenant: "acme", target: "acme-web1", result: "ok" });
    // Keystrokes are not audited call by call (they would store passwords).
    expect(await audit("instances.consoleInput")).toEqual([]);
    await backend.as(viewers.acme).instances.consoleClose({ instance: "acme-web1" });
    expect(await c.closed()).toBe("closed by you");
    let rows = await audit("instances.console.close");
    while (!rows.length) rows = await audit("instances.console.close");
    expect(rows[0]).toMatchObject({ userName: viewers.acme.name, target: "acme-web1", result: "ok" });
    expect(rows[0]!.inputSummary).toMatchObject({ durationSeconds: expect.any(Number), openedAt: expect.any(String), closedAt: expect.any(String), reason: "closed by you" });
    await c.leave();
  });

  it("another tenant's instance answers exactly like a missing one; no session and oncall are refused", async () => {
    const err = async (p: Promise<unknown>) => (await p.then(() => null, (e: unknown) => e)) as TRPCError;
    const theirs = await err(openConsole(viewers.globex, "acme-web1"));
    const missing = await err(openConsole(viewers.globex, "no-such-vm"));
    expect(theirs.code).toBe("NOT_FOUND");
    expect(theirs.message.replace("acme-web1", "X")).toBe(missing.message.replace("no-such-vm", "X"));
    expect((await err(backend.as(viewers.globex).instances.consoleInput({ instance: "acme-web1", data: "x" }))).code).toBe("NOT_FOUND");
    expect((await err(openConsole(null, "acme-web1"))).code).toBe("UNAUTHORIZED");
    expect((await err(openConsole(viewers.oncall, "acme-web1"))).code).toBe("FORBIDDEN");
    // An admin may (workload:console).
    const admin = await openConsole(viewers.admin, "acme-web2");
    await admin.ready();
    await backend.as(viewers.admin).instances.consoleClose({ instance: "acme-web2" });
    await admin.leave();
  });

  it("survives a reload: the new stream replays the scrollback from the same agent session", async () => {
    const opensBefore = (await audit("instances.console.open")).length;
    const first = await openConsole(viewers.acme, "acme-web2");
    await first.ready();
    const seen = first.state.text;
    await first.leave();
    const second = await openConsole(viewers.acme, "acme-web2");
    await second.screen(seen);
    expect(second.state.events[0]!.kind).toBe("reset");
    expect(second.state.text).toBe(seen);
    expect((await audit("instances.console.open")).length).toBe(opensBefore + 1);
    // A reconnect that names the last event it saw gets only what came after.
    const last = second.state.ids.at(-1)!;
    await backend.as(viewers.acme).instances.consoleInput({ instance: "acme-web2", data: "bob\r" });
    await second.screen("Password: ");
    await second.leave();
    const resumed = await openConsole(viewers.acme, "acme-web2", { lastEventId: last });
    await resumed.screen("bob\r\nPassword: ");
    expect(resumed.state.events.some((e) => e.kind === "reset")).toBe(false);
    expect(resumed.state.text).not.toContain(seen);
    await backend.as(viewers.acme).instances.consoleClose({ instance: "acme-web2" });
    await resumed.leave();
  });

  it("closes when the user's role changes (revoked at once), with no grace", async () => {
    const row = await backend.app.auth.createUser({ email: "console-mover@nimbus.test", name: "Console Mover", password: "console-mover-password", role: "tenant", tenant: "acme" });
    const viewer: Viewer = { userId: row.id, name: row.name, role: "tenant", tenant: "acme" };
    const c = await openConsole(viewer, "acme-web1");
    await c.ready();
    await backend.as(viewers.admin).admin.users.setRole({ userId: row.id, role: "tenant", tenant: "globex" });
    expect(await c.closed()).toMatch(/your session ended or your access changed/);
    await c.leave();
  });

  it("closes when the session is no longer valid (signed out elsewhere), checked as output arrives", async () => {
    let valid = true;
    const c = await openConsole(viewers.acme, "acme-web1", { revalidate: async () => valid });
    await c.ready();
    valid = false;
    // Each keystroke's echo is output: the check runs on output at most once a second.
    const typing = setInterval(() => void backend.as(viewers.acme).instances.consoleInput({ instance: "acme-web1", data: "\r" }).catch(() => undefined), 100);
    try {
      expect(await c.closed()).toMatch(/your session ended/);
    } finally {
      clearInterval(typing);
    }
    await c.leave();
  });

  it("follows its VM through a live migration: re-attached on the destination, scrollback kept, a dim line says so, audited as one session", async () => {
    const admin = backend.as(viewers.admin);
    const from = (await admin.instances.get({ name: "globex-app2" })).instance.host;
    const to = from === "kvm1" ? "kvm2" : "kvm1";
    const globex = viewers.globex;
    const c = await openConsole(globex, "globex-app2");
    await c.ready();
    await backend.as(globex).instances.consoleInput({ instance: "globex-app2", data: "gus\r" });
    await c.screen("gus\r\nPassword: ");
    const opensBefore = (await audit("instances.console.open")).length;
    const op = await admin.instances.migrate({ instance: "globex-app2", destination: to, options: {} });
    await until(() => admin.operations.get({ id: op.id }), (o) => o.state === "succeeded" || o.state === "failed", "the migration to end", 30_000);
    await c.screen("console re-attached, same session");
    // Attached on the destination: what the guest prints there arrives, after what was on screen before.
    await backend.waitFor(() => c.state.events.filter((e) => e.kind === "connected").length >= 2 || undefined, "connected again");
    await backend.as(globex).instances.consoleInput({ instance: "globex-app2", data: "\r" });
    await c.ready();
    expect(c.state.text.indexOf("gus\r\nPassword: ")).toBeLessThan(c.state.text.indexOf("re-attached"));
    expect(c.state.events.some((e) => e.kind === "closed")).toBe(false);
    // The tenant's terminal never names a host.
    expect(c.state.text).not.toMatch(/kvm\d/);
    // One session in the audit trail: no second open; the close says it moved once.
    expect((await audit("instances.console.open")).length).toBe(opensBefore);
    await backend.as(globex).instances.consoleClose({ instance: "globex-app2" });
    expect(await c.closed()).toBe("closed by you");
    let rows = await audit("instances.console.close");
    while (!rows.some((r) => r.target === "globex-app2")) rows = await audit("instances.console.close");
    expect(rows.find((r) => r.target === "globex-app2")!.inputSummary).toMatchObject({ moves: 1, reason: "closed by you" });
    await c.leave();
  });

  it("closes with the reason when the VM stops, and a stopped VM has no console", async () => {
    const c = await openConsole(viewers.admin, "acme-web2");
    await c.ready();
    await backend.as(viewers.admin).instances.power({ name: "acme-web2", action: "destroy" });
    expect(await c.closed()).toBe("the VM stopped");
    await c.leave();
    const again = await openConsole(viewers.acme, "acme-web2");
    expect(await again.closed()).toMatch(/a stopped VM has no console/);
    await again.leave();
    await backend.as(viewers.admin).instances.power({ name: "acme-web2", action: "start" });
  });

  it("closes when the instance is deleted", async () => {
    const c = await openConsole(viewers.admin, "initech-ci");
    await c.ready();
    await backend.as(viewers.admin).instances.delete({ name: "initech-ci", confirm: "initech-ci" });
    expect(await c.closed()).toMatch(/the VM stopped|no longer on this host|no longer have access/);
    await c.leave();
    // Once the delete is done, there is no console to open.
    await backend.waitFor(() => !backend.app.fleet.hosts().some((h) => h.inventory.virt?.domains.some((d) => d.name === "initech-ci")) || undefined, "initech-ci gone");
    await expect(openConsole(viewers.admin, "initech-ci")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("bounds input size and the streams one user may hold", async () => {
    await expect(backend.as(viewers.acme).instances.consoleInput({ instance: "acme-web1", data: "a".repeat(1025) })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const held = [];
    for (let i = 0; i < 6; i++) held.push(await openConsole(viewers.operator, "acme-web1"));
    await expect(openConsole(viewers.operator, "acme-web1")).rejects.toMatchObject({ code: "TOO_MANY_REQUESTS" });
    await held[0]!.leave();
    const seventh = await openConsole(viewers.operator, "acme-web1");
    await seventh.ready();
    for (const h of [...held.slice(1), seventh]) await h.leave();
    await backend.as(viewers.operator).instances.consoleClose({ instance: "acme-web1" });
  });

  it("a tenant's closed reason never names a host; staff read it whole", async () => {
    const host = (await backend.as(viewers.admin).instances.get({ name: "acme-db" })).instance.host;
    await backend.as(viewers.admin).lab.inject({ name: "stop-libvirtd", args: [host] });
    try {
      const staff = await openConsole(viewers.admin, "acme-db");
      expect(await staff.closed()).toContain(host);
      await staff.leave();
      const tenant = await openConsole(viewers.acme, "acme-db");
      const why = await tenant.closed();
      expect(why).toMatch(/libvirtd is not running/);
      expect(why).not.toContain(host);
      await tenant.leave();
    } finally {
      await backend.as(viewers.admin).lab.inject({ name: "start-libvirtd", args: [host] });
    }
  });

  it("as the holder of a relayed call (replica mode): the same access checks for the user the peer names, only that user's console, the same bounds", async () => {
    const relayed = consoleRelayHandlers({ deps: backend.app.deps, live: backend.app.live });
    const c = await openConsole(viewers.acme, "acme-web1");
    await c.ready();
    await relayed.input(viewers.acme, "acme-web1", "\r");
    await relayed.input(viewers.acme, "acme-web1", "relayed\r");
    await c.screen("relayed\r\nPassword: ");
    const refused = (p: Promise<unknown>) => p.then(() => "accepted", (e: unknown) => (e as { code?: string }).code);
    // Another tenant's user answers as for a missing instance; another user of the tenant, or the
    // same user id with another role or tenant (a forged viewer), has no console here.
    expect(await refused(relayed.input(viewers.globex, "acme-web1", "x"))).toBe("NOT_FOUND");
    expect(await refused(relayed.input({ ...viewers.acme, userId: "u-acme-2" }, "acme-web1", "x"))).toBe("NOT_FOUND");
    expect(await refused(relayed.input({ ...viewers.acme, role: "admin", tenant: null }, "acme-web1", "x"))).toBe("NOT_FOUND");
    expect(await refused(relayed.input({ ...viewers.acme, tenant: "globex" }, "acme-web1", "x"))).toBe("NOT_FOUND");
    expect(await refused(relayed.input(viewers.oncall, "acme-web1", "x"))).toBe("FORBIDDEN");
    expect(await refused(relayed.input(viewers.acme, "acme-web1", "a".repeat(1025)))).toBe("BAD_INPUT");
    expect(await refused(relayed.input(viewers.acme, "../etc", "x"))).toBe("BAD_INPUT");
    expect(await refused(relayed.close(viewers.globex, "acme-web1"))).toBe("NOT_FOUND");
    expect(await relayed.close({ ...viewers.acme, userId: "u-acme-2" }, "acme-web1")).toBe(false);
    expect(c.state.events.some((e) => e.kind === "closed")).toBe(false);
    // Nothing refused reached the guest: an empty password now is refused by the getty (a typed one would have opened a shell).
    await relayed.input(viewers.acme, "acme-web1", "\r");
    await c.screen("Login incorrect");
    expect(c.state.text).not.toContain("Linux acme-web1");
    expect(await relayed.close(viewers.acme, "acme-web1")).toBe(true);
    expect(await c.closed()).toBe("closed by you");
    await c.leave();
  });
});
