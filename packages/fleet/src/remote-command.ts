import type { Readable } from "node:stream";
import { SshFailure, type SshSession } from "./ssh/index.js";

export interface RemoteResult {
  /** Exit code, or null when the command ended by a signal or without a status. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a short command over an exec channel and collects its output (each stream capped), for
 * the server's own checks on a host. The command line is for constant commands and quoted paths
 * from the config schema only: never names from users. A command that outlives `timeoutMs` is
 * closed and reported as a timeout naming the host.
 */
export async function runRemote(session: SshSession, command: string, opts: { timeoutMs: number; maxBytes?: number }): Promise<RemoteResult> {
  const channel = await session.exec(command);
  channel.stdin.end();
  const maxBytes = opts.maxBytes ?? 64 * 1024;
  const stdout = collect(channel.stdout, maxBytes);
  const stderr = collect(channel.stderr, maxBytes);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), opts.timeoutMs)));
  const exit = await Promise.race([channel.exit, timedOut]);
  clearTimeout(timer);
  if (exit === "timeout") {
    channel.close();
    throw new SshFailure(session.host, "timeout", `"${command}" did not finish within ${opts.timeoutMs} ms`);
  }
  // The exit status can arrive before the last output: wait for the streams to end.
  const [out, err] = await Promise.all([stdout, stderr]);
  return { code: exit?.code ?? null, stdout: out, stderr: err };
}

function collect(stream: Readable, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on("data", (chunk: Buffer) => {
    if (size >= maxBytes) return;
    chunks.push(chunk.subarray(0, maxBytes - size));
    size += chunk.length;
  });
  return new Promise((resolve) => {
    const done = () => resolve(Buffer.concat(chunks).toString("utf8"));
    stream.once("end", done);
    stream.once("close", done);
  });
}
