import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { AgentErrorCode } from "@nimbus/domain";
import type { ConsoleDriver, ConsoleStream } from "../console.js";
import { AgentError, cut } from "../errors.js";
import { classifyLibvirt, virshError } from "./parse/libvirt-errors.js";
import { parseDomstate } from "./parse/virsh.js";
import { toolEnv } from "./run.js";
import type { Tool } from "./tool.js";
import { requireDomainUuid } from "./virt-ids.js";

/**
 * The serial console on a real host: `virsh console --force UUID` under a pseudo-terminal.
 * virsh refuses to run its console without a TTY, and the agent has none (it runs on an SSH exec
 * channel's pipes), so util-linux `script` provides one: `script -qfec "<virsh ...>" /dev/null`.
 * This needs nothing from the domain XML beyond libvirt's default `<serial type='pty'>`, so
 * domains Nimbus did not create have a console too. `script -c` takes one shell string: every
 * word in it is single-quoted here, and the domain is named by its UUID, never by its name.
 * `--force` takes the console from a stale holder (a daemon that died); the agent itself holds
 * one attachment per domain and shares it between its sessions.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One word for `sh -c`: single-quoted, a quote inside closed, escaped and reopened. */
export const shellWord = (w: string) => `'${w.replaceAll("'", `'\\''`)}'`;

/** The argument array that runs `virsh … console --force -- UUID` under a pty. */
export function consoleArgv(virsh: { cmd: string; args: string[] }, uuid: string): { cmd: string; args: string[] } {
  if (!UUID.test(uuid)) throw new AgentError(AgentErrorCode.invalidParams, `not a domain UUID: ${cut(uuid, 64)}`);
  const line = [virsh.cmd, ...virsh.args, "console", "--force", "--", uuid].map(shellWord).join(" ");
  return { cmd: "script", args: ["-q", "-f", "-e", "-c", line, "/dev/null"] };
}

/** What virsh prints before the guest's first byte (and polkit's notice on hosts without it). */
const BANNER_END = /Escape character is \^\] \(Ctrl \+ \]\)\r?\n/;
const BANNER_MAX = 2048;

/**
 * virsh's own lines before the guest's output: held back until "Escape character is ^]" ends
 * them (or BANNER_MAX bytes came without it: then it was all guest output), so the browser shows
 * only the guest. What was held when the console ends unannounced is virsh's error.
 */
export class ConsoleBanner {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private passing = false;

  /** Guest bytes to forward, if any, for this chunk of output. */
  push(chunk: Buffer): Buffer | null {
    if (this.passing) return chunk;
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    const all = Buffer.concat(this.held);
    const text = all.toString("latin1");
    const m = BANNER_END.exec(text);
    if (m) {
      this.passing = true;
      this.held = [];
      const rest = all.subarray(m.index + m[0].length);
      return rest.length ? rest : null;
    }
    if (this.heldBytes > BANNER_MAX) {
      this.passing = true;
      this.held = [];
      return all;
    }
    return null;
  }

  /** The text virsh printed before it gave up (nothing once the guest was connected). */
  get unannounced(): string {
    return this.passing ? "" : Buffer.concat(this.held).toString("utf8");
  }

  get connected(): boolean {
    return this.passing;
  }
}

/** Why the console ended, in words: libvirt's error when virsh failed, else the way it ended. */
export function consoleEndReason(exitCode: number | null, said: string, closedByUs: boolean): string {
  if (closedByUs) return "closed";
  const text = said.replace(/\r/g, "");
  if (/error:/i.test(text)) {
    const f = classifyLibvirt(text);
    if (f.code === AgentErrorCode.notFound) return "the VM is no longer on this host";
    if (/not running/i.test(f.detail)) return "the VM stopped";
    return `the console ended: ${f.reason}`;
  }
  if (exitCode === 0) return "the console was disconnected (the VM stopped or another console took it over)";
  return exitCode === null ? "the console was killed" : `the console ended (virsh exited with ${exitCode})`;
}

export class RealConsoleDriver implements ConsoleDriver {
  constructor(
    private readonly host: string,
    private readonly virsh: Tool,
  ) {}

  async open(domain: string): Promise<ConsoleStream> {
    const what = `domain ${domain} on ${this.host}`;
    const uuid = await requireDomainUuid(this.virsh, domain, what);
    const state = await this.virsh.run(["domstate", "--reason", "--", uuid]).then(parseDomstate, (e) => {
      throw virshError(e, what);
    });
    if (state.state !== "running" && state.state !== "paused")
      throw new AgentError(AgentErrorCode.conflict, `${what} is ${state.state}: a stopped VM has no console; start it first`);
    const { cmd, args } = consoleArgv(this.virsh.command([]), uuid);
    return spawnConsole(cmd, args, this.virsh.command([]).env);
  }
}

/** The processes `pid` started (Linux: /proc/PID/task/PID/children); none when it cannot be read. */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const signal = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
};

/** Starts the console process; exported for tests that stand a script in for virsh. */
export function spawnConsole(cmd: string, args: string[], env: Record<string, string> = {}): ConsoleStream {
  const child: ChildProcess = spawn(cmd, args, { env: toolEnv(env), stdio: ["pipe", "pipe", "pipe"] });
  const banner = new ConsoleBanner();
  const dataListeners: ((b: Buffer) => void)[] = [];
  const closeListeners: ((reason: string) => void)[] = [];
  let stderr = "";
  let closedByUs = false;
  let ended = false;
  let killTimer: NodeJS.Timeout | null = null;
  const finish = (reason: string) => {
    if (ended) return;
    ended = true;
    if (killTimer) clearTimeout(killTimer);
    for (const l of closeListeners) l(reason);
  };
  child.stdout!.on("data", (chunk: Buffer) => {
    const out = banner.push(chunk);
    if (out) for (const l of dataListeners) l(out);
  });
  // script writes its own complaints here ("Session terminated"); only the tail is kept.
  child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-2000)));
  child.stdin!.on("error", () => undefined);
  child.on("error", (e: NodeJS.ErrnoException) =>
    finish(e.code === "ENOENT" ? "the console needs util-linux `script` on the host, and it is not installed" : `the console could not start (${cut(e.message, 200)})`),
  );
  child.on("close", (code) => finish(consoleEndReason(code, banner.unannounced || (banner.connected ? "" : stderr), closedByUs)));
  return {
    write: (data) => {
      if (!ended && child.stdin!.writable) child.stdin!.write(data);
    },
    close: () => {
      if (ended || closedByUs) return;
      closedByUs = true;
      // script answers SIGTERM only after a 2 s wait for its child: ending virsh itself is at once.
      const children = child.pid ? childPids(child.pid) : [];
      if (children.length) for (const pid of children) signal(pid, "SIGTERM");
      else child.kill("SIGTERM");
      killTimer = setTimeout(() => {
        for (const pid of children) signal(pid, "SIGKILL");
        child.kill("SIGKILL");
      }, 3_000);
      killTimer.unref();
    },
    onData: (l) => void dataListeners.push(l),
    onClose: (l) => void closeListeners.push(l),
  };
}
