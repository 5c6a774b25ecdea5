import { createServer, type Server, type Socket } from "node:net";
import ssh2 from "ssh2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MemoryKnownHosts } from "../src/memory-stores.js";
import { connectHost, HostKeyChanged, parsePrivateKey, SshFailure, type SshSession } from "../src/ssh/index.js";
import { AgentHost } from "./fixtures/agent-host.js";
import { FakeWorld } from "./fixtures/fake-world.js";
import { sshKeyPair } from "./helpers/keys.js";

const key = sshKeyPair();
const world = new FakeWorld();
let host: AgentHost;
const sessions: SshSession[] = [];

beforeAll(async () => {
  host = await AgentHost.start({ name: "kvm1", clientPublicKey: key.public, drivers: world.drivers("kvm1") });
});
afterAll(() => host.stop());
afterEach(() => {
  for (const s of sessions.splice(0)) s.close();
});

async function connect(knownHosts: MemoryKnownHosts, privateKey: string | ssh2.ParsedKey = key.private, config = host.config()) {
  const s = await connectHost(config, { privateKey, knownHosts, timeoutMs: 2_000 });
  sessions.push(s);
  return s;
}

const failureOf = (p: Promise<unknown>) => p.then(() => expect.unreachable("connection should fail"), (e: unknown) => e as SshFailure);

describe("connectHost", () => {
  it("pins the first host key it sees (trust on first use)", async () => {
    const known = new MemoryKnownHosts();
    const s = await connect(known);
    expect(s.hostKey.fingerprint).toBe(host.fingerprint);
    expect(s.hostKey.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(await known.get("kvm1")).toEqual(s.hostKey);
  });

  it("runs the agent over an exec channel", async () => {
    const s = await connect(new MemoryKnownHosts());
    const ch = await s.exec("nimbus-agent serve --stdio");
    ch.stdin.write(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "hello", params: { protocol: 1, server: "t" } }) + "\n");
    const line = await new Promise<string>((resolve) => ch.stdout.once("data", (d: Buffer) => resolve(d.toString())));
    expect(JSON.parse(line)).toMatchObject({ id: 1, result: { hostname: "kvm1", protocol: 1 } });
    expect(host.commands.at(-1)).toBe("nimbus-agent serve --stdio");
    ch.close();
  });

  it("refuses a host whose key changed, naming both fingerprints", async () => {
    const known = new MemoryKnownHosts();
    const first = await connect(known);
    const pinned = first.hostKey.fingerprint;
    await host.changeHostKey();
    const err = await failureOf(connect(known));
    expect(err).toBeInstanceOf(HostKeyChanged);
    expect(err).toMatchObject({ code: "HOST_KEY_CHANGED", reason: "key-changed", pinned, offered: { fingerprint: host.fingerprint } });
    expect(err.message).toBe(`kvm1: host key changed: pinned ${pinned}, offered ${host.fingerprint}; an admin must accept the new key`);
    expect((await known.get("kvm1"))?.fingerprint).toBe(pinned);
  });

  it("reports refused authentication as auth-failed", async () => {
    const err = await failureOf(connect(new MemoryKnownHosts(), sshKeyPair().private));
    expect(err).toMatchObject({ reason: "auth-failed", code: "HOST_UNREACHABLE" });
    expect(err.message).toMatch(/^kvm1: authentication refused/);
  });

  it("reports a closed port as unreachable with the host's name", async () => {
    const port = await freePort();
    const err = await failureOf(connect(new MemoryKnownHosts(), key.private, { ...host.config(), name: "kvm9", port }));
    expect(err).toMatchObject({ reason: "unreachable", code: "HOST_UNREACHABLE", details: { host: "kvm9", errno: "ECONNREFUSED" } });
    expect(err.message).toMatch(/^kvm9: connect ECONNREFUSED 127\.0\.0\.1:/);
  });

  it("times out a host that accepts TCP but never speaks SSH", async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      const err = await failureOf(
        connectHost({ name: "mute", address: "127.0.0.1", port: silent.port, user: "x" }, { privateKey: key.private, knownHosts: new MemoryKnownHosts(), timeoutMs: 300 }),
      );
      expect(err).toMatchObject({ reason: "timeout", message: "mute: Timed out while waiting for handshake" });
      // Far below the test's own timeout (a silent server never ends the handshake), with room
      // for a loaded machine: this checks that readyTimeout is honoured, not how fast we are.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await silent.close();
    }
  });

  it("refuses an unusable private key as a configuration error", () => {
    expect(() => parsePrivateKey("not a key")).toThrow(expect.objectContaining({ code: "BAD_INPUT" }));
    expect(() => parsePrivateKey(key.public)).toThrow("the SSH private key cannot be used: not a private key");
  });

  it("never overwrites a pin stored after it looked (another server pinned first): the key it sees is a changed one", async () => {
    const store = new MemoryKnownHosts();
    await store.pin("kvm1", { fingerprint: "SHA256:pinned-by-another-server", key: "their key" });
    // Read before the other server's pin landed.
    store.get = async () => null;
    const err = await failureOf(connect(store));
    expect(err).toBeInstanceOf(HostKeyChanged);
    expect(err).toMatchObject({ code: "HOST_KEY_CHANGED", pinned: "SHA256:pinned-by-another-server", offered: { fingerprint: host.fingerprint } });
    expect((await store.list())[0]).toEqual({ host: "kvm1", fingerprint: "SHA256:pinned-by-another-server", key: "their key" });
  });

  it("refuses the connection when the first key cannot be recorded (nothing is online unpinned)", async () => {
    const store = new MemoryKnownHosts();
    store.pin = () => Promise.reject(new Error("disk full"));
    const failure = await failureOf(connect(store));
    expect(failure).toBeInstanceOf(SshFailure);
    expect(failure.message).toContain("could not record the host key: disk full");
  });

  it("signs with a key parsed once, and the host accepts those signatures", async () => {
    const parsed = parsePrivateKey(key.private);
    const data = Buffer.from("session id and userauth request");
    const pub = ssh2.utils.parseKey(key.public) as ssh2.ParsedKey;
    expect(pub.verify(data, parsed.sign(data) as Buffer)).toBe(true);
    // Two connections with the same parsed key both authenticate.
    await connect(new MemoryKnownHosts(), parsed);
    await connect(new MemoryKnownHosts(), parsed);
  });

  it("prefers the cheaper nistp256 key exchange, and still talks to a host that offers only curve25519", async () => {
    await connect(new MemoryKnownHosts());
    expect(host.kex.at(-1)).toBe("ecdh-sha2-nistp256");
    const older = await AgentHost.start({ name: "kvm9", clientPublicKey: key.public, drivers: world.drivers("kvm1"), kex: ["curve25519-sha256"] });
    try {
      await connect(new MemoryKnownHosts(), key.private, older.config());
      expect(older.kex).toEqual(["curve25519-sha256"]);
    } finally {
      await older.stop();
    }
  });

  it("tells the owner when the host ends the connection", async () => {
    const s = await connect(new MemoryKnownHosts());
    const closed = new Promise((resolve) => s.onClose(resolve));
    host.dropConnections();
    await closed;
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const srv: Server = createServer((s) => sockets.add(s));
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  return {
    port: (srv.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), srv.close(() => resolve()))),
  };
}
