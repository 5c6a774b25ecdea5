import { readFile } from "node:fs/promises";
import type { Capability } from "@nimbus/domain";
import type { AgentConfig } from "./config.js";
import { parseNfsMounts, parseRpcinfo, NFS_PROGRAM } from "./parse/storage.js";
import { Tool } from "./tool.js";

export interface Tools {
  virsh: Tool;
  ip: Tool;
  bridge: Tool;
  ovsVsctl: Tool;
  ovsdbClient: Tool;
  docker: Tool;
  showmount: Tool;
  rpcinfo: Tool;
  df: Tool;
  qemuImg: Tool;
  virtBuilder: Tool;
}

export const toolsFrom = (cfg: AgentConfig): Tools => ({
  virsh: new Tool("virsh", cfg.tools.virsh),
  ip: new Tool("ip", cfg.tools.ip),
  bridge: new Tool("bridge", cfg.tools.bridge),
  ovsVsctl: new Tool("ovs-vsctl", cfg.tools.ovsVsctl),
  ovsdbClient: new Tool("ovsdb-client", cfg.tools.ovsdbClient),
  docker: new Tool("docker", cfg.tools.docker),
  showmount: new Tool("showmount", cfg.tools.showmount),
  rpcinfo: new Tool("rpcinfo", cfg.tools.rpcinfo),
  df: new Tool("df", cfg.tools.df),
  qemuImg: new Tool("qemu-img", cfg.tools.qemuImg),
  virtBuilder: new Tool("virt-builder", cfg.tools.virtBuilder),
});

export interface Probe {
  capabilities: Capability[];
  /** Open vSwitch answers (part of net). */
  ovs: boolean;
  /** ovsdb-client exists, so OVS changes can be pushed. */
  ovsdbClient: boolean;
  /** This host serves NFS (exports configured, or rpcbind lists nfs). */
  nfsServer: boolean;
  /** Why each capability is on or off, for `nimbus-agent probe`. */
  notes: Record<string, string>;
}

const answers = async (tool: Tool, args: string[], timeoutMs = 10_000) =>
  tool.run(args, { timeoutMs }).then(
    (out) => ({ ok: true as const, out }),
    (e: Error) => ({ ok: false as const, out: e.message }),
  );

/**
 * Which drivers this host gets. A tool being installed is not enough (lab hosts share one
 * filesystem, so every namespace "has" virsh): a capability is on when its daemon answers.
 * `capabilities` in the config overrides the result.
 */
export async function probe(cfg: AgentConfig, tools: Tools): Promise<Probe> {
  const [virsh, ip, ovs, ovsdb, docker, rpc, mounts] = await Promise.all([
    // The first call on a fresh libvirtd probes QEMU for several seconds.
    answers(tools.virsh, ["uri"], 30_000),
    answers(tools.ip, ["-j", "link", "show", "lo"]),
    answers(tools.ovsVsctl, ["--timeout=5", "get", "Open_vSwitch", ".", "_uuid"]),
    answers(tools.ovsdbClient, ["--version"]),
    answers(tools.docker, ["info", "--format", "{{.Swarm.LocalNodeState}}"]),
    answers(tools.rpcinfo, ["-p", cfg.storage.nfsHost]),
    readFile(`${cfg.node.procRoot}/mounts`, "utf8").then((t) => parseNfsMounts(t, cfg.storage.sharedMounts), () => []),
  ]);
  const nfsServer = cfg.storage.exports.length > 0 || (rpc.ok && parseRpcinfo(rpc.out).some((p) => p.program === NFS_PROGRAM));
  const swarm = docker.ok && docker.out.trim() === "active";
  const found: Record<Capability, boolean> = {
    virt: virsh.ok,
    net: ip.ok,
    swarm,
    storage: nfsServer || cfg.storage.vip !== undefined || mounts.length > 0,
  };
  const capabilities = cfg.capabilities ?? (Object.keys(found) as Capability[]).filter((c) => found[c]);
  return {
    capabilities,
    ovs: ovs.ok,
    ovsdbClient: ovsdb.ok,
    nfsServer,
    notes: {
      virt: virsh.ok ? `libvirt at ${virsh.out.trim()}` : `virsh: ${virsh.out}`,
      net: ip.ok ? "ip answers" : `ip: ${ip.out}`,
      ovs: ovs.ok ? "Open vSwitch answers" : `ovs-vsctl: ${ovs.out}`,
      swarm: docker.ok ? `docker swarm state: ${docker.out.trim()}` : `docker: ${docker.out}`,
      storage: nfsServer ? "NFS server" : mounts.length > 0 ? `${mounts.length} NFS mounts` : "no NFS server or mounts",
      ...(cfg.capabilities ? { override: `capabilities set by config: ${cfg.capabilities.join(", ")}` } : {}),
    },
  };
}
