import { connect } from "node:net";
import { PORT_LIMITS, SWARM_PORTS, type NodePortReport } from "@nimbus/domain";
import { unparseable, quote } from "../errors.js";
import type { Log } from "./log.js";
import type { Tool } from "./tool.js";

/**
 * This node's checks of the ports a swarm needs (domain/swarm/ports.ts has the rule):
 * a TCP connect to each manager's 2377 and each peer's 7946, and the swarm UDP ports this node
 * listens on (`ss -Hlun`), which the server combines with the peers' TCP results.
 * Peers: the managers docker info names (RemoteManagers) and the ingress network's peers.
 */

const UDP_PORTS = [...new Set(SWARM_PORTS.filter((p) => p.proto === "udp").map((p) => p.port))];

/**
 * `ss -Hlun`: "UNCONN 0 0 0.0.0.0:4789 0.0.0.0:*" (state, queues, local, peer). The local
 * address is ADDR:PORT, [V6]:PORT or *:PORT, possibly with %IFACE. Returns the swarm UDP ports found.
 */
export function parseSsListeningUdp(text: string): number[] {
  const found = new Set<number>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const cols = line.trim().split(/\s+/);
    const local = cols[3];
    const m = local ? /:(\d{1,5})$/.exec(local) : null;
    if (cols.length < 5 || !m) throw unparseable("ss -Hlun", `line ${quote(line)} has no local ADDRESS:PORT`, text);
    const port = Number(m[1]);
    if (UDP_PORTS.includes(port)) found.add(port);
  }
  return [...found].sort((a, b) => a - b);
}

/** Peers to check from `docker info` (RemoteManagers "ip:2377") and the ingress network's peer IPs, without this node. */
export function portCheckTargets(self: string | null, managers: string[], gossipPeers: string[]): { address: string; port: number }[] {
  const hostOf = (addr: string) => addr.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
  const out = new Map<string, { address: string; port: number }>();
  for (const m of managers) {
    const address = hostOf(m);
    if (address !== self) out.set(`${address}:2377`, { address, port: 2377 });
  }
  for (const address of [...managers.map(hostOf), ...gossipPeers]) if (address !== self) out.set(`${address}:7946`, { address, port: 7946 });
  return [...out.values()].slice(0, PORT_LIMITS.peers);
}

/** A TCP connect with a timeout: null when it connected, else why not (refused, timed out, unreachable). */
export function tcpProbe(address: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port });
    const done = (why: string | null) => {
      sock.removeAllListeners();
      sock.on("error", () => {});
      sock.destroy();
      resolve(why);
    };
    sock.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    sock.once("connect", () => done(null));
    sock.once("error", (e: NodeJS.ErrnoException) => done(e.code === "ECONNREFUSED" ? "connection refused" : e.code === "EHOSTUNREACH" ? "host unreachable" : (e.code ?? e.message)));
  });
}

export async function checkPorts(
  targets: { address: string; port: number }[],
  ss: Tool,
  probe: (address: string, port: number) => Promise<string | null>,
): Promise<NodePortReport> {
  const [listeningUdp, reach] = await Promise.all([
    ss.run(["-Hlun"]).then(parseSsListeningUdp),
    Promise.all(targets.map(async (t) => {
      const error = await probe(t.address, t.port);
      return { ...t, ok: error === null, error };
    })),
  ]);
  return { listeningUdp, reach };
}

/**
 * Re-runs the checks every `everyMs` and calls `onChange` when the report differs; `current()`
 * is the last report (null before the first, or when the checks themselves failed: ss missing).
 */
export class PortChecker {
  private report: NodePortReport | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly targets: () => Promise<{ address: string; port: number }[]>,
    private readonly ss: Tool,
    private readonly log: Log,
    private readonly everyMs = 30_000,
    private readonly probe = (a: string, p: number) => tcpProbe(a, p, 2_000),
  ) {}

  current(): NodePortReport | null {
    return this.report;
  }

  start(onChange: () => void): () => void {
    const run = async () => {
      if (this.running) return;
      this.running = true;
      try {
        const next = await checkPorts(await this.targets(), this.ss, this.probe);
        if (JSON.stringify(next) !== JSON.stringify(this.report)) {
          this.report = next;
          onChange();
        }
      } catch (e) {
        this.log("warn", `swarm port checks: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        this.running = false;
      }
    };
    void run();
    this.timer = setInterval(() => void run(), this.everyMs);
    this.timer.unref();
    return () => {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    };
  }
}
