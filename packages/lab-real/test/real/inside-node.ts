import { createRealDrivers, parseAgentConfig } from "@nimbus/agent/real";
import { KEEPALIVED_STATE_FILE, renderAgentConfig } from "../../src/agent.js";
import { nsenterArgs } from "../../src/exec.js";
import { holderPid } from "../../src/holder.js";
import type { RealLab } from "../../src/lab.js";
import { nodeByName } from "../../src/topology.js";

/**
 * The agent's real drivers run in the test process with a node's own agent config, every tool
 * they call entered into the node's namespaces first (nsenter): virsh, ovs-vsctl, docker,
 * showmount and friends talk to that node's daemons exactly as the agent on the node does.
 */

const TOOL_KEYS = ["virsh", "ip", "bridge", "ovsVsctl", "ovsdbClient", "docker", "showmount", "rpcinfo", "df"] as const;
const DEFAULT_PATHS: Record<(typeof TOOL_KEYS)[number], string> = {
  virsh: "virsh", ip: "ip", bridge: "bridge", ovsVsctl: "ovs-vsctl", ovsdbClient: "ovsdb-client",
  docker: "docker", showmount: "showmount", rpcinfo: "rpcinfo", df: "df",
};

type ToolCfg = { path?: string; args?: string[]; env?: Record<string, string> };

/** The node's agent config with every tool run inside the node. Pure. */
export function configInsideNode(node: string, holder: number): Record<string, unknown> {
  const cfg = renderAgentConfig(nodeByName(node)) as { tools?: Record<string, ToolCfg>; storage?: Record<string, unknown> };
  const tools: Record<string, ToolCfg> = {};
  for (const key of TOOL_KEYS) {
    const t = cfg.tools?.[key] ?? {};
    tools[key] = { path: "nsenter", args: [...nsenterArgs(holder), t.path ?? DEFAULT_PATHS[key], ...(t.args ?? [])], env: t.env ?? {} };
  }
  // The state file is in the node's private /run; /proc/PID/root shows the node's mount namespace.
  const storage = cfg.storage ? { ...cfg.storage, keepalivedStateFile: `/proc/${holder}/root${KEEPALIVED_STATE_FILE}` } : undefined;
  return { ...cfg, tools, ...(storage ? { storage } : {}) };
}

/** The real drivers of one lab node, run in this process (see above). */
export async function driversInsideNode(lab: RealLab, node: string, log: Parameters<typeof createRealDrivers>[1]) {
  const holder = await holderPid(lab.layout, node);
  return createRealDrivers(parseAgentConfig(configInsideNode(node, holder), `lab node ${node}`), log);
}
