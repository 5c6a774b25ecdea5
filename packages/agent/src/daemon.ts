import { unlink } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import type { AgentDrivers } from "./drivers.js";
import { JobRegistry } from "./jobs.js";
import { ConsoleRegistry } from "./console.js";
import { serveAgent } from "./serve.js";

export interface AgentDaemonOptions {
  /** The unix socket sessions connect to (in a directory private to the agent's user). */
  socketPath: string;
  drivers: AgentDrivers;
  agentVersion: string;
  /**
   * How long the daemon stays with no session and no running job before it ends: a server that
   * reconnects within this time still learns from `job.list` how the jobs it started ended.
   */
  lingerMs: number;
  log: (level: "info" | "warn" | "error", message: string) => void;
  /** Coalesce bursts of changes in one section into one push (serveAgent's pushDelayMs). */
  pushDelayMs?: number;
}

export interface AgentDaemon {
  /** Resolves when the daemon has ended (idle past lingerMs, or close()). */
  readonly ended: Promise<void>;
  readonly bootId: string;
  close(): void;
}

/** Another daemon already answers on the socket: the caller should use that one. */
export class DaemonAlreadyRunning extends Error {}

/**
 * A session whose reader stopped reading (a relay stuck on a dead SSH link) is dropped once this
 * much waits in its socket's buffer: pushes must not pile up in the daemon's memory.
 */
const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;
/** A daemon nobody connects to after it started ends after this long at the least. */
const FIRST_SESSION_GRACE_MS = 30_000;

/**
 * The agent process that outlives SSH links: it owns the drivers and one JobRegistry, and serves
 * each `serve --stdio` relay that connects to its unix socket as one protocol session. A session
 * that ends (the link dropped) leaves running jobs running; the next session sees them in
 * `job.list` and gets their updates. It ends once no session is connected and no job runs for
 * `lingerMs`.
 */
export async function startAgentDaemon(opts: AgentDaemonOptions): Promise<AgentDaemon> {
  const jobs = new JobRegistry();
  const consoles = new ConsoleRegistry();
  const bootId = `${process.pid}-${Date.now().toString(36)}`;
  const sessions = new Set<Socket>();
  let lingerTimer: NodeJS.Timeout | null = null;
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));

  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sessions.add(socket);
    stopLinger();
    // A relay that vanished resets the socket; serveAgent sees its input close.
    socket.on("error", (err) => opts.log("warn", `session ended: ${err.message}`));
    const backlog = setInterval(() => {
      if (socket.writableLength > MAX_BACKLOG_BYTES) {
        opts.log("warn", `session dropped: ${socket.writableLength} bytes unread by its relay`);
        socket.destroy();
      }
    }, 1_000).unref();
    void serveAgent({ input: socket, output: socket, drivers: opts.drivers, agentVersion: opts.agentVersion, jobs, consoles, bootId, pushDelayMs: opts.pushDelayMs }).then(() => {
      clearInterval(backlog);
      socket.end();
      sessions.delete(socket);
      lingerIfIdle();
    });
  });

  const stopLinger = () => {
    if (lingerTimer) clearTimeout(lingerTimer);
    lingerTimer = null;
  };
  const lingerIfIdle = (ms = opts.lingerMs) => {
    if (sessions.size || jobs.hasRunning() || lingerTimer) return;
    lingerTimer = setTimeout(() => close("idle"), ms);
  };
  const close = (why: string) => {
    stopLinger();
    opts.log("info", `agent daemon ${bootId} ends (${why})`);
    unsubscribe();
    for (const s of sessions) s.destroy();
    server.close(() => end());
  };
  const unsubscribe = jobs.subscribe((job) => {
    if (job.state !== "running") lingerIfIdle();
    else stopLinger();
  });

  await listen(server, opts.socketPath);
  opts.log("info", `agent daemon ${bootId} listening on ${opts.socketPath}`);
  // The relay that started it connects right after "ready": give it that moment, whatever lingerMs.
  lingerIfIdle(Math.max(opts.lingerMs, FIRST_SESSION_GRACE_MS));
  return { ended, bootId, close: () => close("closed") };
}

/** Listens on `path`; a socket file left by a daemon that died is replaced, a live one is not. */
async function listen(server: Server, path: string): Promise<void> {
  try {
    await listenOnce(server, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    if (await answers(path)) throw new DaemonAlreadyRunning(`an agent daemon already answers on ${path}`);
    await unlink(path).catch(() => undefined);
    await listenOnce(server, path);
  }
}

const listenOnce = (server: Server, path: string) =>
  new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });

/** Whether something accepts connections on the unix socket `path`. */
export const answers = (path: string) =>
  new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
