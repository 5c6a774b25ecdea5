import type { SFTPWrapper, Stats } from "ssh2";
import { NimbusError } from "@nimbus/domain";
import { SshFailure } from "./errors.js";

/** The few SFTP operations the server needs (installing the agent), with typed errors naming the host. */
export interface SftpSession {
  /** A path's size and kind, or null when it does not exist. */
  stat(path: string): Promise<{ size: number; isDirectory: boolean } | null>;
  mkdir(path: string, mode: number): Promise<void>;
  /**
   * Creates or truncates `path` and writes `data`; resolves once the host has closed the file,
   * after an fsync when the server offers one (OpenSSH does), so a rename afterwards publishes
   * a complete file even across a power cut.
   */
  writeFile(path: string, data: Buffer, mode: number): Promise<void>;
  /** Replaces `to` atomically where the server can (OpenSSH's posix-rename), else removes it first. */
  rename(from: string, to: string): Promise<void>;
  close(): void;
}

/** The host answered an SFTP request with an error status (permission denied, no space, ...). */
export class SftpError extends NimbusError {
  constructor(host: string, op: string, path: string, message: string) {
    super("TOOL_FAILED", `${host}: SFTP ${op} ${path} failed: ${message}`, { host, op, path, tool: "sftp" });
    this.name = "SftpError";
  }
}

const WRITE_CHUNK = 32 * 1024;
/** Writes in flight at once: one round trip per chunk would make a WAN upload crawl. */
const WRITES_IN_FLIGHT = 8;
const NO_SUCH_FILE = 2;

type Callback<T> = (err: (Error & { code?: unknown }) | null | undefined, value: T) => void;

/**
 * How long one SFTP request may go unanswered. The connection has no SSH keepalive (the fleet
 * watches agents' traffic instead, and there is no agent yet while it installs one), so a link
 * that goes silent mid-install would otherwise hold the attempt forever.
 */
export const SFTP_REQUEST_TIMEOUT_MS = 30_000;

export function sftpSession(host: string, sftp: SFTPWrapper, requestTimeoutMs = SFTP_REQUEST_TIMEOUT_MS): SftpSession {
  // ssh2 fails the requests pending when the channel dies, but would leave later ones unanswered.
  let gone: string | null = null;
  sftp.once("end", () => (gone ??= "the SFTP channel ended"));
  sftp.once("close", () => (gone ??= "the SFTP channel closed"));

  // ssh2 fails a request with a numeric SFTP status code when the host refused it; without a code
  // the channel or the connection went away, which retrying later can fix.
  const settle = <T>(op: string, path: string, resolve: (v: T | null) => void, reject: (e: Error) => void, missingIsNull = false): Callback<T> => {
    let pending: NodeJS.Timeout | null = setTimeout(() => {
      pending = null;
      reject(new SshFailure(host, "timeout", `no answer to SFTP ${op} ${path} within ${requestTimeoutMs / 1000} s`));
    }, requestTimeoutMs);
    pending.unref();
    return (err, value) => {
      if (!pending) return; // answered after the timeout: the caller has moved on
      clearTimeout(pending);
      pending = null;
      if (!err) return resolve(value);
      if (missingIsNull && err.code === NO_SUCH_FILE) return resolve(null);
      if (typeof err.code === "number") return reject(new SftpError(host, op, path, err.message));
      reject(new SshFailure(host, "unreachable", `connection lost during SFTP ${op} ${path} (${err.message})`));
    };
  };

  const call = <T>(op: string, path: string, start: (cb: Callback<T>) => void, missingIsNull = false) =>
    new Promise<T | null>((resolve, reject) => {
      const cb = settle(op, path, resolve, reject, missingIsNull);
      if (gone) return cb(new Error(gone), undefined as T);
      try {
        start(cb);
      } catch (err) {
        cb(err as Error, undefined as T);
      }
    });

  /** Runs an OpenSSH extension; false when the server does not offer it (ssh2 then throws at once). */
  const extension = (op: string, path: string, start: (cb: Callback<void>) => void) =>
    new Promise<boolean>((resolve, reject) => {
      try {
        start(settle<void>(op, path, () => resolve(true), reject));
      } catch {
        resolve(false);
      }
    });

  const writeAll = async (path: string, handle: Buffer, data: Buffer) => {
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < data.length && !failed) {
        const offset = next;
        const length = Math.min(WRITE_CHUNK, data.length - offset);
        next += length;
        await call<void>("write", path, (cb) => sftp.write(handle, data, offset, length, offset, (err) => cb(err, undefined))).catch((err) => {
          failed = true;
          throw err;
        });
      }
    };
    await Promise.all(Array.from({ length: WRITES_IN_FLIGHT }, worker));
  };

  return {
    async stat(path) {
      const attrs = await call<Stats>("stat", path, (cb) => sftp.stat(path, cb), true);
      return attrs && { size: attrs.size, isDirectory: attrs.isDirectory() };
    },
    async mkdir(path, mode) {
      await call<void>("mkdir", path, (cb) => sftp.mkdir(path, { mode }, (err) => cb(err, undefined)));
    },
    async writeFile(path, data, mode) {
      const handle = (await call<Buffer>("open", path, (cb) => sftp.open(path, "w", { mode }, cb)))!;
      const closeFile = () => call<void>("close", path, (cb) => sftp.close(handle, (err) => cb(err, undefined)));
      try {
        await writeAll(path, handle, data);
        await extension("fsync", path, (cb) => sftp.ext_openssh_fsync(handle, (err) => cb(err, undefined)));
      } catch (err) {
        await closeFile().catch(() => {});
        throw err;
      }
      // A failed close can mean the data never reached the disk.
      await closeFile();
    },
    async rename(from, to) {
      if (await extension("rename", to, (cb) => sftp.ext_openssh_rename(from, to, (err) => cb(err, undefined)))) return;
      // Plain SFTP rename refuses an existing target.
      await call<void>("remove", to, (cb) => sftp.unlink(to, (err) => cb(err, undefined)), true);
      await call<void>("rename", to, (cb) => sftp.rename(from, to, (err) => cb(err, undefined)));
    },
    close() {
      sftp.end();
    },
  };
}
