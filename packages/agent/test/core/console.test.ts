import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { AgentErrorCode, CONSOLE_LIMITS, methods, notificationSchema } from "@nimbus/domain";
import { AgentError, ConsoleRegistry, serveAgent, type AgentDrivers, type ConsoleStream } from "../../src/index.js";
import { nodeFacts, wire } from "./wire.js";

const facts = nodeFacts("h1");

/** A console stream the test drives: what was written, whether it was closed, and a way to speak or end. */
class FakeStream implements ConsoleStream {
  written: string[] = [];
  closed = false;
  private data: ((b: Buffer) => void)[] = [];
  private closers: ((r: string) => void)[] = [];
  write(b: Buffer) {
    this.written.push(b.toString("utf8"));
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.closers) c("closed");
  }
  onData(l: (b: Buffer) => void) {
    this.data.push(l);
  }
  onClose(l: (r: string) => void) {
    this.closers.push(l);
  }
  say(text: string | Buffer) {
    for (const l of this.data) l(Buffer.isBuffer(text) ? text : Buffer.from(text));
  }
  end(reason: string) {
    this.closed = true;
    for (const c of this.closers) c(reason);
  }
}

function host(opts: { withConsole?: boolean; maxSessions?: number; budget?: number; now?: () => number } = {}) {
  const streams: FakeStream[] = [];
  const opened: string[] = [];
  const drivers: AgentDrivers = {
    hostname: "h1",
    node: { snapshot: async () => facts, watch: () => () => {} },
    virt: {
      snapshot: async () => ({ hypervisor: "test", domains: [] }),
      watch: () => () => {},
      migrate: async () => ({ downtimeMs: null }),
      power: async () => {},
      console:
        opts.withConsole === false
          ? undefined
          : {
              open: async (domain) => {
                opened.push(domain);
                if (domain === "off") throw new AgentError(AgentErrorCode.conflict, "domain off on h1 is shutoff: a stopped VM has no console; start it first");
                const s = new FakeStream();
                streams.push(s);
                return s;
              },
            },
    },
  };
  const registry = new ConsoleRegistry({ maxSessions: opts.maxSessions, flushMs: 1, now: opts.now, outputBudget: opts.budget ? { bytes: opts.budget, windowMs: 1_000 } : undefined });
  const link = () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const done = serveAgent({ input, output, drivers, agentVersion: "9.9.9", consoles: registry, pushDelayMs: 1 });
    const { messages, waitFor, call } = wire(input, output);
    const output64 = (session: string) =>
      messages.filter((m) => m.method === "console.output" && m.params.session === session).map((m) => Buffer.from(m.params.data, "base64").toString("utf8")).join("");
    return { call, waitFor, messages, output64, end: () => input.end(), done };
  };
  return { streams, opened, registry, link };
}

