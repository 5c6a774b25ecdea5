import { PassThrough } from "node:stream";
import { createInterface } from "node:readline";
import { emptyInventory } from "@nimbus/domain";
import { afterEach, describe, expect, it } from "vitest";
import { startAgent, type AgentHooks } from "../src/agent-start.js";
import { HandshakeFailure } from "../src/connect-failure.js";
import type { ProtocolClient } from "../src/protocol-client.js";
import type { ExecChannel, SshSession } from "../src/ssh/index.js";

/**
 * startAgent on a scripted exec channel: hello and the first snapshot leave together (in one turn,
 * so one socket write; no round trip between them), and hello still decides: a wrong protocol or
 * an agent that ends before answering is reported as before, whatever became of the snapshot.
 */
function scripted() {
  const stdout = new PassThrough();
  const stdin = new PassThrough();
  const stderr = new PassThrough();
  let exited!: (v: { code: number | null; signal: string | null } | null) => void;
  const exit = new Promise<{ code: number | null; signal: string | null } | null>((r) => (exited = r));
  const channel: ExecChannel = { stdout, stdin, stderr, exit, close: () => stdout.end() };
  const writes: string[] = [];
  stdin.on("data", (b: Buffer) => writes.push(String(b)));
  const session = { host: "kvm1", exec: async () => channel } as unknown as SshSession;
  const lines = createInterface({ input: stdin })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value as string) as { id: number; method: string };
  const send = (msg: unknown) => stdout.write(`${JSON.stringify(msg)}\n`);
  let client: ProtocolClient | null = null;
  const hooks: AgentHooks = { attached: (c) => (client = c), notification: () => {}, protocolError: () => {}, closed: () => {} };
  const start = () =>
    startAgent(
      session,
      { config: { name: "kvm1", address: "127.0.0.1", port: 22, user: "nimbus" } as never, serverName: "test", requestTimeoutMs: 5_000, handshakeTimeoutMs: 5_000, exitGraceMs: 50 },
      hooks,
    );
  return { stdout, stderr, writes, next, send, exited, start, client: () => client };
}

const hello = (protocol = 1) => ({ protocol, agentVersion: "0.1.0", hostname: "kvm1", capabilities: ["virt"], bootId: "b1" });
let s: ReturnType<typeof scripted>;
afterEach(() => s?.client()?.close());

describe("startAgent", () => {
  it("asks hello and the first snapshot at once, and resolves with both", async () => {
    s = scripted();
    const started = s.start();
    const [a, b] = [await s.next(), await s.next()];
    expect([a.method, b.method]).toEqual(["hello", "inventory.snapshot"]);
    // Both requests were written before the agent said anything: no round trip between them.
    expect(s.writes.join("")).toContain('"inventory.snapshot"');
    s.send({ jsonrpc: "2.0", id: a.id, result: hello() });
    s.send({ jsonrpc: "2.0", id: b.id, result: emptyInventory() });
    await expect(started).resolves.toMatchObject({ hello: hello(), inventory: emptyInventory() });
  });

  it("an agent of another protocol is a protocol mismatch, even when its snapshot never comes", async () => {
    s = scripted();
    const started = s.start();
    const [a] = [await s.next(), await s.next()];
    s.send({ jsonrpc: "2.0", id: a.id, result: hello(2) });
    const err = await started.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HandshakeFailure);
    expect((err as HandshakeFailure).failure).toMatchObject({ state: "protocol-mismatch", message: expect.stringMatching(/protocol 2, this server speaks 1/) });
  });

  it("an agent that ends before answering is missing, with its stderr; the unanswered snapshot is no unhandled rejection", async () => {
    s = scripted();
    const started = s.start();
    await s.next();
    s.stderr.write("nimbus-agent: not found\n");
    s.exited({ code: 127, signal: null });
    s.stdout.end();
    const err = await started.catch((e: unknown) => e);
    expect((err as HandshakeFailure).failure).toMatchObject({ state: "agent-missing", message: expect.stringMatching(/exit 127\): nimbus-agent: not found/) });
  });

  it("a snapshot that does not match the protocol fails the start once hello passed", async () => {
    s = scripted();
    const started = s.start();
    const [a, b] = [await s.next(), await s.next()];
    s.send({ jsonrpc: "2.0", id: b.id, result: { node: "not an object" } });
    s.send({ jsonrpc: "2.0", id: a.id, result: hello() });
    await expect(started).rejects.toMatchObject({ code: "UNPARSEABLE_OUTPUT", message: expect.stringMatching(/inventory\.snapshot does not match/) });
  });
});
