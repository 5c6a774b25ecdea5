import { mkdir } from "node:fs/promises";
import { readlinkSync } from "node:fs";
import { nodeExec, type NodeExec } from "./exec.js";
import type { Layout } from "./layout.js";
import { readRecord, startDaemon, isAlive } from "./procs.js";
import { EXPORT_PATH, nsName, type LabNode } from "./topology.js";
import { waitFor } from "./wait.js";
import { LabError } from "./errors.js";

/**
 * A node is a network namespace plus a mount and UTS namespace held open by one `sleep`
 * process (the holder). Every daemon of the node is started with nsenter into the holder, so
 * inside a node the standard paths are the node's own: /run is a private tmpfs, /sys shows the
 * node's interfaces, /etc/libvirt, /var/lib/libvirt, /etc/openvswitch, /etc/keepalived,
 * /etc/ganesha, /etc/nimbus and /home/nimbus are bind-mounted from the node's lab directory.
 * Tools (and the agent) inside a node therefore run with Debian's defaults.
 */

export interface BindMount {
  source: string;
  target: string;
}

/** What a node sees at the standard paths. Pure: the plan only. */
export function nodeMounts(node: LabNode, l: Layout): BindMount[] {
  const n = l.node(node.name);
  const common: BindMount[] = [
    { source: n.bin, target: "/usr/local/bin" },
    { source: n.home, target: "/home/nimbus" },
    { source: n.etcNimbus, target: "/etc/nimbus" },
  ];
  switch (node.role) {
    case "hypervisor":
      return [
        ...common,
        { source: n.libvirt("etc"), target: "/etc/libvirt" },
        { source: n.libvirt("run"), target: "/run/libvirt" },
        { source: n.libvirt("lib"), target: "/var/lib/libvirt" },
        { source: n.libvirt("log"), target: "/var/log/libvirt" },
        { source: n.libvirt("cache"), target: "/var/cache/libvirt" },
        { source: n.ovsEtc, target: "/etc/openvswitch" },
        { source: l.instance, target: EXPORT_PATH },
      ];
    case "nfs":
      return [
        ...common,
        { source: n.keepalived, target: "/etc/keepalived" },
        { source: n.ganesha, target: "/etc/ganesha" },
        { source: n.ganeshaState, target: "/var/lib/nfs" },
        { source: l.instance, target: EXPORT_PATH },
      ];
    case "swarm-manager":
    case "swarm-worker":
      return common;
  }
}

/** Directories created inside the node's private /run (a tmpfs). */
const RUN_DIRS = ["/run/sshd", "/run/openvswitch", "/run/libvirt", "/run/nimbus", "/run/keepalived", "/run/ganesha", "/run/rpcbind"];

export async function holderPid(l: Layout, node: string): Promise<number> {
  const rec = await readRecord(l.pids, `${node}.holder`);
  if (!rec || !isAlive(rec)) throw new LabError(`${node}: the node's namespace holder is not running (is the lab up?)`, { node });
  return rec.pid;
}

export async function execIn(l: Layout, node: string): Promise<NodeExec> {
  return nodeExec(node, await holderPid(l, node));
}

export async function startHolder(node: LabNode, l: Layout): Promise<NodeExec> {
  const n = l.node(node.name);
  const ownMnt = readlinkSync("/proc/self/ns/mnt");
  const rec = await startDaemon(l.pids, {
    id: `${node.name}.holder`,
    argv: ["nsenter", `--net=/run/netns/${nsName(node.name)}`, "unshare", "--uts", "--mount", "--propagation", "private", "sleep", "infinity"],
    log: n.log("holder"),
  });
  // nsenter and unshare exec in place; the pid is the holder's once its mount namespace is new.
  await waitFor(`${node.name}'s holder to enter its namespaces`, () => {
    try {
      return readlinkSync(`/proc/${rec.pid}/ns/mnt`) !== ownMnt && readlinkSync(`/proc/${rec.pid}/exe`).endsWith("/sleep");
    } catch {
      return false;
    }
  });
  const exec = nodeExec(node.name, rec.pid);
  await exec("hostname", [node.name]);
  await exec("mount", ["-t", "tmpfs", "-o", "mode=755", `nb-run-${node.name}`, "/run"]);
  // A fresh sysfs shows this namespace's interfaces (libvirt and the agent read /sys/class/net);
  // the host's cgroup mounts are carried over so dockerd and libvirtd still find them.
  await exec("mkdir", ["/run/nb-cgroup"]);
  await exec("mount", ["--rbind", "/sys/fs/cgroup", "/run/nb-cgroup"]);
  await exec("mount", ["-t", "sysfs", `nb-sys-${node.name}`, "/sys"]);
  await exec("mount", ["--move", "/run/nb-cgroup", "/sys/fs/cgroup"]);
  await exec("rmdir", ["/run/nb-cgroup"]);
  await exec("mkdir", ["-p", ...RUN_DIRS]);
  for (const m of nodeMounts(node, l)) {
    await mkdir(m.source, { recursive: true });
    await exec("mount", ["--bind", m.source, m.target]);
  }
  return exec;
}
