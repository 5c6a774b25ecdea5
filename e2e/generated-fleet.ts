import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A second Nimbus for the specs that need a large fleet: a generated lab (`lab serve --hosts N
 * --vms-per-host M`, its own process, as `pnpm bench` runs it) and the production server (the
 * built web app) pointed at it on a free port. Started by the spec that needs it and stopped when
 * it is done, so the rest of the suite neither waits for it nor shares the CPU with it.
 */
export interface GeneratedFleet {
  url: string;
  /** Milliseconds from spawning the lab to every host connected with its inventory. */
  readyMs: number;
  /** CPU seconds (user + system) the lab and the server have used so far, each with what it started. */
  cpuSeconds(): { lab: number; server: number };
  stop(): Promise<void>;
}

const root = fileURLToPath(new URL("..", import.meta.url));

interface Child {
  proc: ChildProcess;
  output: () => string;
  /** Resolves with the first match of `re` in the output; rejects if the process exits first. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
}

function start(name: string, args: string[], env: Record<string, string>): Child {
  // Its own process group: stopping it also stops what it started.
  const proc = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    // Bounded: the tail is what a failure report needs.
    out = (out + d.toString()).slice(-20_000);
    for (const w of waiters) w();
  };
  proc.stdout!.on("data", onData);
  proc.stderr!.on("data", onData);
  proc.once("exit", () => {
    for (const w of waiters) w();
  });
  return {
    proc,
    output: () => out,
    waitFor: (re, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re);
          if (m) return done(() => resolve(m));
          if (proc.exitCode !== null || proc.signalCode !== null) done(() => reject(new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before /${re.source}/:\n${out}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${name}: no /${re.source}/ within ${timeoutMs} ms:\n${out}`))), timeoutMs);
        const done = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      }),
  };
}

/** utime + stime + cutime + cstime of a live process, in seconds (Linux /proc; NaN elsewhere). */
function cpuOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return [11, 12, 13, 14].reduce((sum, k) => sum + Number(fields[k]), 0) / 100;
  } catch {
    return NaN;
  }
}

async function stopChild(c: Child) {
  const { proc } = c;
  if (proc.exitCode !== null || proc.signalCode !== null || !proc.pid) return;
  const exited = new Promise((r) => proc.once("exit", r));
  try {
    process.kill(-proc.pid, "SIGTERM");
  } catch {
    return; // already gone
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-proc.pid!, "SIGKILL");
    } catch {
      /* gone meanwhile */
    }
  }, 15_000);
  await exited;
  clearTimeout(timer);
}

export async function startGeneratedFleet(opts: { hosts: number; vmsPerHost: number; adminPassword: string; timeoutMs?: number }): Promise<GeneratedFleet> {
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const began = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "nimbus-e2e-fleet-"));
  const children: Child[] = [];
  const stop = async () => {
    for (const c of children.reverse()) await stopChild(c);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const lab = start("lab", ["packages/lab/src/cli.ts", "serve", "--hosts", String(opts.hosts), "--vms-per-host", String(opts.vmsPerHost), "--data", join(dir, "lab")], {});
    children.push(lab);
    const [fleetPath] = await lab.waitFor(/\S+fleet\.json/, timeoutMs);
    const server = start("server", ["apps/server/src/main.ts"], {
      NODE_ENV: "production",
      NIMBUS_CONFIG: fleetPath!,
      NIMBUS_DATA_DIR: join(dir, "server"),
      NIMBUS_PORT: "0",
      NIMBUS_ADMIN_PASSWORD: opts.adminPassword,
      NIMBUS_LOG_LEVEL: "warn",
      NIMBUS_SIGNIN_REQUESTS_PER_MINUTE: "1000",
    });
    children.push(server);
    const [, url] = await server.waitFor(/Nimbus is running: (http:\/\/\S+)/, timeoutMs - (Date.now() - began));
    // Every host connected with its inventory (what /healthz reports), as the bench waits for it.
    for (;;) {
      if (Date.now() - began > timeoutMs) throw new Error(`the generated fleet was not connected within ${timeoutMs} ms:\n${server.output()}`);
      const health = (await (await fetch(`${url}/healthz`)).json().catch(() => ({}))) as { hosts?: number; online?: number; fleetStartedAt?: number | null };
      if (health.fleetStartedAt && health.hosts && health.online === health.hosts) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return { url: url!, readyMs: Date.now() - began, cpuSeconds: () => ({ lab: cpuOf(lab.proc.pid), server: cpuOf(server.proc.pid) }), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
