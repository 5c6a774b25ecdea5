import { PassThrough } from "node:stream";
import { createInterface } from "node:readline";
import { AgentErrorCode, NimbusError, emptyInventory } from "@nimbus/domain";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ProtocolClient, type AgentNotification } from "../src/protocol-client.js";

/** A client wired to a scripted agent: `requests` yields what the client sent, `send` answers. */
function harness(opts: { requestTimeoutMs?: number; maxLineBytes?: number; maxNotificationBytes?: number; notificationBudget?: { bytes: number; windowMs: number } } = {}) {
  const agentStdout = new PassThrough();
  const agentStdin = new PassThrough();
  const notes: AgentNotification[] = [];
  const errors: NimbusError[] = [];
  let closed = 0;
  const client = new ProtocolClient({
    host: "kvm1",
    input: agentStdout,
    output: agentStdin,
    ...opts,
    onNotification: (n) => notes.push(n),
    onProtocolError: (e) => errors.push(e),
    onClose: () => closed++,
  });
  const lines = createInterface({ input: agentStdin })[Symbol.asyncIterator]();
  const nextRequest = async () => JSON.parse((await lines.next()).value as string) as { id: number; method: string; params: unknown };
  const send = (msg: unknown) => agentStdout.write((typeof msg === "string" ? msg : JSON.stringify(msg)) + "\n");
  return { client, agentStdout, notes, errors, nextRequest, send, closedCount: () => closed };
}

const hello = { protocol: 1, agentVersion: "0.1.0", hostname: "kvm1", capabilities: ["virt"], bootId: "b1" };
let h: ReturnType<typeof harness>;
afterEach(() => h?.client.close());

