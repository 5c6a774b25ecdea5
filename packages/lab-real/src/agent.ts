import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Layout } from "./layout.js";
import { EXPORT_PATH, NFS_VIP, type LabNode } from "./topology.js";

/**
 * The agent on a lab node is the repository's own agent. `nimbus-agent` on the node's PATH
 * (its /usr/local/bin is the node's bin dir) runs the bundle when it is built, else the
 * TypeScript source through tsx. Its config sits at the default path /etc/nimbus/agent.json
 * inside the node, so an agent the fleet uploads over SFTP finds the same config.
 */

export const KEEPALIVED_STATE_FILE = "/run/keepalived/state";

/** The agent config for one node (schema: AgentConfig in packages/agent/src/real/config.ts). */
export function renderAgentConfig(node: LabNode): Record<string, unknown> {
  const base = {
    hostname: node.name,
    tools: {
      // As a non-root user virsh defaults to qemu:///session; the VMs are in the system instance.
      virsh: { path: "virsh", args: ["-c", "qemu:///system"] },
      // Debian's 20.10 CLI; a newer one elsewhere on PATH may not match the daemon.
      docker: { path: "/usr/bin/docker" },
      // In /usr/sbin on Debian, which is not on a non-root SSH session's PATH.
      bridge: { path: "/usr/sbin/bridge" },
      showmount: { path: "/usr/sbin/showmount" },
    },
  };
  switch (node.role) {
    case "hypervisor":
      return {
        ...base,
        capabilities: ["virt", "net", "storage"],
        // The disks live on /instance, shared by both hypervisors through a bind mount that
        // libvirt cannot recognise as shared storage (NFS client mounts do not work here).
        virt: { allowUnsafeMigration: true, progressIntervalMs: 250 },
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

export function renderAgentWrapper(node: LabNode, l: Layout): string {
  return [
    "#!/bin/sh",
    `# nimbus-agent on lab node ${node.name}: the repository's agent, config /etc/nimbus/agent.json.`,
    `if [ -f ${l.agentBundle} ]; then exec /usr/bin/node ${l.agentBundle} "$@"; fi`,
    `exec ${l.tsx} ${l.agentSource} "$@"`,
    "",
  ].join("\n");
}

export async function installAgent(node: LabNode, l: Layout): Promise<void> {
  const n = l.node(node.name);
  await mkdir(n.bin, { recursive: true });
  await mkdir(n.etcNimbus, { recursive: true });
  const wrapper = join(n.bin, "nimbus-agent");
  await writeFile(wrapper, renderAgentWrapper(node, l));
  await chmod(wrapper, 0o755);
  await writeFile(n.agentConfig, JSON.stringify(renderAgentConfig(node), null, 2) + "\n");
}
