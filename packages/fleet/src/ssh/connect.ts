import type { Socket } from "node:net";
import type { Readable, Writable } from "node:stream";
import ssh2, { Client, type ClientChannel, type ParsedKey } from "ssh2";
import { NimbusError } from "@nimbus/domain";
import type { HostConfig, KnownHostsStore } from "../contract.js";
import { HostKeyChanged, SshFailure, sshFailureFrom } from "./errors.js";
import { pinnedKeyOf, type PinnedKey } from "./fingerprint.js";
import { sftpSession, type SftpSession } from "./sftp.js";
import { batchWritesPerTick } from "./write-batch.js";

export interface ConnectOptions {
  /** Parse it once with parsePrivateKey when connecting many hosts: parsing costs ~0.5 ms each time. */
  privateKey: Buffer | string | ParsedKey;
  knownHosts: KnownHostsStore;
  /**
   * Bounds TCP connect + handshake + auth, and separately the opening of each exec channel. There
   * is no SSH keepalive: a silent peer is noticed from the agent's traffic (liveness.ts).
   */
  timeoutMs: number;
}

export interface ExecChannel {
  /** The command's stdout. */
  stdout: Readable;
  /** The command's stdin. */
  stdin: Writable;
  stderr: Readable;
  /** Resolves when the command ends: its exit code or signal, or null if the channel closed without either. */
  exit: Promise<{ code: number | null; signal: string | null } | null>;
  close(): void;
}

export interface SshSession {
  readonly host: string;
  /** The key the host offered and we verified (pinned now, if it was the first one). */
  readonly hostKey: PinnedKey;
  exec(command: string): Promise<ExecChannel>;
  /** Opens the SFTP subsystem; a host without one is a PRECONDITION_FAILED naming the host. */
  sftp(): Promise<SftpSession>;
  /** Called once when the connection ends, with the failure that ended it, if any. */
  onClose(listener: (failure: SshFailure | null) => void): void;
  close(): void;
}

/**
 * Key exchange, most preferred first: ssh2's default order with ecdh-sha2-nistp256 ahead of
 * curve25519. ssh2 does curve25519 through KeyObjects (generate, export, re-import the peer's key:
 * three OpenSSL decoder round trips per handshake), nistp256 through one ECDH object; a handshake
 * costs ~12 % less CPU on each end, which is seconds when 2,000 hosts connect at once. Both are
 * standard (RFC 5656, RFC 8731) and offered by every OpenSSH since 5.7; curve25519 stays second.
 */
const KEX_PREFERENCE = [
  "ecdh-sha2-nistp256",
  "curve25519-sha256",
  "curve25519-sha256@libssh.org",
  "ecdh-sha2-nistp384",
  "ecdh-sha2-nistp521",
  "diffie-hellman-group-exchange-sha256",
  "diffie-hellman-group14-sha256",
  "diffie-hellman-group16-sha512",
  "diffie-hellman-group18-sha512",
] as ssh2.KexAlgorithm[];

/** Parses the server's private key once; a key that cannot be used is a configuration error. */
export function parsePrivateKey(key: Buffer | string | ParsedKey): ParsedKey {
  if (typeof key !== "string" && !Buffer.isBuffer(key)) return key;
  const parsed = ssh2.utils.parseKey(key);
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!first || first instanceof Error || !first.isPrivateKey())
    throw new NimbusError("BAD_INPUT", `the SSH private key cannot be used: ${first instanceof Error ? first.message : "not a private key"}`);
  return first;
}

/**
 * Opens an SSH connection to one host with key authentication and pinned host keys (trust on
 * first use: the first key seen is recorded; any other key later refuses the connection with a
 * HostKeyChanged carrying both fingerprints). Every error names the host.
 */
