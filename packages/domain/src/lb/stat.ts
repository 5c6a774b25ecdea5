import { cutText, LIMITS } from "../bounds.js";
import { LB_LIMITS, type LbRuntime, type LbServerStat } from "./spec.js";
import { backendName, frontendName } from "./config.js";

/** One line of `show stat`, by column name. */
export type StatRow = Readonly<Record<string, string>>;

/**
 * Parses `show stat` (CSV; the header line starts `# pxname,svname`). Columns are read by name,
 * never by position: HAProxy appends columns between versions. Refuses output without that
 * header (an error message from the socket, a truncated read); ignores lines with fewer fields
 * than names (the reader stopped mid-line) and keeps at most LB_LIMITS.statRows rows.
 */
export function parseShowStat(text: string): StatRow[] {
  const lines = text.split("\n");
  const headerAt = lines.findIndex((l) => l.startsWith("# pxname,svname"));
  if (headerAt < 0) throw new Error(`not show stat output: ${JSON.stringify(cutText(text.trim(), 120))}`);
  const names = lines[headerAt]!.slice(2).split(",");
  while (names.length && names[names.length - 1] === "") names.pop();
  const rows: StatRow[] = [];
  for (const line of lines.slice(headerAt + 1)) {
    if (!line.trim() || line.startsWith("#")) continue;
    const fields = line.split(",");
    if (fields.length < names.length) continue;
    const row: Record<string, string> = Object.create(null);
    names.forEach((n, i) => (row[n] = fields[i]!.slice(0, LIMITS.text)));
    rows.push(row);
    if (rows.length >= LB_LIMITS.statRows) break;
  }
  return rows;
}

const num = (s: string | undefined) => {
  const n = Number(s);
  return s && Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
};
const text = (s: string | undefined) => (s ? s : null);

export function serverState(status: string): LbServerStat["state"] {
  if (status.startsWith("no check")) return "up";
  const word = status.split(" ")[0];
  return word === "UP" ? "up" : word === "DOWN" ? "down" : word === "MAINT" ? "maint" : word === "DRAIN" || word === "NOLB" ? "drain" : "unknown";
}

/** The servers of one load balancer's backend, and its frontend, from `show stat` rows; `now` dates `lastchg`. */
export function balancerStats(rows: readonly StatRow[], lb: string, now: Date): Pick<LbRuntime, "frontend" | "servers"> {
  const fe = rows.find((r) => r.pxname === frontendName(lb) && r.svname === "FRONTEND");
  const servers = rows
    .filter((r) => r.pxname === backendName(lb) && r.svname !== "BACKEND" && r.svname !== "FRONTEND")
    .slice(0, LB_LIMITS.servers)
    .map((r): LbServerStat => {
      const status = r.status ?? "";
      const lastchg = r.lastchg ? Number(r.lastchg) : NaN;
      return {
        name: cutText(r.svname ?? "", LIMITS.name),
        address: text(r.addr)?.slice(0, LIMITS.name) ?? null,
        status: cutText(status, LIMITS.name),
        state: serverState(status),
        checkStatus: text(r.check_status)?.slice(0, LIMITS.name) ?? null,
        checkCode: text(r.check_code)?.slice(0, LIMITS.name) ?? null,
        checkDescription: text(r.check_desc) ? cutText(r.check_desc!) : null,
        lastChangeAt: Number.isFinite(lastchg) && lastchg >= 0 ? new Date(now.getTime() - lastchg * 1000).toISOString() : null,
        sessionsCurrent: num(r.scur),
        sessionsTotal: num(r.stot),
        selected: num(r.lbtot),
      };
    });
  return {
    frontend: fe ? { status: cutText(fe.status ?? "", LIMITS.name), sessionsCurrent: num(fe.scur), sessionsTotal: num(fe.stot) } : null,
    servers,
  };
}

/** Each server's share of the requests the balancer handed out (0 … 1), 0 for all when none yet. */
export function requestShares(servers: readonly Pick<LbServerStat, "name" | "selected">[]): Map<string, number> {
  const total = servers.reduce((n, s) => n + s.selected, 0);
  return new Map(servers.map((s) => [s.name, total ? s.selected / total : 0]));
}
