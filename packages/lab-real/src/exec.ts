import { spawn } from "node:child_process";
import { LabError, excerpt } from "./errors.js";

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
  /** Return the result instead of throwing on a non-zero exit. */
  check?: boolean;
  /** Names the node in errors. */
  node?: string;
  env?: NodeJS.ProcessEnv;
}
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const OUTPUT_CAP = 4 * 1024 * 1024;

/** Environment for every tool and daemon: predictable, and nothing of the caller's leaks in. */
export const TOOL_ENV: NodeJS.ProcessEnv = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  LANG: "C.UTF-8",
  HOME: "/root",
};

/** Runs one tool with an argument array (never a shell string), a timeout and an output cap. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const argv = [cmd, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? TOOL_ENV, stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const cap = (acc: string, chunk: Buffer) => (acc.length < OUTPUT_CAP ? acc + chunk.toString("utf8") : acc);
    child.stdout!.on("data", (c: Buffer) => (stdout = cap(stdout, c)));
    child.stderr!.on("data", (c: Buffer) => (stderr = cap(stderr, c)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new LabError(`${where(opts)}cannot run ${cmd}: ${err.message}`, { node: opts.node, command: argv }));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (timedOut) {
        return reject(new LabError(`${where(opts)}${argv.join(" ")} timed out after ${timeoutMs} ms`, { node: opts.node, command: argv, output: excerpt(stderr + stdout) }));
      }
      if (code !== 0 && opts.check !== false) {
        return reject(
          new LabError(`${where(opts)}${argv.join(" ")} exited ${code}: ${excerpt(stderr || stdout)}`, {
            node: opts.node,
            command: argv,
            exitCode: code,
            output: excerpt(stderr + stdout),
          }),
        );
      }
      resolve({ code, stdout, stderr });
    });
    if (child.stdin) {
      // A tool that exits without reading its input must not crash the lab with EPIPE.
      child.stdin.on("error", () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

const where = (opts: RunOptions) => (opts.node ? `${opts.node}: ` : "");

/** Runs tools inside one node: its network, mount and UTS namespaces (held by its holder). */
export type NodeExec = (cmd: string, args: readonly string[], opts?: RunOptions) => Promise<RunResult>;

export const nsenterArgs = (holderPid: number) => ["-t", String(holderPid), "-n", "-m", "-u", "--"];

export function nodeExec(node: string, holderPid: number): NodeExec {
  return (cmd, args, opts = {}) => run("nsenter", [...nsenterArgs(holderPid), cmd, ...args], { node, ...opts });
}
