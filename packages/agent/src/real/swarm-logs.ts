import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { LOG_LIMITS, type LogLine, type LogsParams } from "@nimbus/domain";
import type { LogSink } from "../swarm-logs.js";
import { toolEnv } from "./run.js";
import type { Tool } from "./tool.js";

/**
 * One line of `docker service logs --timestamps --no-task-ids SERVICE`:
 *   2026-11-25T20:25:10.889576894Z pa-web.1@swarm-wrk1    | hello
 * (timestamp, then TASK@NODE padded, a bar and the container's own text). A line that does not
 * have that shape (docker's own notices) is kept whole as text.
 */
const LOG_LINE = /^(?:(\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d))\s+)?([A-Za-z0-9][A-Za-z0-9_.-]*)@([A-Za-z0-9][A-Za-z0-9_.-]*)\s+\|\s?(.*)$/s;

export function parseServiceLogLine(raw: string): LogLine {
  const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
  const m = LOG_LINE.exec(line);
  if (!m) return { at: null, task: null, node: null, text: line };
  return { at: m[1] ?? null, task: m[2]!, node: m[3]!, text: m[4]! };
}

/** The argument list; the service name is validated (ServiceName) and placed after `--`. */
export const serviceLogsArgs = (p: Pick<LogsParams, "service" | "tail" | "follow">) => [
  "service",
  "logs",
  ...(p.follow ? ["--follow"] : []),
  "--tail",
  String(Math.min(Math.max(1, p.tail), LOG_LIMITS.maxTail)),
  "--timestamps",
  "--no-task-ids",
  "--no-trunc",
  "--",
  p.service,
];

/** Longest line read from docker; longer ones are cut by the sink, this only stops a runaway buffer. */
const MAX_READ_LINE = 64 * 1024;

/**
 * Streams `docker service logs` into the sink until docker exits (end of tail without follow, the
 * service removed) or the stream is stopped. docker's stderr tail is the end's error when it
 * exits non-zero ("no such service", a log driver that cannot be read).
 */
export function startServiceLogs(docker: Tool, p: LogsParams, sink: LogSink): () => void {
  const { cmd, args, env } = docker.command(serviceLogsArgs(p));
  let stopped = false;
  let stderrTail = "";
  const proc = spawn(cmd, args, { env: toolEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  // docker service logs writes the containers' stderr to its own stderr: both are the service's lines.
  const onLine = (line: string) => {
    if (!stopped) sink.line(parseServiceLogLine(line.length > MAX_READ_LINE ? line.slice(0, MAX_READ_LINE) : line));
  };
  createInterface({ input: proc.stdout!, crlfDelay: Infinity }).on("line", onLine);
  createInterface({ input: proc.stderr!, crlfDelay: Infinity }).on("line", (line) => {
    stderrTail = (stderrTail + "\n" + line).slice(-400);
    // A line with the TASK@NODE | prefix is a container's stderr; anything else is docker talking.
    if (parseServiceLogLine(line).task) onLine(line);
  });
  proc.on("error", (e) => {
    if (!stopped) sink.end(`could not start docker: ${e.message}`);
    stopped = true;
  });
  proc.on("close", (code, signal) => {
    if (stopped) return;
    stopped = true;
    const why = stderrTail
      .split("\n")
      .filter((l) => l.trim() && !parseServiceLogLine(l).task)
      .pop();
    sink.end(code === 0 ? null : `docker service logs ${p.service} ended (${signal ?? `exit ${code}`})${why ? `: ${why.trim()}` : ""}`);
  });
  return () => {
    if (stopped) return;
    stopped = true;
    proc.kill("SIGTERM");
  };
}