export async function connectHost(config: HostConfig, opts: ConnectOptions): Promise<SshSession> {
  const host = config.name;
  const key = parsePrivateKey(opts.privateKey);
  const pinned = await opts.knownHosts.get(host);
  const client = new Client();
  let offered: PinnedKey | null = null;
  let keyMismatch: HostKeyChanged | null = null;
  let pinning: Promise<{ fingerprint: string }> | null = null;

  const hostVerifier = (keyBlob: Buffer, verify: (ok: boolean) => void) => {
    offered = pinnedKeyOf(keyBlob);
    if (pinned) {
      if (pinned.fingerprint === offered.fingerprint) return verify(true);
      keyMismatch = new HostKeyChanged(host, pinned.fingerprint, offered);
      return verify(false);
    }
    // Trust on first use: record the key while authentication goes on; the session is handed
    // out only once the pin is stored (see below), so no host is ever online unpinned.
    pinning = opts.knownHosts.pin(host, offered);
    pinning.catch(() => undefined); // awaited after the handshake; a failed handshake ignores it
    verify(true);
  };

  // Without TCP_NODELAY Nagle + delayed ACK stretch each handshake from ~4 ms to ~91 ms; with it,
  // each packet would be a segment of its own: a turn's packets leave together.
  client.on("connect", () => {
    client.setNoDelay(true);
    // ssh2 keeps its socket in `_sock` (1.17.0, pinned and patched; ssh2-patch.test.ts checks it).
    const sock = (client as unknown as { _sock?: Socket })._sock;
    if (sock) batchWritesPerTick(sock);
  });

  // ssh2 can emit several errors for one failure (timeout, then "connection lost"); an 'error'
  // without a listener would crash the process, so this listener stays for the client's lifetime.
  let settled = false;
  let keyOffered = false;
  await new Promise<void>((resolve, reject) => {
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(keyMismatch ?? sshFailureFrom(host, err));
    };
    client.on("error", fail);
    client.once("close", () => fail(new Error("connection closed during the handshake")));
    client.once("ready", () => {
      if (settled) return;
      settled = true;
      resolve();
    });
    client.connect({
      host: config.address,
      port: config.port,
      username: config.user,
      // Offer the already parsed key once; ssh2 would parse `privateKey` again for every connection.
      authHandler: (_methodsLeft, _partialSuccess, next) => {
        if (keyOffered) return next(false as never);
        keyOffered = true;
        next({ type: "publickey", username: config.user, key });
      },
      hostVerifier,
      algorithms: { kex: KEX_PREFERENCE },
      readyTimeout: opts.timeoutMs,
      // Off: ssh2 pings on a fixed interval even on busy links and resets only on a few packet
      // types, never on channel data. The fleet's liveness sweep probes only silent agents.
      keepaliveInterval: 0,
    });
  });

  if (pinning) {
    let stored: { fingerprint: string };
    try {
      stored = await pinning;
    } catch (err) {
      client.end();
      throw new SshFailure(host, "unreachable", `could not record the host key: ${(err as Error)?.message ?? err}`);
    }
    // Another connection or server pinned a key first (a race, or an impostor answering one of
    // us): the first pin stands, and this key is a changed one.
    if (stored.fingerprint !== offered!.fingerprint) {
      client.end();
      throw new HostKeyChanged(host, stored.fingerprint, offered!);
    }
  }
  return session(host, client, offered!, opts.timeoutMs);
}

function session(host: string, client: Client, hostKey: PinnedKey, timeoutMs: number): SshSession {
  const listeners: ((f: SshFailure | null) => void)[] = [];
  let closed = false;
  let lastError: SshFailure | null = null;
  // ssh2 may emit several errors before 'close'; the first one says what happened.
  client.on("error", (err) => (lastError ??= sshFailureFrom(host, err)));
  client.once("close", () => {
    closed = true;
    for (const l of listeners) l(lastError);
  });

  return {
    host,
    hostKey,
    onClose(listener) {
      if (closed) listener(lastError);
      else listeners.push(listener);
    },
    close() {
      client.end();
    },
    exec(command) {
      return new Promise<ExecChannel>((resolve, reject) => {
        const timer = setTimeout(() => reject(new SshFailure(host, "timeout", `exec channel did not open within ${timeoutMs} ms`)), timeoutMs);
        client.exec(command, (err, channel) => {
          clearTimeout(timer);
          if (err) return reject(new SshFailure(host, "unreachable", `could not run "${command}": ${err.message}`));
          resolve(execChannel(channel));
        });
      });
    },
    sftp() {
      return new Promise<SftpSession>((resolve, reject) => {
        const timer = setTimeout(() => reject(new SshFailure(host, "timeout", `SFTP channel did not open within ${timeoutMs} ms`)), timeoutMs);
        client.sftp((err, sftp) => {
          clearTimeout(timer);
          if (!err) return resolve(sftpSession(host, sftp));
          if (closed) return reject(new SshFailure(host, "unreachable", `connection lost while opening SFTP (${err.message})`));
          reject(
            new NimbusError(
              "PRECONDITION_FAILED",
              `${host}: the SSH server offers no SFTP (${err.message}); enable it (OpenSSH: "Subsystem sftp internal-sftp") or set agent.install to "preinstalled"`,
              { host },
            ),
          );
        });
      });
    },
  };
}

function execChannel(channel: ClientChannel): ExecChannel {
  const exit = new Promise<{ code: number | null; signal: string | null } | null>((resolve) => {
    channel.once("exit", (code: number | null, signal?: string) => resolve({ code: code ?? null, signal: signal ?? null }));
    channel.once("close", () => resolve(null));
  });
  return { stdout: channel, stdin: channel, stderr: channel.stderr, exit, close: () => channel.close() };
}
