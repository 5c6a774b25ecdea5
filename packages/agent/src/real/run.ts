import { spawn } from "node:child_process";
import { AgentErrorCode } from "@nimbus/domain";
import { AgentError, cut } from "../errors.js";

/**
 * The only place the real drivers start processes. Principle 5: argument arrays only (no shell
 * ever sees a string), every run has a timeout and an output cap, and every failure is an
 * AgentError(toolFailed) naming the tool, its exit code and what it said on stderr.
 */

export interface RunOptions {
  timeoutMs?: number;
  /** stdout + stderr together; the child is killed when it writes more. */
  maxBytes?: number;
  env?: Record<string, string>;
  stdin?: string;
  /** Kills the child when aborted (the run rejects). */
  signal?: AbortSignal;
  /** Name for errors (default: the command); `prefixArgs` leading args are configuration, not the request. */
  label?: string;
  prefixArgs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const EXCERPT = 400;

/**
 * Tool output is parsed, so it must not be translated: LC_ALL=C keeps virsh, df and friends in
 * the words the parsers know.
 */
export const toolEnv = (extra?: Record<string, string>): NodeJS.ProcessEnv => ({ ...process.env, LC_ALL: "C", LANG: "C", ...extra });

export interface ToolFailure {
  tool: string;
  args: string[];
  exitCode: number | null;
  stderr: string;
  reason?: string;
}

/** The arguments an error names: the first few, each cut (a long id list or path is not the point). */
const argsExcerpt = (args: string[]) => [...args.slice(0, 12).map((a) => cut(a, 120)), ...(args.length > 12 ? [`… ${args.length - 12} more`] : [])];

export const toolFailed = (f: ToolFailure) => {
  const said = cut(f.stderr.trim().split("\n").slice(-3).join(" ").trim(), 300);
  const why = f.reason ?? (f.exitCode === null ? "was killed" : `exited with ${f.exitCode}`);
  const args = argsExcerpt(f.args);
  return new AgentError(AgentErrorCode.toolFailed, `${f.tool} ${args.slice(0, 3).join(" ")} ${why}${said ? `: ${said}` : ""}`, {
    tool: f.tool,
    args,
    exitCode: f.exitCode,
    stderr: f.stderr.slice(-EXCERPT),
  });
};

export function runTool(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const fail = (exitCode: number | null, stderr: string, reason?: string) =>
    toolFailed({ tool: opts.label ?? cmd, args: args.slice(opts.prefixArgs ?? 0), exitCode, stderr, reason });
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(fail(null, "", "was cancelled before it started"));
    const child = spawn(cmd, args, { env: toolEnv(opts.env), stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let bytes = 0;
    let failure: string | null = null;
    const kill = (reason: string) => {
      failure ??= reason;
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => kill(`timed out after ${timeoutMs} ms`), timeoutMs);
    const onAbort = () => kill("was cancelled");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) return kill(`wrote more than ${maxBytes} bytes`);
      into.push(chunk);
    };
    child.stdout.on("data", collect(out));
    child.stderr.on("data", collect(err));
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.stdin ?? "");
    const done = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
    };
    child.on("error", (e: NodeJS.ErrnoException) => {
      done();
      const where = cmd.includes("/") ? `${cmd} does not exist` : "not found on PATH, /usr/local/sbin, /usr/sbin or /sbin";
      const reason = e.code === "ENOENT" ? `is not installed (${where})` : `could not start (${e.message})`;
      reject(fail(null, "", reason));
    });
    child.on("close", (code) => {
      done();
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (failure !== null) return reject(fail(code, stderr, failure));
      if (code !== 0) return reject(fail(code, stderr));
      resolve({ stdout, stderr });
    });
  });
}
