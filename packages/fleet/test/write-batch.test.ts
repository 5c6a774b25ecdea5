import { createServer, connect as tcpConnect, Socket, type Server } from "node:net";
import ssh2 from "ssh2";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { connectHost } from "../src/ssh/connect.js";
import { batchWritesPerTick } from "../src/ssh/write-batch.js";
import { MemoryKnownHosts } from "../src/memory-stores.js";
import { serveClient } from "./helpers/ssh-server.js";
import { sshKeyPair } from "./helpers/keys.js";

/** A loopback pair: what the far end received, and the near end's socket. */
async function pair(): Promise<{ near: Socket; received: () => string; close: () => Promise<void> }> {
  let got = "";
  const server: Server = createServer((s) => s.on("data", (d) => (got += d)));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const near = tcpConnect({ host: "127.0.0.1", port: (server.address() as { port: number }).port });
  await new Promise<void>((r) => near.once("connect", r));
  return {
    near,
    received: () => got,
    close: () => new Promise<void>((r) => (near.destroy(), server.close(() => r()))),
  };
}
const nextTurn = () => new Promise((r) => setImmediate(r));

describe("batchWritesPerTick", () => {
  it("sends the writes of one turn as one write, in order, and a later turn's apart", async () => {
    const { near, received, close } = await pair();
    try {
      batchWritesPerTick(near);
      const writev = vi.spyOn(near as unknown as { _writev: (...a: unknown[]) => void }, "_writev");
      const write1 = vi.spyOn(near as unknown as { _write: (...a: unknown[]) => void }, "_write");
      near.write("a");
      near.write(Buffer.from("b"));
      near.write("c");
      await nextTurn();
      expect(writev).toHaveBeenCalledTimes(1);
      expect((writev.mock.calls[0]![0] as unknown[]).length).toBe(3);
      expect(write1).not.toHaveBeenCalled();
      near.write("d");
      await nextTurn();
      expect(write1).toHaveBeenCalledTimes(1);
      await vi.waitFor(() => expect(received()).toBe("abcd"));
    } finally {
      await close();
    }
  });

  it("does not hold an end: written data and the end go out", async () => {
    const { near, received, close } = await pair();
    try {
      batchWritesPerTick(near);
      near.write("x");
      near.end("y");
      await vi.waitFor(() => expect(received()).toBe("xy"));
    } finally {
      await close();
    }
  });
});

describe("connectHost writes a turn's SSH packets together", () => {
  const client = sshKeyPair();
  const host = sshKeyPair();
  const clients = new Set<ssh2.Connection>();
  let server: ssh2.Server;
  let port = 0;
  beforeAll(async () => {
    server = new ssh2.Server({ hostKeys: [host.private] }, (c) =>
      serveClient(c, clients, client.public, (session) =>
        session.on("exec", (accept) => {
          const ch = accept();
          ch.end("done\n");
          ch.exit(0);
        }),
      ),
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => (clients.forEach((c) => c.end()), server.close(() => r()))));

  it("sends two channel writes of one turn as one socket write (ssh2's _sock is wrapped)", async () => {
    const proto = Socket.prototype as unknown as { _writev: (...a: unknown[]) => void };
    const batched: number[] = [];
    const original = proto._writev;
    const spy = vi.spyOn(proto, "_writev").mockImplementation(function (this: Socket, chunks: unknown, cb: unknown) {
      if (this.remotePort === port) batched.push((chunks as unknown[]).length);
      return original.call(this, chunks, cb);
    });
    try {
      const session = await connectHost(
        { name: "h1", address: "127.0.0.1", port, user: "u" } as never,
        { privateKey: client.private, knownHosts: new MemoryKnownHosts(), timeoutMs: 5_000 },
      );
      const ch = await session.exec("x");
      ch.stdout.resume();
      // Two requests in one turn, as the protocol client may send them: two SSH packets, one write.
      ch.stdin.write("one\n");
      ch.stdin.write("two\n");
      await nextTurn();
      await ch.exit;
      session.close();
    } finally {
      spy.mockRestore();
    }
    expect(batched.length).toBeGreaterThan(0);
    expect(Math.max(...batched)).toBeGreaterThanOrEqual(2);
  });
});
