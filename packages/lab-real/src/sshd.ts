import { chown, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { run, nsenterArgs } from "./exec.js";
import type { Layout } from "./layout.js";
import { startDaemon } from "./procs.js";
import { SSH_USER, mgmtAddress, type LabNode } from "./topology.js";

/**
 * One OpenSSH server per node, listening on the node's management address. It runs inside
 * the node's namespaces, so an agent started over SSH sees the node's /run, sockets and
 * network. Host keys are per node (the fleet pins them); the client key is the lab's.
 */

export function renderSshdConfig(node: LabNode, hostKey: string): string {
  return [
    `# sshd for lab node ${node.name}; written by the real lab, rewritten at every up.`,
    "Port 22",
    `ListenAddress ${mgmtAddress(node)}`,
    `HostKey ${hostKey}`,
    "PidFile /run/sshd.pid",
    // PAM needs a login stack the lab does not configure; key auth alone is enough here.
    "UsePAM no",
    // The node's home is a bind mount owned by root's lab dir.
    "StrictModes no",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    `AllowUsers ${SSH_USER}`,
    "AuthorizedKeysFile .ssh/authorized_keys",
    "PrintMotd no",
    "PermitUserEnvironment no",
    "X11Forwarding no",
    // The fleet uploads the agent over SFTP when the node's copy is missing or stale.
    "Subsystem sftp internal-sftp",
    "LogLevel INFO",
    "",
  ].join("\n");
}

export async function ensureClientKey(l: Layout): Promise<string> {
  await mkdir(l.keys, { recursive: true, mode: 0o700 });
  if (!existsSync(l.clientKey)) {
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "nimbus-lab-real", "-f", l.clientKey]);
  }
  return readFile(`${l.clientKey}.pub`, "utf8");
}

export async function generateHostKey(hostKey: string): Promise<void> {
  await rm(hostKey, { force: true });
  await rm(`${hostKey}.pub`, { force: true });
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "nimbus-lab-host", "-f", hostKey]);
}

/** The account the fleet logs in as: unlocked (a locked one is refused even with a key). */
export async function ensureUser(): Promise<{ uid: number; gid: number }> {
  const exists = (await run("id", ["-u", SSH_USER], { check: false })).code === 0;
  if (!exists) {
    await run("useradd", ["--no-create-home", "--home-dir", `/home/${SSH_USER}`, "--shell", "/bin/sh", "--user-group", SSH_USER]);
  }
  await run("usermod", ["-p", "*", SSH_USER]);
  // docker and libvirt sockets are group-owned; these groups exist once the packages are in.
  for (const group of ["docker", "libvirt"]) {
    if ((await run("getent", ["group", group], { check: false })).code === 0) await run("usermod", ["-a", "-G", group, SSH_USER]);
  }
  await mkdir(`/home/${SSH_USER}`, { recursive: true });
  const uid = Number((await run("id", ["-u", SSH_USER])).stdout.trim());
  const gid = Number((await run("id", ["-g", SSH_USER])).stdout.trim());
  return { uid, gid };
}

export async function prepareSshd(node: LabNode, l: Layout, publicKey: string, owner: { uid: number; gid: number }) {
  const n = l.node(node.name);
  await mkdir(n.sshDir, { recursive: true });
  await generateHostKey(n.hostKey);
  await writeFile(n.sshdConfig, renderSshdConfig(node, n.hostKey));
  const sshDir = join(n.home, ".ssh");
  await mkdir(sshDir, { recursive: true });
  await writeFile(join(sshDir, "authorized_keys"), publicKey);
  for (const p of [n.home, sshDir, join(sshDir, "authorized_keys")]) await chown(p, owner.uid, owner.gid);
}

export async function startSshd(node: LabNode, l: Layout, holderPid: number) {
  const n = l.node(node.name);
  return startDaemon(l.pids, {
    id: `${node.name}.sshd`,
    argv: ["nsenter", ...nsenterArgs(holderPid), "/usr/sbin/sshd", "-D", "-e", "-f", n.sshdConfig],
    log: n.log("sshd"),
  });
}