describe("ProtocolClient", () => {
  it("sends numbered JSON-RPC requests and resolves with the validated result", async () => {
    h = harness();
    const answer = h.client.request("hello", { protocol: 1, server: "test" });
    const req = await h.nextRequest();
    expect(req).toMatchObject({ jsonrpc: "2.0", id: 1, method: "hello", params: { protocol: 1, server: "test" } });
    h.send({ jsonrpc: "2.0", id: req.id, result: hello });
    await expect(answer).resolves.toEqual(hello);
  });

  it("matches answers to requests by id, in any order", async () => {
    h = harness();
    const a = h.client.request("job.list", {});
    const b = h.client.request("inventory.snapshot", {});
    const [ra, rb] = [await h.nextRequest(), await h.nextRequest()];
    h.send({ jsonrpc: "2.0", id: rb.id, result: emptyInventory() });
    h.send({ jsonrpc: "2.0", id: ra.id, result: [] });
    await expect(a).resolves.toEqual([]);
    await expect(b).resolves.toEqual(emptyInventory());
  });

  it("rejects an answer that does not match the method's schema, naming host and method", async () => {
    h = harness();
    const answer = h.client.request("inventory.snapshot", {});
    const req = await h.nextRequest();
    h.send({ jsonrpc: "2.0", id: req.id, result: { node: "not an object" } });
    const err = await answer.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NimbusError);
    expect(err).toMatchObject({ code: "UNPARSEABLE_OUTPUT", details: { host: "kvm1", method: "inventory.snapshot" } });
    expect((err as Error).message).toMatch(/^kvm1: answer to inventory\.snapshot does not match/);
  });

  it("times out a request that gets no answer", async () => {
    h = harness({ requestTimeoutMs: 50 });
    await expect(h.client.request("job.list", {})).rejects.toMatchObject({ code: "TIMEOUT", message: "kvm1: job.list got no answer within 50 ms" });
  });

  it("reports a late answer to a timed-out request as a protocol error", async () => {
    h = harness();
    const answer = h.client.request("job.list", {}, { timeoutMs: 20 });
    const req = await h.nextRequest();
    await expect(answer).rejects.toMatchObject({ code: "TIMEOUT" });
    h.send({ jsonrpc: "2.0", id: req.id, result: [] });
    await expect.poll(() => h.errors.length).toBe(1);
    expect(h.errors[0]!.message).toMatch(/unknown or timed-out request 1/);
  });

  it("survives garbage lines and keeps answering", async () => {
    h = harness();
    h.send("Last login: Mon from 10.0.0.1");
    h.send("{not json");
    h.send({ hello: "world" });
    const answer = h.client.request("job.list", {});
    const req = await h.nextRequest();
    h.send({ jsonrpc: "2.0", id: req.id, result: [] });
    await expect(answer).resolves.toEqual([]);
    expect(h.errors.map((e) => e.code)).toEqual(["UNPARSEABLE_OUTPUT", "UNPARSEABLE_OUTPUT", "UNPARSEABLE_OUTPUT"]);
    expect(h.errors[0]!.message).toBe('kvm1: agent sent a line that is not JSON: "Last login: Mon from 10.0.0.1"');
  });

  it("drops an over-long line and reads on", async () => {
    h = harness({ maxLineBytes: 120 });
    h.send({ jsonrpc: "2.0", method: "host.event", params: { at: "t", level: "info", message: "x".repeat(200) } });
    h.send({ jsonrpc: "2.0", method: "host.event", params: { at: "t", level: "info", message: "short" } });
    await expect.poll(() => h.notes.length).toBe(1);
    expect(h.notes[0]).toMatchObject({ method: "host.event", params: { message: "short" } });
    expect(h.errors[0]!.message).toBe("kvm1: a message exceeded the 120-byte limit and was dropped");
  });

  it("delivers valid notifications and reports invalid ones with the method name", async () => {
    h = harness();
    h.send({ jsonrpc: "2.0", method: "inventory.section", params: { section: "bogus", data: {} } });
    h.send({ jsonrpc: "2.0", method: "no.such.thing", params: {} });
    h.send({ jsonrpc: "2.0", method: "inventory.section", params: { section: "node", data: null } });
    await expect.poll(() => h.notes.length + h.errors.length).toBe(3);
    expect(h.notes).toEqual([{ method: "inventory.section", params: { section: "node", data: null } }]);
    expect(h.errors.map((e) => e.details?.method)).toEqual(["inventory.section", "no.such.thing"]);
  });

  it("checks every host's counters push by hand: the schema's result, and the schema's words for a refusal", async () => {
    h = harness();
    const push = { cpu: { busy: 1, total: 2 }, interfaces: [], domains: [{ name: "web-1", cpuTimeNs: 1, netRxBytes: 2, netTxBytes: 3, diskReadBytes: 4, diskWriteBytes: 5, junk: "dropped" }] };
    h.send({ jsonrpc: "2.0", method: "stats.counters", params: push });
    h.send({ jsonrpc: "2.0", method: "stats.counters", params: { ...push, domains: [{ ...push.domains[0], netRxBytes: -1 }] } });
    await expect.poll(() => h.notes.length + h.errors.length).toBe(2);
    expect(h.notes).toEqual([
      {
        method: "stats.counters",
        params: { cpu: { busy: 1, total: 2 }, interfaces: [], domains: [{ name: "web-1", cpuTimeNs: 1, netRxBytes: 2, netTxBytes: 3, diskReadBytes: 4, diskWriteBytes: 5, memoryRssKiB: null }], datastores: [] },
      },
    ]);
    expect(h.errors[0]).toMatchObject({ code: "UNPARSEABLE_OUTPUT", details: { method: "stats.counters" } });
    expect(h.errors[0]!.message).toContain("domains.0.netRxBytes");
  });

  it.each(["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"])(
    "reports a notification named %s (an inherited key) as unknown and keeps working",
    async (method) => {
      h = harness();
      h.send({ jsonrpc: "2.0", method, params: {} });
      await expect.poll(() => h.errors.length).toBe(1);
      expect(h.errors[0]).toMatchObject({ code: "UNPARSEABLE_OUTPUT", details: { host: "kvm1", method } });
      expect(h.errors[0]!.message).toBe(`kvm1: agent sent unknown notification ${JSON.stringify(method)}`);
      const answer = h.client.request("job.list", {});
      h.send({ jsonrpc: "2.0", id: (await h.nextRequest()).id, result: [] });
      await expect(answer).resolves.toEqual([]);
    },
  );

  it.each([
    [AgentErrorCode.toolFailed, "TOOL_FAILED"],
    [AgentErrorCode.unparseable, "UNPARSEABLE_OUTPUT"],
    [AgentErrorCode.notFound, "NOT_FOUND"],
    [AgentErrorCode.conflict, "CONFLICT"],
    [AgentErrorCode.unsupported, "PRECONDITION_FAILED"],
    [AgentErrorCode.methodNotFound, "PROTOCOL_MISMATCH"],
    [AgentErrorCode.invalidParams, "BAD_INPUT"],
    [-1, "INTERNAL"],
  ])("maps agent error %i to %s", async (agentCode, code) => {
    h = harness();
    const answer = h.client.request("job.cancel", { jobId: "j1" });
    const req = await h.nextRequest();
    h.send({ jsonrpc: "2.0", id: req.id, error: { code: agentCode, message: "virsh: domain is busy", data: { tool: "virsh" } } });
    await expect(answer).rejects.toMatchObject({
      code,
      message: "kvm1: job.cancel failed: virsh: domain is busy",
      details: { host: "kvm1", method: "job.cancel", agentCode, data: { tool: "virsh" } },
    });
  });

  it("takes an answer longer than a push for a pending request, and refuses long lines that are anything else", async () => {
    h = harness({ maxNotificationBytes: 200 });
    const long = "x".repeat(300);
    h.send(`{"jsonrpc":"2.0","method":"host.event","params":{"at":"t","level":"info","message":"${long}"}}`);
    const answer = h.client.request("job.list", {});
    const req = await h.nextRequest();
    h.send(long);
    h.send({ jsonrpc: "2.0", id: 999, result: [long] });
    h.send({ jsonrpc: "2.0", method: "host.event", params: { at: "t", level: "info", message: long } });
    h.send({ jsonrpc: "2.0", id: req.id, result: [{ id: "op-1", kind: "scale", state: "failed", progress: null, error: long, startedAt: "t", finishedAt: "t" }] });
    await expect(answer).resolves.toHaveLength(1);
    expect(h.notes).toEqual([]);
    expect(h.errors.map((e) => e.message.replace(/ \(\d+ bytes, over the 200-byte limit\); it was refused$/, ""))).toEqual([
      "kvm1: agent sent a message while nothing was asked",
      "kvm1: agent sent a line that is not JSON",
      "kvm1: agent sent an answer to no pending request",
      'kvm1: agent sent a "host.event"',
    ]);
    expect(h.errors.every((e) => typeof e.details?.oversizedBytes === "number")).toBe(true);
  });

  it("refuses pushes over the budget of their minute, and takes them again the next minute", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
      h = harness({ notificationBudget: { bytes: 1000, windowMs: 60_000 } });
      const event = (i: number) => ({ jsonrpc: "2.0", method: "host.event", params: { at: "t", level: "info", message: `${i}`.padEnd(300, ".") } });
      for (let i = 0; i < 5; i++) h.send(event(i));
      await expect.poll(() => h.notes.length + h.errors.length).toBe(5);
      expect(h.notes).toHaveLength(2);
      expect(h.errors[0]).toMatchObject({ message: 'kvm1: agent pushed more than 1000 bytes within 60 s; "host.event" refused', details: { method: "host.event" } });
      vi.setSystemTime(new Date("2026-01-01T00:01:00Z"));
      h.send(event(5));
      await expect.poll(() => h.notes.length).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it("cuts a megabyte error message from the agent and drops its oversized data", async () => {
    h = harness();
    const answer = h.client.request("job.cancel", { jobId: "j1" });
    const req = await h.nextRequest();
    h.send({ jsonrpc: "2.0", id: req.id, error: { code: AgentErrorCode.toolFailed, message: "x".repeat(1_000_000), data: { stderr: "y".repeat(100_000) } } });
    const err = (await answer.catch((e: unknown) => e)) as NimbusError;
    expect(err).toMatchObject({ code: "TOOL_FAILED", details: { host: "kvm1", method: "job.cancel", agentCode: AgentErrorCode.toolFailed } });
    expect(err.details).not.toHaveProperty("data");
    expect(err.message.length).toBeLessThan(2_100);
  });

  it("refuses invalid params before anything reaches the host", async () => {
    h = harness();
    const bad = h.client.request("virt.power", { domain: "web; rm -rf /", action: "start" });
    await expect(bad).rejects.toMatchObject({ code: "BAD_INPUT", details: { host: "kvm1", method: "virt.power" } });
    const ok = h.client.request("job.list", {});
    expect((await h.nextRequest()).method).toBe("job.list");
    h.client.close();
    await ok.catch(() => {});
  });

  it("rejects pending requests when the channel ends, and later ones at once", async () => {
    h = harness();
    const pending = h.client.request("inventory.snapshot", {});
    await h.nextRequest();
    h.agentStdout.end();
    await expect(pending).rejects.toMatchObject({ code: "HOST_UNREACHABLE", message: "kvm1: connection closed before inventory.snapshot was answered" });
    await expect(h.client.request("job.list", {})).rejects.toMatchObject({ code: "HOST_UNREACHABLE" });
    expect(h.closedCount()).toBe(1);
  });

  it("records when the last message arrived", async () => {
    h = harness();
    expect(h.client.lastMessageAt).toBeNull();
    h.send({ jsonrpc: "2.0", method: "host.event", params: { at: "t", level: "info", message: "m" } });
    await expect.poll(() => h.client.lastMessageAt).toBeInstanceOf(Date);
  });
});
