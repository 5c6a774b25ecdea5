import { readdirSync, readFileSync, rmdirSync, existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { HOST_MOUNT_POINTS, type Layout } from "./layout.js";
import { deleteNamespace, listLabNamespaces } from "./netns.js";
import { findLabProcesses, isAlive, killProcesses, listRecords, netnsInode, processStartTime, stopDaemon, type DaemonRecord } from "./procs.js";
import { NS_PREFIX, hypervisors } from "./topology.js";

type Log = (line: string) => void;

/**
 * Stopping order: what accepts connections first, then what serves, then what the servers
 * depend on, holders last (their mount namespaces go away with them). Each tier stops in
 * parallel. Daemons are matched by the suffix of their record id (`<node>.<daemon>`).
 */
export const STOP_TIERS: readonly (readonly string[])[] = [
  ["fwd-", "ssh-relay"],
  ["keepalived", "ganesha", "dockerd", "libvirtd", "dnsmasq"],
  ["rpcbind", "ovs-vswitchd"],
  ["ovsdb-server", "sshd"],
  ["holder"],
];

const daemonName = (id: string) => id.slice(id.indexOf(".") + 1);
export const tierOf = (id: string): number => {
  const d = daemonName(id);
  const i = STOP_TIERS.findIndex((tier) => tier.some((t) => (t.endsWith("-") ? d.startsWith(t) : d === t)));
  return i === -1 ? STOP_TIERS.length - 2 : i;
};

export interface DownReport {
  stopped: string[];
  swept: number;
  namespaces: string[];
}

/** Removes everything `up` made. Safe to run at any time, also after a crash or a partial up. */
export async function down(l: Layout, log: Log): Promise<DownReport> {
  const report: DownReport = { stopped: [], swept: 0, namespaces: [] };
  await stopVms(l, log);
  const records = await listRecords(l.pids);
  for (let tier = 0; tier < STOP_TIERS.length; tier++) {
    const inTier = records.filter((r) => tierOf(r.id) === tier);
    await Promise.all(
      inTier.map(async (r) => {
        // dockerd stops its containers first; give it time before SIGKILL.
        const res = await stopDaemon(l.pids, r.id, r.id.endsWith(".dockerd") ? 20_000 : 10_000);
        if (res === "stopped") report.stopped.push(r.id);
      }),
    );
  }
  const namespaces = await listLabNamespaces();
  const inodes = new Set(namespaces.map((ns) => netnsInode(`/run/netns/${ns}`)).filter((i): i is number => i !== null));
  const leftovers = findLabProcesses(inodes, `:/${NS_PREFIX}`);
  if (leftovers.length) {
    log(`stopping ${leftovers.length} leftover process(es) in lab namespaces/cgroups: ${leftovers.map(describe).join(", ")}`);
    await killProcesses(leftovers);
    report.swept = leftovers.length;
  }
  for (const ns of namespaces) await deleteNamespace(ns);
  report.namespaces = namespaces;
  removeLabCgroups();
  for (const dir of HOST_MOUNT_POINTS) removeIfEmpty(dir);
  await rm(l.sockets, { recursive: true, force: true });
  // The lab is no longer up: nothing may mistake the last up's record for a running lab.
  await rm(l.state, { force: true });
  // Docker's data (image layers) is large and useless once its daemon is gone.
  for (const node of existsSync(l.nodesDir) ? readdirSync(l.nodesDir) : []) {
    await rm(join(l.nodesDir, node, "docker"), { recursive: true, force: true });
  }
  return report;
}

/** QEMU is double-forked by libvirtd: stop each VM by the pid file libvirt keeps under the lab dir. */
async function stopVms(l: Layout, log: Log): Promise<void> {
  const pids: number[] = [];
  for (const h of hypervisors()) {
    const dir = join(l.node(h.name).libvirt("run"), "qemu");
    if (!existsSync(dir)) continue;
    // driver.pid is libvirtd's own lock file, not a VM.
    for (const f of readdirSync(dir).filter((f) => f.endsWith(".pid") && f !== "driver.pid")) {
      const pid = Number(readFileSync(join(dir, f), "utf8").trim());
      if (Number.isInteger(pid) && processStartTime(pid)) pids.push(pid);
    }
  }
  if (pids.length) {
    log(`stopping ${pids.length} VM(s)`);
    await killProcesses(pids);
  }
}

const describe = (pid: number) => {
  try {
    return `${readFileSync(`/proc/${pid}/comm`, "utf8").trim()}(${pid})`;
  } catch {
    return String(pid);
  }
};

/** Empty cgroups the lab's dockerds created under /nb-<node> in every hierarchy. */
function removeLabCgroups(): void {
  const root = "/sys/fs/cgroup";
  if (!existsSync(root)) return;
  const hierarchies = readdirSync(root).map((h) => join(root, h));
  for (const h of [root, ...hierarchies]) {
    let entries: string[];
    try {
      entries = readdirSync(h);
    } catch {
      continue;
    }
    for (const e of entries.filter((e) => e.startsWith(NS_PREFIX))) removeTree(join(h, e));
  }
}

function removeTree(dir: string): void {
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(join(dir, e.name));
    rmdirSync(dir);
  } catch {
    // a cgroup still in use stays; the next down retries
  }
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // absent, or in use
  }
}

export const aliveRecords = async (l: Layout): Promise<DaemonRecord[]> => (await listRecords(l.pids)).filter(isAlive);
