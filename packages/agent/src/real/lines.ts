import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Log } from "./log.js";
import { toolEnv } from "./run.js";

export interface LineWatchOptions {
  /** For logs: what this watcher follows, e.g. "virsh event". */
  name: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  onLine(line: string): void;
  /** Called after a restart: the child may have missed changes while it was down. */
  onRestart?(): void;
  log: Log;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Lines longer than this are dropped: a watcher only needs to know that something happened. */
const MAX_LINE = 64 * 1024;
/** A child that lived this long was healthy; its next restart starts from the short backoff. */
const HEALTHY_MS = 10_000;

/**
 * Follows a long-running event tool (virsh event --loop, ip monitor, docker events) line by
 * line and restarts it with backoff when it dies, so a restarted daemon does not leave the agent
 * deaf. Returns a stop function that kills the child for good.
 */
export function watchLines(opts: LineWatchOptions): () => void {
  const minBackoff = opts.minBackoffMs ?? 500;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  let backoff = minBackoff;
  let stopped = false;
  let child: ReturnType<typeof spawn> | null = null;
  let retry: NodeJS.Timeout | null = null;

  const start = (isRestart: boolean) => {
    if (stopped) return;
    const startedAt = Date.now();
    const proc = spawn(opts.cmd, opts.args, { env: toolEnv(opts.env), stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    let stderrTail = "";
    proc.stderr!.on("data", (b: Buffer) => (stderrTail = (stderrTail + b.toString("utf8")).slice(-400)));
    const lines = createInterface({ input: proc.stdout!, crlfDelay: Infinity });
    lines.on("line", (line) => {
      if (!stopped && line.length <= MAX_LINE) opts.onLine(line);
    });
    proc.on("error", (e) => opts.log("warn", `${opts.name}: could not start ${opts.cmd}: ${e.message}`));
    proc.on("close", (code, signal) => {
      child = null;
      if (stopped) return;
      if (Date.now() - startedAt > HEALTHY_MS) backoff = minBackoff;
      opts.log("warn", `${opts.name} stopped (${signal ?? `exit ${code}`})${stderrTail ? `: ${stderrTail.trim()}` : ""}; restarting in ${backoff} ms`);
      retry = setTimeout(() => start(true), backoff);
      backoff = Math.min(backoff * 2, maxBackoff);
    });
    if (isRestart) opts.onRestart?.();
  };

  start(false);
  return () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    child?.kill("SIGTERM");
  };
}
