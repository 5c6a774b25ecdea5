import { createPublicKey, KeyObject, verify } from "node:crypto";
import { connect as tcpConnect, type Socket } from "node:net";
import ssh2, { type ParsedKey } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveClient } from "./helpers/ssh-server.js";
import { sshKeyPair } from "./helpers/keys.js";

// What patches/ssh2@1.17.0.patch changes (see ARCHITECTURE.md): keys sign and verify through a
// KeyObject made once; each packet leaves in one write; public-key auth sends its signature at
// once. These tests fail on an unpatched ssh2.

const parse = (text: string) => ssh2.utils.parseKey(text) as ParsedKey;
const keyObjects = (key: ParsedKey) =>
  Object.getOwnPropertySymbols(key)
    .filter((s) => s.description?.endsWith("KeyObject"))
    .map((s) => (key as unknown as Record<symbol, unknown>)[s]);

describe("ssh2 keys (patched: one KeyObject per key)", () => {
  type Kind = "ed25519" | "ecdsa" | "rsa";
  const types: [string, Kind, number][] = [
    ["ed25519", "ed25519", 256],
    ["ecdsa P-256", "ecdsa", 256],
    ["ecdsa P-384", "ecdsa", 384],
    ["ecdsa P-521", "ecdsa", 521],
    ["rsa", "rsa", 2048],
  ];
  const generate = (type: Kind, bits: number) =>
    type === "ed25519"
      ? sshKeyPair()
      : type === "ecdsa"
        ? ssh2.utils.generateKeyPairSync("ecdsa", { bits: bits as 256 | 384 | 521 })
        : ssh2.utils.generateKeyPairSync("rsa", { bits });
  const data = Buffer.from("exchange hash");

  it.each(types)("%s: signatures verify, again and again, and only for the data and key that made them", (_name, type, bits) => {
    const pair = generate(type, bits);
    const other = generate(type, bits);
    const priv = parse(pair.private);
    const pub = parse(pair.public);
    const sig = priv.sign(data) as Buffer;
    expect(pub.verify(data, sig)).toBe(true);
    expect(pub.verify(data, sig)).toBe(true); // second time through the cached KeyObject
    expect(pub.verify(Buffer.from("other data"), sig)).toBe(false);
    expect(pub.verify(data, parse(other.private).sign(data) as Buffer)).toBe(false);
    const tampered = Buffer.from(sig);
    tampered[tampered.length - 2]! ^= 1;
    expect(pub.verify(data, tampered)).toBe(false);
    // The KeyObject is the key the PEM describes: plain OpenSSL agrees with every answer above.
    const hash = type === "ed25519" ? null : type === "rsa" ? "sha1" : `sha${bits === 521 ? 512 : bits}`;
    expect(verify(hash, data, createPublicKey(pub.getPublicPEM()), sig)).toBe(true);
    const cached = keyObjects(pub);
    expect(cached).toHaveLength(1);
    expect(cached[0]).toBeInstanceOf(KeyObject);
    expect((cached[0] as KeyObject).equals(createPublicKey(pub.getPublicPEM()))).toBe(true);
    expect(keyObjects(priv).some((k) => k instanceof KeyObject)).toBe(true);
  });
});

describe("ssh2 transport (patched: one write per packet, signed auth at once)", () => {
  const client = sshKeyPair();
  const host = sshKeyPair();
  const clients = new Set<ssh2.Connection>();
  const authAttempts: { method: string; signed: boolean }[] = [];
  let server: ssh2.Server;
  let port = 0;

  beforeAll(async () => {
    server = new ssh2.Server({ hostKeys: [host.private] }, (c) => {
      c.on("authentication", (ctx) => authAttempts.push({ method: ctx.method, signed: ctx.method === "publickey" && !!ctx.signature }));
      serveClient(c, clients, client.public, (session) =>
        session.on("exec", (accept) => {
          const ch = accept();
          ch.end("done\n");
          ch.exit(0);
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const connectOnce = (privateKey: string) =>
    new Promise<void>((resolve, reject) => {
      const conn = new ssh2.Client();
      conn.on("error", reject);
      conn.on("ready", () => {
        conn.end();
        resolve();
      });
      conn.connect({ host: "127.0.0.1", port, username: "u", privateKey });
    });

  it("authenticates with one signed public-key request, without asking first", async () => {
    authAttempts.length = 0;
    await connectOnce(client.private);
    expect(authAttempts.filter((a) => a.method === "publickey")).toEqual([{ method: "publickey", signed: true }]);
  });

  it("still reports a key the server refuses as an authentication failure", async () => {
    authAttempts.length = 0;
    await expect(connectOnce(sshKeyPair().private)).rejects.toMatchObject({ level: "client-authentication" });
    expect(authAttempts.filter((a) => a.method === "publickey")).toHaveLength(1);
  });

  it("writes every packet whole (length, body and MAC at once), from the first KEXINIT to the last CLOSE", async () => {
    const writes: Buffer[] = [];
    const sock: Socket = tcpConnect({ host: "127.0.0.1", port });
    const write = sock.write.bind(sock);
    sock.write = ((chunk: Buffer, ...rest: never[]) => {
      writes.push(Buffer.from(chunk));
      return write(chunk, ...rest);
    }) as Socket["write"];
    const conn = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      conn.on("error", reject);
      conn.on("ready", () =>
        conn.exec("x", (err, ch) => {
          if (err) return reject(err);
          ch.resume();
          ch.on("close", () => resolve());
        }),
      );
      conn.connect({ sock, username: "u", privateKey: client.private, algorithms: { cipher: ["aes128-gcm@openssh.com"] } });
    });
    conn.end();

    const [ident, ...packets] = writes;
    expect(ident!.toString()).toMatch(/^SSH-2\.0-/);
    // Cleartext until NEWKEYS: 4-byte length + that many bytes; AES-GCM after: + a 16-byte tag.
    let encrypted = false;
    for (const p of packets) {
      const length = p.readUInt32BE(0);
      expect(p.length).toBe(4 + length + (encrypted ? 16 : 0));
      if (!encrypted && p[5] === 21 /* SSH_MSG_NEWKEYS */) encrypted = true;
    }
    expect(encrypted).toBe(true);
    expect(packets.length).toBeGreaterThan(8);
  });
});
