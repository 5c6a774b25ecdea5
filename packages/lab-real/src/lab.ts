import { copyFile, readFile } from "node:fs/promises";
import { FleetConfig } from "@nimbus/domain";
import { startDockerd } from "./docker.js";
import { labEnv } from "./env.js";
import { LabError } from "./errors.js";
import type { NodeExec } from "./exec.js";
import { startForwarders } from "./forwarders.js";
import { execIn, holderPid } from "./holder.js";
import { layout, type Layout } from "./layout.js";
import { startLibvirtd, waitForLibvirt } from "./libvirt.js";
import { startGanesha, vipHolder } from "./nfs.js";
import { isAlive, listRecords, stopDaemon } from "./procs.js";
import { generateHostKey, startSshd } from "./sshd.js";
import { readState } from "./state.js";
import { nfsNodes, nodeByName, nodes } from "./topology.js";

/** Daemons a test may stop and start again to inject a failure. */
export type Restartable = "sshd" | "ssh-relay" | "libvirtd" | "dockerd" | "ganesha";

/**
 * The running real lab, for tests and tools: run commands inside a node, stop and restart one
 * daemon, change a host key. Opening it fails with a clear message when the lab is not up.
 */
export class RealLab {
  private constructor(
    readonly layout: Layout,
    readonly fleetConfig: FleetConfig,
  ) {}

  static async open(): Promise<RealLab> {
    const env = labEnv();
    const l = layout(env.labDir, env.repoRoot);
    const notUp = (why: string) =>
      new LabError(`the real lab is not up (${why}): run \`pnpm lab:real up\` as root first (lab dir ${l.labDir})`);
    if (process.getuid?.() !== 0) throw notUp("these tests need root");
    const state = await readState(l);
    if (!state?.finishedAt) throw notUp("no finished `up` recorded");
    const records = await listRecords(l.pids);
    const missing = nodes.filter((n) => !records.some((r) => r.id === `${n.name}.holder`));
    if (missing.length) throw notUp(`no namespace holder for ${missing.map((n) => n.name).join(", ")}`);
    const dead = records.filter((r) => !isAlive(r));
    if (dead.length) throw notUp(`not running: ${dead.map((r) => r.id).join(", ")}`);
    let config: FleetConfig;
    try {
      config = FleetConfig.parse(JSON.parse(await readFile(l.fleetConfig, "utf8")));
    } catch (e) {
      throw notUp(`fleet config ${l.fleetConfig} unreadable: ${(e as Error).message}`);
    }
    return new RealLab(l, config);
  }

  exec(node: string): Promise<NodeExec> {
    return execIn(this.layout, node);
  }

  async stop(node: string, daemon: Restartable): Promise<void> {
    await stopDaemon(this.layout.pids, `${node}.${daemon}`);
  }

  async start(node: string, daemon: Restartable): Promise<void> {
    const n = nodeByName(node);
    const holder = await holderPid(this.layout, node);
    const exec = await this.exec(node);
    switch (daemon) {
      case "sshd":
        await startSshd(n, this.layout, holder);
        return;
      case "ssh-relay":
        // The root-namespace forwarder is stateless; restart the pair together.
        await stopDaemon(this.layout.pids, `root.fwd-${node}`);
        await startForwarders(n, this.layout, holder);
        return;
      case "libvirtd":
        await startLibvirtd(n, this.layout, holder);
        await waitForLibvirt(n, exec);
        return;
      case "dockerd":
        await startDockerd(n, this.layout, holder, exec);
        return;
      case "ganesha":
        await startGanesha(n, this.layout, holder, exec);
        return;
    }
  }

  /** Replaces the node's host key (keeping the old one at `<key>.previous`); restart sshd to serve it. */
  async regenerateHostKey(node: string): Promise<void> {
    const key = this.layout.node(node).hostKey;
    await copyFile(key, `${key}.previous`);
    await copyFile(`${key}.pub`, `${key}.pub.previous`);
    await generateHostKey(key);
  }

  async restoreHostKey(node: string): Promise<void> {
    const key = this.layout.node(node).hostKey;
    await copyFile(`${key}.previous`, key);
    await copyFile(`${key}.pub.previous`, `${key}.pub`);
  }

  async vipHolder(): Promise<string | null> {
    const execs = await Promise.all(nfsNodes().map(async (node) => ({ node, exec: await this.exec(node.name) })));
    return vipHolder(execs);
  }

  async privateKey(): Promise<string> {
    return readFile(this.fleetConfig.ssh.privateKeyPath, "utf8");
  }
}
