import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TOOL_ENV } from "./exec.js";
import { waitFor } from "./wait.js";

/**
 * Every long-running process the lab starts, recorded in a pid file under the lab dir so that
 * `down` (even after a crash) stops each one by its own pid. The record keeps the process's
 * start time too: a pid the kernel recycled for someone else's process is never signalled.
 */
export interface DaemonRecord {
  id: string;
  pid: number;
  /** Field 22 of /proc/PID/stat: identifies this process, not just this pid. */
  startTime: string;
  argv: string[];
  log: string;
  startedAt: string;
}

export interface StartSpec {
  /** `<node>.<daemon>`, e.g. `kvm1.libvirtd`; `root.fwd-kvm1` for root-namespace forwarders. */
  id: string;
  argv: string[];
  log: string;
  env?: NodeJS.ProcessEnv;
}

const recordPath = (pidDir: string, id: string) => join(pidDir, `${id}.json`);

export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

export const isAlive = (rec: Pick<DaemonRecord, "pid" | "startTime">) => processStartTime(rec.pid) === rec.startTime;

/**
 * Starts a daemon in the foreground mode of its tool, detached into its own session (so its
 * pid is also its process group: stopping it takes its per-connection children along).
 */
export async function startDaemon(pidDir: string, spec: StartSpec): Promise<DaemonRecord> {
  await mkdir(pidDir, { recursive: true });
  const fd = openSync(spec.log, "a");
  let pid: number | undefined;
  try {
    const child = spawn(spec.argv[0]!, spec.argv.slice(1), {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: spec.env ?? TOOL_ENV,
    });
    child.on("error", () => undefined);
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(fd);
  }
  if (!pid) throw new Error(`${spec.id}: ${spec.argv[0]} could not be started (see ${spec.log})`);
  const startTime = await waitFor(`${spec.id} to appear in /proc`, () => processStartTime(pid!), { timeoutMs: 5000 });
  const rec: DaemonRecord = { id: spec.id, pid, startTime, argv: spec.argv, log: spec.log, startedAt: new Date().toISOString() };
  await writeFile(recordPath(pidDir, spec.id), JSON.stringify(rec, null, 2));
  return rec;
}

export async function readRecord(pidDir: string, id: string): Promise<DaemonRecord | null> {
  try {
    return JSON.parse(await readFile(recordPath(pidDir, id), "utf8")) as DaemonRecord;
  } catch {
    return null;
  }
}

export async function listRecords(pidDir: string): Promise<DaemonRecord[]> {
  let files: string[];
  try {
    files = await readdir(pidDir);
  } catch {
    return [];
  }
  const recs = await Promise.all(files.filter((f) => f.endsWith(".json")).map((f) => readRecord(pidDir, f.slice(0, -5))));
  return recs.filter((r): r is DaemonRecord => r !== null);
}

/** SIGTERM to the daemon's process group, SIGKILL after `graceMs`; then forgets the record. */
export async function stopDaemon(pidDir: string, id: string, graceMs = 10_000): Promise<"stopped" | "not-running"> {
  const rec = await readRecord(pidDir, id);
  if (!rec) return "not-running";
  const result = isAlive(rec) ? await terminate(rec, graceMs) : "not-running";
  await rm(recordPath(pidDir, id), { force: true });
  return result;
}

async function terminate(rec: DaemonRecord, graceMs: number): Promise<"stopped"> {
  signalGroup(rec.pid, "SIGTERM");
  try {
    await waitFor(`${rec.id} (pid ${rec.pid}) to exit`, () => !isAlive(rec), { timeoutMs: graceMs });
  } catch {
    if (isAlive(rec)) signalGroup(rec.pid, "SIGKILL");
    await waitFor(`${rec.id} (pid ${rec.pid}) to exit after SIGKILL`, () => !isAlive(rec), { timeoutMs: 5000 });
  }
  return "stopped";
}

function signalGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Inode of a network namespace as /proc/PID/ns/net shows it ("net:[INODE]"). */
export const netnsInode = (path: string): number | null => {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
};

/**
 * Processes the lab made that have no pid file of their own: QEMU (double-forked by libvirtd),
 * containerd shims and container processes. They are found by identity, never by name: their
 * network namespace is one the lab created, or their cgroup is one the lab's dockerds use.
 */
export function findLabProcesses(netnsInodes: ReadonlySet<number>, cgroupMarker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const link = readlinkSync(`/proc/${pid}/ns/net`);
      const ino = Number(/\[(\d+)\]/.exec(link)?.[1]);
      if (netnsInodes.has(ino) || readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(cgroupMarker)) found.push(pid);
    } catch {
      // exited while we looked, or a kernel thread
    }
  }
  return found;
}

export async function killProcesses(pids: number[], graceMs = 3000): Promise<void> {
  const recs = pids.map((pid) => ({ pid, startTime: processStartTime(pid) ?? "" })).filter((r) => r.startTime);
  for (const r of recs) signalGroup(r.pid, "SIGTERM");
  try {
    await waitFor("lab processes to exit", () => recs.every((r) => !isAlive(r)), { timeoutMs: graceMs });
  } catch {
    for (const r of recs) if (isAlive(r)) signalGroup(r.pid, "SIGKILL");
    await waitFor("lab processes to exit after SIGKILL", () => recs.every((r) => !isAlive(r)), { timeoutMs: 5000 });
  }
}
