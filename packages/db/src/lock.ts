import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { NimbusError } from "@nimbus/domain";

/**
 * An exclusive lock on a PGlite data directory. Two processes opening the same directory get no
 * error from PGlite and silently lose rows and corrupt indexes, so the second one must refuse.
 *
 * The lock is a sibling file `<dataDir>.lock` (inside the directory it would make initdb see a
 * non-empty PGDATA) holding the owner's pid, host and process start time. A lock whose owner is
 * gone, or whose pid now belongs to a different process (pid reuse after a container restart), is
 * stale and taken over.
 */
export interface LockOwner {
  pid: number;
  host: string;
  /** Kernel start time of the owner (/proc/<pid>/stat field 22); null where /proc is missing. */
  startTime: string | null;
  since: string;
  token: string;
}

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

export const lockPathFor = (dataDir: string) => `${path.resolve(dataDir)}.lock`;

export function lockDataDir(dataDir: string): DataDirLock {
  const lockPath = lockPathFor(dataDir);
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  const me: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    startTime: processStartTime(process.pid),
    since: new Date().toISOString(),
    token: randomUUID(),
  };
  // Two rounds: the first may find a stale lock and remove it.
  for (let round = 0; round < 2; round++) {
    if (createExclusive(lockPath, me)) {
      // Another process may have removed the same stale lock and written its own in between.
      if (readOwner(lockPath)?.token !== me.token) break;
      return holdLock(lockPath, me.token);
    }
    const owner = readOwner(lockPath);
    if (owner === undefined) continue; // removed between our attempt and the read
    if (owner === null) {
      throw new NimbusError(
        "CONFLICT",
        `The database lock ${lockPath} cannot be read. If no other Nimbus server uses ${dataDir}, delete that file and start again.`,
        { lockPath },
      );
    }
    if (ownerIsAlive(owner)) throw inUse(dataDir, lockPath, owner);
    fs.rmSync(lockPath, { force: true });
  }
  const owner = readOwner(lockPath);
  if (owner) throw inUse(dataDir, lockPath, owner);
  throw new NimbusError("CONFLICT", `Could not take the database lock ${lockPath}: another process is racing for it.`, { lockPath });
}

function inUse(dataDir: string, lockPath: string, owner: LockOwner): NimbusError {
  const where = owner.host === os.hostname() ? "" : ` on host ${owner.host}`;
  return new NimbusError(
    "CONFLICT",
    `The database directory ${dataDir} is in use by process ${owner.pid}${where} (since ${owner.since}). ` +
      `Stop that process first: two processes writing one PGlite directory corrupt it silently. ` +
      `If that process is not a Nimbus server, delete ${lockPath}.`,
    { lockPath, pid: owner.pid, host: owner.host },
  );
}

/** Writes the owner to a private file, then hard-links it into place: the link fails if the lock
 *  exists, and a reader never sees a half-written lock. */
function createExclusive(lockPath: string, me: LockOwner): boolean {
  const tmp = `${lockPath}.${me.pid}.${me.token}`;
  fs.writeFileSync(tmp, JSON.stringify(me), { mode: 0o600 });
  try {
    fs.linkSync(tmp, lockPath);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The owner, null when the file is unreadable, undefined when it does not exist. */
function readOwner(lockPath: string): LockOwner | null | undefined {
  let text: string;
  try {
    text = fs.readFileSync(lockPath, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid !== "number" || typeof o.host !== "string" || typeof o.token !== "string") return null;
    return { pid: o.pid, host: o.host, startTime: o.startTime ?? null, since: String(o.since ?? "?"), token: o.token };
  } catch {
    return null;
  }
}

function ownerIsAlive(owner: LockOwner): boolean {
  // A process on another host (shared filesystem) cannot be probed: assume it is alive.
  if (owner.host !== os.hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
    // EPERM: it exists but belongs to another user.
  }
  const now = processStartTime(owner.pid);
  return owner.startTime === null || now === null || now === owner.startTime;
}

/** Field 22 of /proc/<pid>/stat, counted after the parenthesised command name (which may hold spaces). */
export function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function holdLock(lockPath: string, token: string): DataDirLock {
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.removeListener("exit", release);
    if (readOwner(lockPath)?.token === token) fs.rmSync(lockPath, { force: true });
  };
  // A normal exit without close() must not leave a lock that looks alive to a pid-reusing successor.
  process.on("exit", release);
  return { path: lockPath, release };
}
