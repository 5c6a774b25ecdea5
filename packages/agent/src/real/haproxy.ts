import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import {
  AgentErrorCode,
  balancerStats,
  cutText,
  LbApplyParams,
  LbName,
  parseShowStat,
  renderHaproxyConfig,
  type LbApplyInput,
  type LbRuntime,
  type LbSection,
  type LbServerStat,
} from "@nimbus/domain";
import type { LbDriver } from "../drivers.js";
import { AgentError } from "../errors.js";
import { runTool } from "./run.js";
import { isExecutableFile, resolveExecutable } from "./which.js";

export interface HaproxyOptions {
  /** One directory per load balancer (haproxy.cfg, the candidate, stats socket, pid file): private to the agent's user. */
  dir: string;
  /** The haproxy executable (looked up on PATH, then the sbin directories). */
  haproxy?: string;
  /**
   * Arguments before haproxy's own, e.g. `["netns", "exec", "edge"]` with `haproxy: "ip"` to run it
   * in a network namespace (the stats socket and pid file stay in the shared file system).
   */
  prefixArgs?: string[];
  /** How often `show stat` is read for the `lb` section (only a change is pushed). */
  pollMs?: number;
  /** How long a reload or start may take until the stats socket answers. */
  readyTimeoutMs?: number;
}

const STAT_MAX_BYTES = 4 * 1024 * 1024;
const SOCKET_TIMEOUT_MS = 3_000;

/**
 * The HAProxy load balancers on this host, one master-worker HAProxy each. lb-apply runs as
 * write (render the candidate from validated values), validate (`haproxy -c -f`), reload (put
 * it in place, then SIGUSR2 to the master: new workers take the listening sockets over and the
 * old ones finish their connections; or start HAProxy when none runs) and verify (`show stat`).
 * A failed validate leaves the running configuration alone.
 */
export class RealHaproxyDriver implements LbDriver {
  private readonly pollMs: number;
  private readonly readyTimeoutMs: number;
  /** Status and first-seen change time per server, so `lastchg` re-read every poll does not move the time (and push). */
  private readonly seen = new Map<string, { status: string; at: string | null }>();

  constructor(private readonly opts: HaproxyOptions) {
    this.pollMs = opts.pollMs ?? 2_000;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  }

  private paths(name: string) {
    const dir = join(this.opts.dir, LbName.parse(name));
    return { dir, config: join(dir, "haproxy.cfg"), candidate: join(dir, "haproxy.cfg.next"), statsSocket: join(dir, "stats.sock"), pidFile: join(dir, "haproxy.pid") };
  }

  private haproxy() {
    return resolveExecutable(this.opts.haproxy ?? "haproxy", process.env.PATH);
  }

  private prefix() {
    return this.opts.prefixArgs ?? [];
  }

  async write(input: LbApplyInput) {
    const params = LbApplyParams.parse(input);
    const p = this.paths(params.name);
    const text = renderHaproxyConfig(params, p);
    await mkdir(p.dir, { recursive: true, mode: 0o700 });
    await writeFile(p.candidate, text, { mode: 0o600 });
    return { path: p.candidate, bytes: Buffer.byteLength(text), configHash: hash(text) };
  }

  async validate(name: string) {
    const p = this.paths(name);
    await this.need(p.candidate, `no candidate configuration for ${name}: write it first`);
    const { stdout, stderr } = await runTool(this.haproxy(), [...this.prefix(), "-c", "-f", p.candidate], { label: "haproxy", prefixArgs: this.prefix().length, timeoutMs: 15_000, maxBytes: 256 * 1024 });
    return { ok: true as const, output: cutText(`${stdout}${stderr}`.trim() || "Configuration file is valid") };
  }

  async reload(name: string) {
    const p = this.paths(name);
    await this.need(p.candidate, `no candidate configuration for ${name}: write and validate it first`);
    await rename(p.candidate, p.config);
    const master = await this.masterPid(name);
    if (master !== null) {
      process.kill(master, "SIGUSR2");
      await this.waitReady(name);
      return { pid: master, how: "reloaded" as const };
    }
    await rm(p.statsSocket, { force: true });
    // -W master-worker (also in the file), -D detaches once the workers run; the pid file names the master.
    await runTool(this.haproxy(), [...this.prefix(), "-W", "-D", "-f", p.config, "-p", p.pidFile], { label: "haproxy", prefixArgs: this.prefix().length, timeoutMs: 15_000, maxBytes: 256 * 1024 });
    await this.waitReady(name);
    const pid = await this.masterPid(name);
    if (pid === null) throw new AgentError(AgentErrorCode.toolFailed, `haproxy for ${name} started but its master is not running (see ${p.pidFile})`);
    return { pid, how: "started" as const };
  }

