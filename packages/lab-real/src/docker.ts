import { existsSync } from "node:fs";
import { copyFile, mkdir, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { nsenterArgs, run, type NodeExec } from "./exec.js";
import type { Layout } from "./layout.js";
import { startDaemon } from "./procs.js";
import { IMAGE, mgmtAddress, nsName, type LabNode, type LabService } from "./topology.js";
import { waitFor } from "./wait.js";

/**
 * One dockerd per swarm node (Debian's docker.io 20.10) inside the node's namespaces, so it
 * uses the standard socket /run/docker.sock of the node's private /run. Containers go in the
 * cgroup /nb-<node> so the lab can find (and clean up) exactly its own. There is no registry:
 * the image is imported from busybox-static on every node, services never resolve it.
 */

const DOCKER = "/usr/bin/docker";
export const dockerCgroupParent = (node: LabNode) => `/${nsName(node.name)}`;
export const docker = (exec: NodeExec, args: string[], timeoutMs = 60_000) => exec(DOCKER, args, { timeoutMs });

export async function startDockerd(node: LabNode, l: Layout, holderPid: number, exec: NodeExec) {
  const n = l.node(node.name);
  await mkdir(n.dockerRoot, { recursive: true });
  const rec = await startDaemon(l.pids, {
    id: `${node.name}.dockerd`,
    argv: [
      "nsenter", ...nsenterArgs(holderPid), "/usr/sbin/dockerd",
      "--data-root", n.dockerRoot,
      "--pidfile", "/run/docker.pid",
      "-H", "unix:///run/docker.sock",
      "--group", "docker",
      "--cgroup-parent", dockerCgroupParent(node),
    ],
    log: n.log("dockerd"),
  });
  await waitFor(`${node.name}'s dockerd`, async () => (await docker(exec, ["version", "--format", "{{.Server.Version}}"], 10_000).catch(() => null))?.code === 0, {
    timeoutMs: 60_000,
  });
  return rec;
}

/** A root filesystem of busybox-static and its applet links, tarred once per lab. */
export async function buildImageTar(l: Layout): Promise<string> {
  const rootfs = join(l.image, "rootfs");
  const tar = join(l.image, "rootfs.tar");
  if (existsSync(tar)) return tar;
  await rm(rootfs, { recursive: true, force: true });
  await mkdir(join(rootfs, "bin"), { recursive: true });
  await mkdir(join(rootfs, "tmp"), { recursive: true });
  await copyFile("/bin/busybox", join(rootfs, "bin", "busybox"));
  const { stdout } = await run("/bin/busybox", ["--list"]);
  // "busybox" itself is in the list: linking it would replace the binary with a loop.
  for (const applet of stdout.split("\n").filter((a) => a && a !== "busybox")) {
    await symlink("busybox", join(rootfs, "bin", applet));
  }
  await run("tar", ["-C", rootfs, "-cf", tar, "."]);
  return tar;
}

export async function importImage(exec: NodeExec, tar: string): Promise<void> {
  await docker(exec, ["import", "--change", 'CMD ["/bin/sh"]', "--change", "ENV PATH=/bin", tar, IMAGE]);
}

export async function initSwarm(manager: LabNode, exec: NodeExec): Promise<{ worker: string }> {
  const addr = mgmtAddress(manager);
  // A short heartbeat makes "node down" visible in seconds instead of the default ~15 s.
  await docker(exec, ["swarm", "init", "--advertise-addr", addr, "--listen-addr", `${addr}:2377`, "--dispatcher-heartbeat", "2s"]);
  const { stdout } = await docker(exec, ["swarm", "join-token", "-q", "worker"]);
  return { worker: stdout.trim() };
}

export async function joinSwarm(node: LabNode, exec: NodeExec, manager: LabNode, token: string): Promise<void> {
  const addr = mgmtAddress(node);
  await docker(exec, ["swarm", "join", "--token", token, "--advertise-addr", addr, "--listen-addr", `${addr}:2377`, `${mgmtAddress(manager)}:2377`]);
}

const STOP_GRACE = "2s";

/** `docker service create` arguments for a lab service. Pure. */
export function serviceCreateArgs(s: LabService): string[] {
  const args = [
    "service", "create", "--detach", "--name", s.name, "--replicas", String(s.replicas),
    "--no-resolve-image", "--endpoint-mode", "dnsrr", "--label", `nimbus.tenant=${s.tenant}`,
    // busybox as PID 1 ignores SIGTERM, so every stop (scale down, node down, lab down) would
    // wait docker's default 10 s before SIGKILL.
    "--stop-grace-period", STOP_GRACE,
  ];
  if (s.stack) args.push("--label", `com.docker.stack.namespace=${s.stack}`);
  if (s.port) args.push("--publish", `mode=host,target=${s.port},published=${s.port}`);
  return [...args, IMAGE, ...s.command];
}

export async function createService(exec: NodeExec, s: LabService): Promise<void> {
  await docker(exec, serviceCreateArgs(s));
}

/** Running tasks per service name, from the manager. */
export async function runningReplicas(exec: NodeExec): Promise<Map<string, { running: number; desired: number }>> {
  const { stdout } = await docker(exec, ["service", "ls", "--format", "{{.Name}} {{.Replicas}}"]);
  const out = new Map<string, { running: number; desired: number }>();
  for (const line of stdout.trim().split("\n").filter(Boolean)) {
    const [name, replicas] = line.split(" ");
    const m = /^(\d+)\/(\d+)/.exec(replicas ?? "");
    if (name && m) out.set(name, { running: Number(m[1]), desired: Number(m[2]) });
  }
  return out;
}

/**
 * Nodes the running tasks of one service are on, as the manager records them: tasks meant to
 * run whose current state is Running. Unlike `service ls`, which still counts a task on a node
 * that went down, this shows where the replicas were rescheduled to.
 */
export async function runningTaskNodes(exec: NodeExec, service: string): Promise<string[]> {
  const { stdout } = await docker(exec, ["service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}", service]);
  return stdout
    .trim()
    .split("\n")
    .map((line) => line.split(" "))
    .filter(([, state]) => state === "Running")
    .map(([node]) => node!);
}

export async function swarmNodeStates(exec: NodeExec): Promise<{ hostname: string; status: string; availability: string; manager: string }[]> {
  const { stdout } = await docker(exec, ["node", "ls", "--format", "{{json .}}"]);
  return stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { Hostname: string; Status: string; Availability: string; ManagerStatus: string })
    .map((n) => ({ hostname: n.Hostname, status: n.Status, availability: n.Availability, manager: n.ManagerStatus }));
}
