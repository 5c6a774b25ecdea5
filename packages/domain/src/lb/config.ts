import { LbApplyParams, type LbApplyInput } from "./spec.js";

export interface HaproxyPaths {
  /** The master's stats socket (`show stat`, runtime commands). */
  statsSocket: string;
  pidFile: string;
}

const safePath = /^\/[A-Za-z0-9._/-]+$/;
export const frontendName = (lb: string) => `fe_${lb}`;
export const backendName = (lb: string) => `be_${lb}`;

/**
 * The whole haproxy.cfg of one load balancer. Every value was validated by `LbApplyParams`
 * (names, addresses, paths and numbers of known shapes only: no space, quote, '#' or newline can
 * reach a line), and the parse is repeated here so no caller can skip it.
 * Reloads keep connections: the master (`master-worker`) re-executes on SIGUSR2, the old workers
 * finish their sessions, and `expose-fd listeners` hands the listening sockets to the new ones.
 */
export function renderHaproxyConfig(input: LbApplyInput, paths: HaproxyPaths): string {
  const lb = LbApplyParams.parse(input);
  for (const p of [paths.statsSocket, paths.pidFile]) if (!safePath.test(p)) throw new Error(`unsafe path for haproxy.cfg: ${JSON.stringify(p)}`);
  const c = lb.check;
  const httpCheck = lb.mode === "http" && c.httpPath !== null;
  const serverLine = (s: (typeof lb.servers)[number]) =>
    `    server ${s.name} ${s.address}:${s.port} check inter ${c.interMs} rise ${c.rise} fall ${c.fall}${s.disabled ? " disabled" : ""}`;
  const lines = [
    `# Written by Nimbus for load balancer ${lb.name}: edits here are overwritten at the next apply.`,
    "global",
    "    master-worker",
    `    pidfile ${paths.pidFile}`,
    `    stats socket ${paths.statsSocket} mode 600 level admin expose-fd listeners`,
    "",
    "defaults",
    `    mode ${lb.mode}`,
    "    timeout connect 5s",
    "    timeout client 30s",
    "    timeout server 30s",
    `    timeout check ${c.timeoutMs}ms`,
    ...(lb.mode === "http" ? ["    option forwardfor"] : []),
    "",
    `frontend ${frontendName(lb.name)}`,
    `    bind ${lb.bind.address}:${lb.bind.port}`,
    `    default_backend ${backendName(lb.name)}`,
    "",
    `backend ${backendName(lb.name)}`,
    "    balance roundrobin",
    ...(httpCheck ? [`    option httpchk GET ${c.httpPath}`, `    http-check expect status ${c.expectStatus}`] : []),
    ...lb.servers.map(serverLine),
    "",
  ];
  const names = new Set<string>();
  for (const s of lb.servers) {
    if (names.has(s.name)) throw new Error(`two servers named ${s.name}`);
    names.add(s.name);
  }
  return lines.join("\n");
}