describe("console sessions in the agent", () => {
  it("opens a VM's console, forwards its output as base64 and keystrokes to the guest, and closes it", async () => {
    const h = host();
    const a = h.link();
    const open = await a.call("console.open", { domain: "web1", cols: 120, rows: 40 });
    const session = open.result.session as string;
    expect(session).toMatch(/^[0-9a-f-]{36}$/);
    h.streams[0]!.say("web1 login: ");
    await a.waitFor((m) => m.method === "console.output");
    expect(a.output64(session)).toBe("web1 login: ");
    expect((await a.call("console.input", { session, data: "root\r" })).result).toEqual({ ok: true });
    // Ctrl-] is virsh's escape: it would end the console for everyone, so it never reaches it.
    await a.call("console.input", { session, data: "a\x1db" });
    expect(h.streams[0]!.written).toEqual(["root\r", "ab"]);
    expect((await a.call("console.close", { session })).result).toEqual({ ok: true });
    expect(h.streams[0]!.closed).toBe(true);
    expect(h.registry.size).toBe(0);
    // Closing again is no change; writing to it is an unknown session.
    expect((await a.call("console.close", { session })).result).toEqual({ ok: true });
    expect((await a.call("console.input", { session, data: "x" })).error.code).toBe(AgentErrorCode.notFound);
  });

  it("shares one attachment per VM between sessions and closes it with the last one", async () => {
    const h = host();
    const a = h.link();
    const b = h.link();
    const s1 = (await a.call("console.open", { domain: "web1" })).result.session;
    const s2 = (await b.call("console.open", { domain: "web1" })).result.session;
    expect(h.opened).toEqual(["web1"]);
    h.streams[0]!.say("hello");
    await a.waitFor((m) => m.method === "console.output");
    await b.waitFor((m) => m.method === "console.output");
    expect(a.output64(s1)).toBe("hello");
    expect(b.output64(s2)).toBe("hello");
    await a.call("console.close", { session: s1 });
    expect(h.streams[0]!.closed).toBe(false);
    await b.call("console.close", { session: s2 });
    expect(h.streams[0]!.closed).toBe(true);
  });

  it("answers another link's session id exactly like an unknown one, and leaves it open", async () => {
    const h = host();
    const a = h.link();
    const b = h.link();
    const session = (await a.call("console.open", { domain: "web1" })).result.session;
    const stolen = await b.call("console.input", { session, data: "rm -rf /\r" });
    expect(stolen.error.code).toBe(AgentErrorCode.notFound);
    expect(h.streams[0]!.written).toEqual([]);
    await b.call("console.close", { session });
    expect(h.streams[0]!.closed).toBe(false);
    expect(h.registry.size).toBe(1);
  });

  it("closes every session of a link when the link goes", async () => {
    const h = host();
    const a = h.link();
    await a.call("console.open", { domain: "web1" });
    await a.call("console.open", { domain: "db1" });
    expect(h.registry.size).toBe(2);
    a.end();
    await a.done;
    expect(h.streams.every((s) => s.closed)).toBe(true);
    expect(h.registry.size).toBe(0);
  });

  it("caps sessions per host across links and frees the slot on close", async () => {
    const h = host({ maxSessions: 2 });
    const a = h.link();
    const b = h.link();
    const first = (await a.call("console.open", { domain: "web1" })).result.session;
    await b.call("console.open", { domain: "db1" });
    const refused = await a.call("console.open", { domain: "web2" });
    expect(refused.error.code).toBe(AgentErrorCode.conflict);
    expect(refused.error.message).toMatch(/already has 2 console sessions open/);
    await a.call("console.close", { session: first });
    expect((await a.call("console.open", { domain: "web2" })).result.session).toBeTruthy();
  });

  it("tells every session why the console ended when the guest side ends it", async () => {
    const h = host();
    const a = h.link();
    const b = h.link();
    const s1 = (await a.call("console.open", { domain: "web1" })).result.session;
    const s2 = (await b.call("console.open", { domain: "web1" })).result.session;
    h.streams[0]!.say("last words");
    h.streams[0]!.end("the VM stopped");
    const c1 = await a.waitFor((m) => m.method === "console.closed");
    const c2 = await b.waitFor((m) => m.method === "console.closed");
    expect(c1.params).toEqual({ session: s1, reason: "the VM stopped" });
    expect(c2.params).toEqual({ session: s2, reason: "the VM stopped" });
    // The output it printed before it ended arrives first.
    expect(a.messages.findIndex((m) => m.method === "console.output")).toBeLessThan(a.messages.indexOf(c1));
    expect(h.registry.size).toBe(0);
  });

  it("refuses a stopped VM with the driver's reason and keeps no session", async () => {
    const h = host();
    const a = h.link();
    const res = await a.call("console.open", { domain: "off" });
    expect(res.error.code).toBe(AgentErrorCode.conflict);
    expect(res.error.message).toMatch(/stopped VM has no console/);
    expect(h.registry.size).toBe(0);
  });

  it("says the console is unsupported on a host without one", async () => {
    const h = host({ withConsole: false });
    const res = await h.link().call("console.open", { domain: "web1" });
    expect(res.error.code).toBe(AgentErrorCode.unsupported);
  });

  it("cuts a flood of output into chunks within the protocol's bound", async () => {
    const h = host();
    const a = h.link();
    const session = (await a.call("console.open", { domain: "web1" })).result.session;
    const flood = Buffer.alloc(CONSOLE_LIMITS.chunkBytes * 2 + 100, 0x41);
    h.streams[0]!.say(flood);
    await a.waitFor((m) => m.method === "console.output" && Buffer.from(m.params.data, "base64").length === 100);
    const chunks = a.messages.filter((m) => m.method === "console.output");
    expect(chunks.length).toBe(3);
    for (const c of chunks) expect(notificationSchema("console.output")!.safeParse(c.params).success).toBe(true);
    expect(a.output64(session).length).toBe(flood.length);
  });

  it("drops output over the host's budget and says how much in the next window", async () => {
    let now = 0;
    const h = host({ budget: 100, now: () => now });
    const a = h.link();
    const session = (await a.call("console.open", { domain: "web1" })).result.session;
    h.streams[0]!.say("a".repeat(80));
    await a.waitFor((m) => m.method === "console.output");
    h.streams[0]!.say("b".repeat(80));
    // Over the budget: nothing goes out until the window turns.
    while (h.registry.droppedBytes < 80) await new Promise((r) => setTimeout(r, 1));
    now = 1_000;
    h.streams[0]!.say("c");
    await a.waitFor((m) => m.method === "console.output" && Buffer.from(m.params.data, "base64").toString().endsWith("c"));
    expect(a.output64(session)).toBe(`${"a".repeat(80)}\r\n[nimbus: 80 bytes of console output dropped: the guest printed faster than this host may send]\r\nc`);
  });
});

