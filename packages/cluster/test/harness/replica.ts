import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CpuBudget } from "./cpu-budget.js";
import { GiveUp, waitFor } from "./wait.js";

export const repoRoot = join(import.meta.dirname, "../../../..");

export interface ReplicaSpec {
  id: string;
  port: number;
  dataDir: string;
  env: Record<string, string>;
  /** Its own CPU budget (a cgroup), as if on its own machine (the replicas benchmark's --cpus-per-replica). */
  cpuBudget?: CpuBudget;
}

/**
 * One `apps/server` process in replica mode (node --import tsx, no wrapper process, so SIGKILL
 * reaches the server itself). Keeps the last 50 KB of its output for failure messages.
 */
export class ReplicaProcess {
  readonly id: string;
  readonly port: number;
  /** Direct address, bypassing HAProxy ("through replica A"). */
  readonly url: string;
  private child: ChildProcess | null = null;
  private log = "";
  private exited: Promise<void> = Promise.resolve();
  /** CPU seconds (user + system) the process had used when /healthz first answered 200: its boot (the benchmark subtracts it). */
  cpuAtReady: number | null = null;
  /** SSH handshakes that timed out, as the replica logged them (counted as output arrives, not from the kept tail). */
  handshakeTimeouts = 0;

  constructor(private readonly spec: ReplicaSpec) {
    this.id = spec.id;
    this.port = spec.port;
    this.url = `http://127.0.0.1:${spec.port}`;
  }

  /** The CPU budget it runs in, when it has one. */
  get cpuBudget(): CpuBudget | undefined {
    return this.spec.cpuBudget;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.log;
  }

  /** Starts the process (again, after a kill: same id, port and data directory). */
  start(): void {
    if (this.running) throw new Error(`replica ${this.id} is already running`);
    mkdirSync(this.spec.dataDir, { recursive: true });
    this.cpuAtReady = null;
    this.handshakeTimeouts = 0;
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: join(repoRoot, "apps/server"),
      env: { ...process.env, ...this.spec.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Before it has read its first module: its boot runs within the budget too.
    if (this.spec.cpuBudget && child.pid) this.spec.cpuBudget.add(child.pid);
    const keep = (d: Buffer) => {
      this.handshakeTimeouts += String(d).split("Timed out while waiting for handshake").length - 1;
      this.log = (this.log + d).slice(-50_000);
      if (process.env.NIMBUS_HARNESS_VERBOSE) process.stderr.write(`[${this.id}] ${d}`);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    this.exited = new Promise((r) => child.once("exit", () => r()));
    this.child = child;
  }

  /** Until /healthz answers 200 on the replica's own port (and, with `online`, every host is online in its view). */
  async ready(opts: { timeoutMs?: number; online?: boolean } = {}): Promise<void> {
    await waitFor(
      async () => {
        if (!this.running) throw new GiveUp(`replica ${this.id} exited:\n${this.log.slice(-4000)}`);
        const res = await fetch(`${this.url}/healthz`).catch(() => null);
        if (!res || res.status !== 200) return false;
        this.cpuAtReady ??= this.cpuSeconds();
        const h = (await res.json()) as { hosts: number; online: number };
        return !opts.online || (h.hosts > 0 && h.online === h.hosts);
      },
      { timeoutMs: opts.timeoutMs ?? 60_000, what: `replica ${this.id} ready`, everyMs: 100 },
    );
  }

  /** CPU seconds (user + system) used so far by the running process (Linux /proc), or null. */
  cpuSeconds(): number | null {
    if (!this.running || !this.pid) return null;
    try {
      const f = readFileSync(`/proc/${this.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      return null;
    }
  }

  /** SIGKILL: no shutdown code runs (leases are not released, operations not written). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill("SIGKILL");
    await this.exited;
  }

  /** SIGTERM: the orderly shutdown. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child!.kill("SIGTERM");
    const forced = setTimeout(() => this.child?.kill("SIGKILL"), 15_000);
    await this.exited;
    clearTimeout(forced);
  }
}
