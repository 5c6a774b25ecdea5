import { mkdir, writeFile } from "node:fs/promises";
import type { Layout } from "./layout.js";
import { EXPORT_PATH, NFS_VIP, type LabNode } from "./topology.js";

/**
 * A lab node starts without an agent, like a fresh host: the server uploads its bundled agent
 * over SFTP into the nimbus user's home (fleet config `agent: { install: "upload" }`). The lab
 * only writes the agent's config at the default path /etc/nimbus/agent.json inside the node,
 * which the uploaded agent reads.
 */

export const KEEPALIVED_STATE_FILE = "/run/keepalived/state";

/** The agent config for one node (schema: AgentConfig in packages/agent/src/real/config.ts). */
export function renderAgentConfig(node: LabNode): Record<string, unknown> {
  const base = {
    hostname: node.name,
    // bridge, showmount and rpcinfo live in /usr/sbin, off a non-root SSH session's PATH: left
    // at their defaults on purpose, so the agent's own /usr/sbin fallback is what finds them.
    tools: {
      // As a non-root user virsh defaults to qemu:///session; the VMs are in the system instance.
      virsh: { path: "virsh", args: ["-c", "qemu:///system"] },
      // Debian's 20.10 CLI; a newer one elsewhere on PATH may not match the daemon.
      docker: { path: "/usr/bin/docker" },
    },
  };
  switch (node.role) {
    case "hypervisor":
      return {
        ...base,
        capabilities: ["virt", "net", "storage"],
        // The disks live on /instance, shared by both hypervisors through a bind mount that
        // libvirt cannot recognise as shared storage (NFS client mounts do not work here).
        // New instances run a stock Debian kernel, which the nested KVM here cannot run (guest-image.md): TCG.
        virt: { allowUnsafeMigration: true, progressIntervalMs: 250, domainType: "qemu" },
        // ...but it is shared: both hypervisors see the same files, so Nimbus's preflight may
        // treat it as the datastore it stands for.
        storage: { sharedMounts: [EXPORT_PATH] },
      };
    case "swarm-manager":
    case "swarm-worker":
      return { ...base, capabilities: ["swarm", "net"], swarm: { scalePollMs: 500 } };
    case "nfs":
      return {
        ...base,
        capabilities: ["storage", "net"],
        storage: {
          nfsHost: "127.0.0.1",
          exports: [{ path: EXPORT_PATH, localPath: EXPORT_PATH }],
          vip: NFS_VIP,
          keepalivedStateFile: KEEPALIVED_STATE_FILE,
          pollIntervalMs: 2000,
        },
      };
  }
}

export async function writeAgentConfig(node: LabNode, l: Layout): Promise<void> {
  const n = l.node(node.name);
  await mkdir(n.etcNimbus, { recursive: true });
  await writeFile(n.agentConfig, JSON.stringify(renderAgentConfig(node), null, 2) + "\n");
}