describe("console protocol bounds", () => {
  it("refuses oversized input, an overlong session id and a bad terminal size", async () => {
    const a = host().link();
    const big = await a.call("console.input", { session: "x", data: "a".repeat(CONSOLE_LIMITS.inputChars + 1) });
    expect(big.error.code).toBe(AgentErrorCode.invalidParams);
    expect((await a.call("console.input", { session: "x".repeat(65), data: "a" })).error.code).toBe(AgentErrorCode.invalidParams);
    expect((await a.call("console.input", { session: "x", data: "" })).error.code).toBe(AgentErrorCode.invalidParams);
    expect((await a.call("console.open", { domain: "web1", cols: 100_000, rows: 24 })).error.code).toBe(AgentErrorCode.invalidParams);
    // Any name libvirt accepts is a name (acted on by UUID); a line break or a "/" is not.
    expect((await a.call("console.open", { domain: "a\nb" })).error.code).toBe(AgentErrorCode.invalidParams);
    expect((await a.call("console.open", { domain: "../x" })).error.code).toBe(AgentErrorCode.invalidParams);
    expect(methods["console.input"].params.safeParse({ session: "s", data: "a".repeat(CONSOLE_LIMITS.inputChars) }).success).toBe(true);
  });

  it("refuses a hostile agent's output: not base64, a chunk over the bound, a reason cut", () => {
    const out = notificationSchema("console.output")!;
    expect(out.safeParse({ session: "s", data: "not base64!" }).success).toBe(false);
    const tooBig = Buffer.alloc(CONSOLE_LIMITS.chunkBytes + 3).toString("base64");
    expect(out.safeParse({ session: "s", data: tooBig }).success).toBe(false);
    expect(out.safeParse({ session: "s", data: Buffer.alloc(CONSOLE_LIMITS.chunkBytes).toString("base64") }).success).toBe(true);
    const closed = notificationSchema("console.closed")!.parse({ session: "s", reason: "x".repeat(100_000) }) as { reason: string };
    expect(closed.reason.length).toBeLessThanOrEqual(2048);
  });
});
