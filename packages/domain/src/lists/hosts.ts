import { z } from "zod";
import type { HostSummary } from "../views.js";
import { MAX_PAGE, MAX_SEARCH, PageWindow, compareValues, pageOf, type Page } from "./page.js";

export const HOST_SORTS = ["name", "roles", "state", "cpu", "memory", "disk", "vms", "maintenance"] as const;
export type HostSort = (typeof HOST_SORTS)[number];

/** One page of the host list: free text (name, address, message), connection, role; a sort; a window. */
export const HostListQuery = z.object({
  q: z.string().max(MAX_SEARCH).default(""),
  state: z.enum(["", "online", "problem", "maintenance"]).default(""),
  role: z.enum(["", "hypervisor", "storage", "swarm"]).default(""),
  /** Only these hosts (a page asking which of the names it shows are hosts, e.g. health's "Affects"). */
  names: z.array(z.string().max(253)).max(MAX_PAGE).optional(),
  sort: z.enum(HOST_SORTS).default("name"),
  desc: z.boolean().default(false),
  ...PageWindow,
});
export type HostListQuery = z.input<typeof HostListQuery>;

/** Worst connection first when sorted ascending: problems lead, online trails. */
export const HOST_STATE_RANK: Record<HostSummary["state"], number> = {
  "key-changed": 0,
  unreachable: 1,
  "auth-failed": 2,
  "protocol-mismatch": 3,
  "agent-missing": 4,
  connecting: 5,
  online: 6,
};

const percent = (used: number | null, total: number | null) => (used === null || !total ? -1 : (100 * used) / total);
const hostSortValue: Record<HostSort, (h: HostSummary) => string | number> = {
  name: (h) => h.name,
  roles: (h) => h.roles.join(","),
  state: (h) => HOST_STATE_RANK[h.state],
  cpu: (h) => h.cpuUsagePct ?? -1,
  memory: (h) => percent(h.memoryUsedMiB, h.memoryTotalMiB),
  disk: (h) => percent(h.diskUsedBytes, h.diskTotalBytes),
  vms: (h) => h.vmsRunning,
  maintenance: (h) => (h.maintenance ? 1 : 0),
};

export function compareHosts(sort: HostSort, desc: boolean): (a: HostSummary, b: HostSummary) => number {
  const value = hostSortValue[sort];
  return (a, b) => {
    const c = compareValues(value(a), value(b));
    return c !== 0 ? (desc ? -c : c) : compareValues(a.name, b.name);
  };
}

/** Whether a host matches the filters (the one rule for the server's pages and the browser's pushed rows). */
export function matchesHost(h: HostSummary, f: { q?: string; state?: string; role?: string; names?: readonly string[] }): boolean {
  if (f.names && !f.names.includes(h.name)) return false;
  const q = (f.q ?? "").trim().toLowerCase();
  if (q && !h.name.toLowerCase().includes(q) && !h.address.includes(q) && !(h.message ?? "").toLowerCase().includes(q)) return false;
  if (f.role && !h.roles.includes(f.role as HostSummary["roles"][number])) return false;
  switch (f.state ?? "") {
    case "online":
      return h.state === "online";
    case "problem":
      return h.state !== "online" && h.state !== "connecting";
    case "maintenance":
      return h.maintenance;
    default:
      return true;
  }
}

/** Counts of the fleet for the toolbar, whatever the filter: how many hosts have a problem. */
export interface HostPage extends Page<HostSummary> {
  problems: number;
}

/**
 * One page of hosts from their summaries (2,000 hosts: one filter pass and one sort, a few ms;
 * summaries change with every CPU report, so there is no order worth keeping between queries).
 */
export function queryHosts(summaries: readonly HostSummary[], input: HostListQuery): HostPage {
  const q = HostListQuery.parse(input);
  const offset = q.offset;
  const keep = (h: HostSummary) => matchesHost(h, q);
  const ordered = [...summaries].sort(compareHosts(q.sort, q.desc));
  const { items, total } = pageOf(ordered, keep, offset, q.limit);
  const problems = summaries.filter((h) => matchesHost(h, { state: "problem" })).length;
  return { items, total, all: summaries.length, offset, limit: q.limit, problems };
}
