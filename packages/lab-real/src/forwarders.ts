import { mkdir } from "node:fs/promises";
import { connect } from "node:net";
import { nsenterArgs } from "./exec.js";
import type { Layout } from "./layout.js";
import { startDaemon } from "./procs.js";
import { SSH_LOOPBACK, mgmtAddress, sshPort, type LabNode } from "./topology.js";
import { waitFor } from "./wait.js";

/**
 * The server (root namespace) reaches a node's sshd without the host's network being touched:
 * a relay inside the node's namespace listens on a Unix socket in the lab dir (Unix sockets are
 * not per network namespace) and connects to the node's sshd; a forwarder in the root
 * namespace listens on a loopback port and connects to that socket. Both are socat, started
 * and stopped by pid like every other lab daemon.
 */

export async function startForwarders(node: LabNode, l: Layout, holderPid: number): Promise<void> {
  const n = l.node(node.name);
  await mkdir(l.sockets, { recursive: true });
  await startDaemon(l.pids, {
    id: `${node.name}.ssh-relay`,
    argv: [
      "nsenter", ...nsenterArgs(holderPid),
      "socat", `UNIX-LISTEN:${n.sshRelaySocket},fork,unlink-early,mode=600`, `TCP:${mgmtAddress(node)}:22`,
    ],
    log: n.log("ssh-relay"),
  });
  await startDaemon(l.pids, {
    id: `root.fwd-${node.name}`,
    argv: ["socat", `TCP-LISTEN:${sshPort(node)},bind=${SSH_LOOPBACK},reuseaddr,fork`, `UNIX-CONNECT:${n.sshRelaySocket}`],
    log: n.log("forwarder"),
  });
}

/** Reads the SSH banner through forwarder, relay and sshd: proves the whole path answers. */
export function readSshBanner(port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: SSH_LOOPBACK, port });
    let data = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no SSH banner on ${SSH_LOOPBACK}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on("data", (c) => {
      data += c.toString("latin1");
      const line = data.split("\r\n")[0];
      if (data.includes("\r\n") && line) {
        clearTimeout(timer);
        sock.destroy();
        resolve(line);
      }
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      reject(new Error(`${SSH_LOOPBACK}:${port} closed before an SSH banner`));
    });
  });
}

export const waitForSsh = (node: LabNode, timeoutMs = 15_000) =>
  waitFor(`${node.name}'s sshd to answer on ${SSH_LOOPBACK}:${sshPort(node)}`, () => readSshBanner(sshPort(node)), { timeoutMs });
