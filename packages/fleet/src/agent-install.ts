import { NimbusError } from "@nimbus/domain";
import { pino, type Logger } from "pino";
import { loadAgentBundle, type AgentBundle } from "./agent-bundle.js";
import {
  DEFAULT_AGENT_DIR,
  agentFiles,
  describeFailure,
  minNodeMajor,
  nodeFound,
  nodeProblem,
  serveCommand,
  sha256sumOutput,
  shellQuote,
} from "./agent-install-rules.js";
import type { EnsureAgent } from "./agent-start.js";
import { HandshakeFailure } from "./connect-failure.js";
import { runRemote } from "./remote-command.js";
import { SftpError, SshFailure, type SftpSession, type SshSession } from "./ssh/index.js";

export interface AgentInstallerOptions {
  /** Where the built agent is (packages/agent/dist); read when the first host needs it. */
  bundleDir: string;
  /** Bounds each check run on the host (node --version, sha256sum). */
  commandTimeoutMs?: number;
  /** Bounds one upload of the bundle (under 1 MB; minutes only on a very slow link). */
  uploadTimeoutMs?: number;
  logger?: Logger;
}

/**
 * The fleet's ensureAgent hook for hosts whose config asks for `agent.install: "upload"`: checks
 * the host's Node.js, uploads the bundled agent over SFTP when the host's copy is missing or not
 * this build, and returns the command that runs it. Hosts without an `agent` setting (the
 * embedded lab) and `preinstalled` hosts get no install step.
 */
export function agentInstaller(opts: AgentInstallerOptions): EnsureAgent {
  const logger = opts.logger ?? pino({ level: "silent" });
  const timing = { commandTimeoutMs: opts.commandTimeoutMs ?? 30_000, uploadTimeoutMs: opts.uploadTimeoutMs ?? 5 * 60_000 };
  // Read once; a failed read (not built yet) is retried on the next attempt, after `pnpm build`.
  let bundle: Promise<AgentBundle> | null = null;
  const loadBundle = () =>
    (bundle ??= loadAgentBundle(opts.bundleDir).catch((err: unknown) => {
      bundle = null;
      throw err;
    }));

  return async (session, config) => {
    const agent = config.agent;
    if (!agent) return;
    if (agent.install === "preinstalled") return agent.path ? serveCommand(shellQuote(agent.path)) : undefined;
    const installed = await ensureUploaded(session, agent.path ?? DEFAULT_AGENT_DIR, await loadBundle(), timing, logger);
    return serveCommand(`node ${shellQuote(installed)}`);
  };
}

/** Returns the path of this build's agent on the host, uploading it first when needed. */
async function ensureUploaded(
  session: SshSession,
  dir: string,
  bundle: AgentBundle,
  timing: { commandTimeoutMs: number; uploadTimeoutMs: number },
  logger: Logger,
): Promise<string> {
  const host = session.host;
  const run = (command: string) => runRemote(session, command, { timeoutMs: timing.commandTimeoutMs });

  const problem = nodeProblem(host, nodeFound(await run("node --version")), minNodeMajor(bundle.node));
  if (problem) throw new HandshakeFailure({ state: "agent-missing", message: problem });

  const { file, part } = agentFiles(dir, bundle.version);
  const sha256Of = (path: string) => run(`sha256sum -- ${shellQuote(path)}`);
  if (sha256sumOutput(await sha256Of(file)) === bundle.sha256) return file;

  const started = Date.now();
  const sftp = await session.sftp();
  try {
    await makeDirs(sftp, host, dir);
    await withTimeout(sftp.writeFile(part, bundle.code, 0o644), timing.uploadTimeoutMs, () => {
      sftp.close();
      return new SshFailure(host, "timeout", `uploading the agent to ${part} took longer than ${timing.uploadTimeoutMs} ms`);
    });
    // Verified before it gets its final name: a file under that name is always a whole one.
    const check = await sha256Of(part);
    const written = sha256sumOutput(check);
    if (written !== bundle.sha256)
      throw new NimbusError("TOOL_FAILED", `${host}: the uploaded agent ${part} could not be verified: ${written ? `sha256 ${written}, expected ${bundle.sha256}` : describeFailure("sha256sum", check)}`, {
        host,
        tool: "sha256sum",
      });
    await sftp.rename(part, file);
  } finally {
    sftp.close();
  }
  logger.info({ host, version: bundle.version, bytes: bundle.code.length, ms: Date.now() - started, path: file }, "agent uploaded");
  return file;
}

/** mkdir -p over SFTP, private to the SSH user. */
async function makeDirs(sftp: SftpSession, host: string, dir: string): Promise<void> {
  const existing = await sftp.stat(dir);
  if (existing?.isDirectory) return;
  const parts = dir.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const path = parts.slice(0, i).join("/");
    if (!path) continue;
    const stat = await sftp.stat(path);
    if (!stat) await mkdirUnlessThere(sftp, path);
    else if (!stat.isDirectory) throw new NimbusError("PRECONDITION_FAILED", `${host}: ${path} is a file, not a directory for the agent`, { host, path });
  }
}

/**
 * Another server (or replica) installing on the same host may create the directory between our
 * stat and mkdir; SFTP then answers a bare FAILURE (OpenSSH maps EEXIST to no code of its own).
 * A directory there now is what we wanted.
 */
async function mkdirUnlessThere(sftp: SftpSession, path: string): Promise<void> {
  try {
    await sftp.mkdir(path, 0o700);
  } catch (err) {
    if (!(err instanceof SftpError)) throw err;
    if ((await sftp.stat(path))?.isDirectory) return;
    throw err;
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(onTimeout()), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
