import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { chmod, lstat, mkdir, open, rename, stat } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

/** Where one agent build keeps its daemon's socket and log, in a directory private to its user. */
export interface DaemonPaths {
  runDir: string;
  socket: string;
  log: string;
}

/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH = 107;

/**
 * The paths of this build's daemon. The socket carries the agent version: an upgraded agent starts
 * its own daemon, and the old one ends once its jobs are done and nobody is connected.
 */
export function daemonPaths(runDir: string, agentVersion: string): DaemonPaths {
  const socket = `${runDir}/agent-${agentVersion.replace(/[^A-Za-z0-9._-]/g, "_")}.sock`;
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH)
    throw new Error(`the agent's socket path ${socket} is longer than ${MAX_SOCKET_PATH} bytes; set daemon.runDir to a shorter directory`);
  return { runDir, socket, log: `${runDir}/agent.log` };
}

/**
 * Creates the run directory (0700) or checks an existing one: owned by this user and closed to
 * others, since whoever can reach the socket can move VMs.
 */
export async function prepareRunDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`${dir} belongs to uid ${st.uid}, not to the agent's user (uid ${uid})`);
  if (st.mode & 0o077) await chmod(dir, 0o700);
}

/** Whether a failed connect means "no daemon there" (start one) rather than a real problem. */
const noDaemon = (err: unknown) => ["ENOENT", "ECONNREFUSED"].includes((err as NodeJS.ErrnoException).code ?? "");

const connect = (path: string) =>
  new Promise<Socket>((resolve, reject) => {
    const socket = createConnection({ path, allowHalfOpen: true });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });

/**
 * `serve --stdio`: connects the SSH channel's stdio to this build's daemon, starting the daemon
 * first when none answers. The relay holds no state: when the link drops it ends, and the
 * daemon, with its jobs, carries on. Resolves when the daemon closes the session.
 */
export async function relayStdio(opts: { socket: string; input: Readable; output: Writable; startDaemon: () => Promise<void> }): Promise<void> {
  let socket: Socket;
  try {
    socket = await connect(opts.socket);
  } catch (err) {
    if (!noDaemon(err)) throw err;
    await opts.startDaemon();
    socket = await connect(opts.socket);
  }
  await new Promise<void>((resolve, reject) => {
    opts.input.pipe(socket);
    socket.pipe(opts.output);
    // The SSH channel is gone (EPIPE on stdout): end the session; the daemon keeps the jobs.
    opts.output.once("error", () => socket.destroy());
    opts.input.once("close", () => socket.end());
    socket.on("error", reject);
    socket.once("close", () => resolve());
  });
}

/** Keeps the daemon's log from growing without limit: one older copy, then it starts over. */
const MAX_LOG_BYTES = 1024 * 1024;

/**
 * Starts the daemon detached from the SSH session (its own session and process group, stdin
 * closed, stderr to the log; nothing of the channel stays open in it) and waits until it says it
 * is ready, or fails with the end of its log.
 */
export async function spawnDaemon(opts: { args: string[]; logPath: string; readyTimeoutMs?: number }): Promise<void> {
  const size = await stat(opts.logPath).then((s) => s.size, () => 0);
  if (size > MAX_LOG_BYTES) await rename(opts.logPath, `${opts.logPath}.1`).catch(() => undefined);
  const logFd = openSync(opts.logPath, "a", 0o600);
  const child = (() => {
    try {
      return spawn(process.execPath, [...process.execArgv, ...opts.args], { detached: true, stdio: ["ignore", "pipe", logFd], cwd: "/" });
    } finally {
      closeSync(logFd);
    }
  })();
  const timeoutMs = opts.readyTimeoutMs ?? 60_000;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the agent daemon did not get ready within ${timeoutMs} ms`)), timeoutMs);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line !== "ready") return;
        clearTimeout(timer);
        resolve();
      });
      child.once("error", reject);
      // Exit 0 before "ready": another daemon won the race and answers on the socket.
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        if (code === 0) return resolve();
        void logTail(opts.logPath).then((tail) => reject(new Error(`the agent daemon ended (${code !== null ? `exit ${code}` : `signal ${signal}`}): ${tail || "nothing in its log"}`)));
      });
    });
  } finally {
    child.stdout?.destroy();
    child.unref();
  }
}

/** The last lines of the daemon's log, for the error the server shows. */
async function logTail(path: string, bytes = 2048): Promise<string> {
  const file = await open(path, "r").catch(() => null);
  if (!file) return "";
  try {
    const { size } = await file.stat();
    const start = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - start);
    await file.read(buf, 0, buf.length, start);
    return buf.toString("utf8").trim();
  } finally {
    await file.close();
  }
}
