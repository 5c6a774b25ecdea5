import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./wait.js";

export interface HaproxyBackend {
  id: string;
  port: number;
}

/**
 * haproxy.cfg for N replicas on loopback: round robin, a health check on the readiness endpoint
 * (/healthz answers 503 until the replica is wired), timeouts long enough for the live channel (SSE:
 * one response that stays open), and X-Forwarded-For so the replicas (NIMBUS_TRUSTED_PROXIES=127.0.0.1)
 * see the browser's address for sign-in limits. A replica that dies is marked down after two failed
 * checks 300 ms apart; a request that cannot connect to it is sent to another (redispatch). Live
 * streams through it end when its socket closes (the browser reconnects, through HAProxy, elsewhere).
 */
export function haproxyConfig(opts: { port: number; backends: readonly HaproxyBackend[] }): string {
  return [
    "global",
    "  maxconn 4096",
    "  log stdout format raw local0",
    "defaults",
    "  log global",
    "  mode http",
    "  option httplog",
    "  option forwardfor",
    "  option redispatch",
    "  retries 3",
    "  timeout connect 1s",
    "  timeout client 1h",
    "  timeout server 1h",
    "  timeout tunnel 1h",
    "  timeout http-keep-alive 10s",
    "  timeout queue 5s",
    "frontend nimbus",
    `  bind 127.0.0.1:${opts.port}`,
    "  default_backend replicas",
    "backend replicas",
    "  balance roundrobin",
    "  option httpchk",
    // A Host header: the server answers 421 to a request naming no host it serves.
    "  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1",
    "  http-check expect status 200",
    "  default-server inter 300ms fastinter 300ms downinter 500ms fall 2 rise 1",
    ...opts.backends.map((b) => `  server ${b.id} 127.0.0.1:${b.port} check`),
    "",
  ].join("\n");
}

export interface Haproxy {
  url: string;
  port: number;
  /** The last 20 KB of its log (one line per request: backend server, timings, status). */
  log(): string;
  stop(): Promise<void>;
}

/** A real HAProxy in the foreground (-db), killed with the harness. Waits until it accepts connections. */
export async function startHaproxy(opts: { dir: string; port: number; backends: readonly HaproxyBackend[] }): Promise<Haproxy> {
  const cfg = join(opts.dir, "haproxy.cfg");
  writeFileSync(cfg, haproxyConfig(opts));
  // -c first: a config error is reported as such, not as a proxy that never listens.
  await run("haproxy", ["-c", "-q", "-f", cfg]);
  let log = "";
  const child: ChildProcess = spawn("haproxy", ["-db", "-f", cfg], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d) => (log = (log + d).slice(-20_000)));
  child.stderr!.on("data", (d) => (log = (log + d).slice(-20_000)));
  const url = `http://127.0.0.1:${opts.port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}: ${log}`);
        return fetch(`${url}/healthz`).then(() => true, () => false);
      },
      { timeoutMs: 10_000, what: "haproxy listening" },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port: opts.port, log: () => log, stop };
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}: ${out}`))));
  });
}
