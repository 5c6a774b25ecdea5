import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { nsenterArgs, type NodeExec } from "./exec.js";
import type { Layout } from "./layout.js";
import { startDaemon } from "./procs.js";
import { mgmtAddress, type LabNode } from "./topology.js";
import { waitFor } from "./wait.js";

/**
 * One libvirtd per hypervisor node. Its config, run, state, log and cache directories are the
 * node's own (bind mounts in the node's mount namespace), it listens on TCP for migrations
 * from the other hypervisor, and QEMU runs without cgroups or a security driver (neither is
 * usable from inside a namespace here).
 */

export function renderLibvirtdConf(node: LabNode): string {
  return [
    `# libvirtd for lab node ${node.name}`,
    "listen_tls = 0",
    "listen_tcp = 1",
    `listen_addr = "${mgmtAddress(node)}"`,
    // Lab only: migration peers and the node's own agent connect without authentication.
    'auth_tcp = "none"',
    'auth_unix_rw = "none"',
    'auth_unix_ro = "none"',
    'unix_sock_group = "libvirt"',
    'unix_sock_rw_perms = "0770"',
    // Both libvirtds share one kernel; a distinct host UUID keeps migration from refusing "same host".
    `host_uuid = "${hostUuid(node)}"`,
    'log_outputs = "3:stderr"',
    "",
  ].join("\n");
}

export const hostUuid = (node: LabNode) => `6e696d62-7573-4c61-8200-0000000000${node.octet.toString(16).padStart(2, "0")}`;

export function renderQemuConf(node: LabNode): string {
  return [
    `# QEMU driver for lab node ${node.name}`,
    // Without virtlogd running, QEMU's output goes straight to a file.
    'stdio_handler = "file"',
    'security_driver = "none"',
    "cgroup_controllers = [ ]",
    // libvirt's per-VM mount namespace is not needed; the node already has its own.
    "namespaces = [ ]",
    'user = "root"',
    'group = "root"',
    `migration_address = "${mgmtAddress(node)}"`,
    `migration_host = "${mgmtAddress(node)}"`,
    "",
  ].join("\n");
}

export async function writeLibvirtConfig(node: LabNode, l: Layout): Promise<void> {
  const n = l.node(node.name);
  for (const sub of ["etc", "run", "lib", "log", "cache"] as const) await mkdir(n.libvirt(sub), { recursive: true });
  await writeFile(join(n.libvirt("etc"), "libvirtd.conf"), renderLibvirtdConf(node));
  await writeFile(join(n.libvirt("etc"), "qemu.conf"), renderQemuConf(node));
}

export const libvirtSocket = (node: LabNode, l: Layout) => join(l.node(node.name).libvirt("run"), "libvirt-sock");

export async function startLibvirtd(node: LabNode, l: Layout, holderPid: number) {
  const n = l.node(node.name);
  const rec = await startDaemon(l.pids, {
    id: `${node.name}.libvirtd`,
    argv: ["nsenter", ...nsenterArgs(holderPid), "/usr/sbin/libvirtd", "--listen"],
    log: n.log("libvirtd"),
  });
  await waitFor(`${node.name}'s libvirtd socket`, () => existsSync(libvirtSocket(node, l)), { timeoutMs: 20_000 });
  return rec;
}

export const virsh = (exec: NodeExec, args: string[], timeoutMs = 60_000) => exec("virsh", ["-c", "qemu:///system", ...args], { timeoutMs });

/** The first call probes QEMU's capabilities (seconds); later calls use the cache. */
export const waitForLibvirt = (node: LabNode, exec: NodeExec) =>
  waitFor(`${node.name}'s libvirtd to answer`, async () => (await virsh(exec, ["version"], 60_000)).code === 0, { timeoutMs: 90_000 });