  async stat(name: string): Promise<LbRuntime> {
    const p = this.paths(name);
    const pid = await this.masterPid(name);
    const config = await readFile(p.config, "utf8").catch(() => null);
    const base = { name, pid, configHash: config === null ? null : hash(config) };
    if (pid === null) return { ...base, running: false, frontend: null, servers: [], error: config === null ? "not configured" : "HAProxy is not running" };
    try {
      const text = await socketCommand(p.statsSocket, "show stat");
      const { frontend, servers } = parseHaproxyStat(text, name, new Date());
      return { ...base, running: true, frontend, servers: servers.map((s) => this.steady(name, s)), error: null };
    } catch (err) {
      return { ...base, running: false, frontend: null, servers: [], error: cutText(err instanceof Error ? err.message : String(err)) };
    }
  }

  async remove(name: string) {
    const p = this.paths(name);
    const pid = await this.masterPid(name);
    if (pid !== null) {
      process.kill(pid, "SIGTERM");
      await waitFor(() => !alive(pid), 5_000);
    }
    await rm(p.dir, { recursive: true, force: true });
    for (const key of this.seen.keys()) if (key.startsWith(`${name}/`)) this.seen.delete(key);
  }

  async snapshot(): Promise<LbSection> {
    const names = (await readdir(this.opts.dir).catch(() => [] as string[])).filter((n) => LbName.safeParse(n).success).sort();
    const balancers = await Promise.all(names.map((n) => this.stat(n)));
    return { balancers: balancers.filter((b) => b.configHash !== null || b.running) };
  }

  watch(onChange: () => void): () => void {
    const t = setInterval(onChange, this.pollMs);
    t.unref();
    return () => clearInterval(t);
  }

  /** The master's pid when it runs (the pid file may outlive it). */
  private async masterPid(name: string): Promise<number | null> {
    const text = await readFile(this.paths(name).pidFile, "utf8").catch(() => "");
    const pid = Number(text.trim().split("\n")[0]);
    return Number.isInteger(pid) && pid > 1 && alive(pid) ? pid : null;
  }

  private async waitReady(name: string) {
    const p = this.paths(name);
    const ok = await waitFor(async () => socketCommand(p.statsSocket, "show stat").then(() => true, () => false), this.readyTimeoutMs);
    if (!ok) throw new AgentError(AgentErrorCode.toolFailed, `haproxy for ${name}: the stats socket did not answer within ${this.readyTimeoutMs} ms`);
  }

  private steady(lb: string, s: LbServerStat): LbServerStat {
    const key = `${lb}/${s.name}`;
    const prev = this.seen.get(key);
    if (prev && prev.status === s.status) return { ...s, lastChangeAt: prev.at };
    this.seen.set(key, { status: s.status, at: s.lastChangeAt });
    return s;
  }

  private async need(path: string, message: string) {
    if ((await readFile(path).catch(() => null)) === null) throw new AgentError(AgentErrorCode.notFound, message);
  }
}

/** `show stat` for one load balancer; output that is not show stat is the typed unparseable error (see the parser fuzz suite). */
export function parseHaproxyStat(text: string, lb: string, now: Date) {
  try {
    return balancerStats(parseShowStat(text), lb, now);
  } catch (err) {
    throw new AgentError(AgentErrorCode.unparseable, cutText(`haproxy show stat: ${err instanceof Error ? err.message : String(err)}`, 300), { excerpt: cutText(text, 200) });
  }
}

const hash = (text: string) => createHash("sha256").update(text).digest("hex");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function waitFor(test: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await test()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One command on an HAProxy stats socket: HAProxy answers and closes (non-interactive mode). Bounded in time and size. */
export function socketCommand(path: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const chunks: Buffer[] = [];
    let bytes = 0;
    const fail = (message: string) => {
      socket.destroy();
      reject(new AgentError(AgentErrorCode.toolFailed, `haproxy stats socket ${path}: ${message}`));
    };
    socket.setTimeout(SOCKET_TIMEOUT_MS, () => fail(`no answer within ${SOCKET_TIMEOUT_MS} ms`));
    socket.on("connect", () => socket.write(`${command}\n`));
    socket.on("data", (d: Buffer) => {
      bytes += d.length;
      if (bytes > STAT_MAX_BYTES) return fail(`answer over ${STAT_MAX_BYTES} bytes`);
      chunks.push(d);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

/** Whether this host has HAProxy (on PATH or in an sbin directory): the `lb` section and methods exist only then. */
export function haproxyInstalled(path = "haproxy"): boolean {
  const exe = resolveExecutable(path, process.env.PATH);
  if (exe.includes("/")) return isExecutableFile(exe);
  return (process.env.PATH ?? "").split(":").some((d) => d && isExecutableFile(join(d, exe)));
}
