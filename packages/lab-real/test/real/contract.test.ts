import { describeDriverContract, type ContractDrivers } from "@nimbus/agent/contract";
import { createRealDrivers, parseAgentConfig } from "@nimbus/agent/real";
import { KEEPALIVED_STATE_FILE, renderAgentConfig } from "../../src/agent.js";
import { docker } from "../../src/docker.js";
import { nsenterArgs } from "../../src/exec.js";
import { holderPid } from "../../src/holder.js";
import { virsh } from "../../src/libvirt.js";
import { mgmtAddress, nodeByName, swarmManager } from "../../src/topology.js";
import { domainState, ensureVmOn, openLab } from "./helpers.js";

/**
 * The agent's driver contract, run against the real drivers and the real daemons of the lab.
 * The drivers run in this process with the node's own agent config; every tool they call is
 * entered into the node's namespaces first (nsenter), so virsh, ovs-vsctl, docker, showmount
 * and friends talk to that node's daemons exactly as the agent on the node does.
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

async function realDrivers(node: string, cleanup: () => Promise<void> = async () => undefined): Promise<ContractDrivers> {
  const lab = await openLab();
  // The migration cases start from kvm1; an earlier suite may have left the VM elsewhere.
  if (node === "kvm1") await ensureVmOn(lab, "acme-web1", "kvm1", "kvm2");
  const holder = await holderPid(lab.layout, node);
  const cfg = parseAgentConfig(configInsideNode(node, holder), `lab node ${node}`);
  const drivers = await createRealDrivers(cfg, () => undefined);
  return { ...drivers, cleanup };
}

const kvm2Uri = `qemu+tcp://${mgmtAddress(nodeByName("kvm2"))}/system`;

describeDriverContract(
  "real kvm1 (libvirt + OVS)",
  () =>
    realDrivers("kvm1", async () => {
      const lab = await openLab();
      await ensureVmOn(lab, "acme-web1", "kvm1", "kvm2");
      if ((await domainState(lab, "kvm1", "globex-db1")) !== "running") await virsh(await lab.exec("kvm1"), ["start", "globex-db1"]);
    }),
  {
    sections: ["virt", "net", "storage"],
    timeoutMs: 120_000,
    virt: {
      power: { domain: "globex-db1", stop: "destroy" },
      cancel: { domain: "acme-web1", destination: { host: "kvm2", uri: kvm2Uri }, options: { bandwidthMiBps: 1 } },
      // swarm1 runs no libvirtd: the connection is refused, as with a dead destination.
      failing: { domain: "acme-web1", destination: { host: "swarm1", uri: `qemu+tcp://${mgmtAddress(swarmManager())}/system` } },
      success: {
        domain: "acme-web1",
        destination: { host: "kvm2", uri: kvm2Uri },
        onDestination: async (domain) => (await domainState(await openLab(), "kvm2", domain)) === "running",
      },
    },
  },
);

describeDriverContract(
  "real swarm1 (docker swarm manager)",
  () =>
    realDrivers("swarm1", async () => {
      const lab = await openLab();
      await docker(await lab.exec("swarm1"), ["service", "scale", "--detach", "initech-worker=3"]);
    }),
  { sections: ["net", "swarm"], timeoutMs: 120_000, swarm: { scale: { service: "initech-worker", replicas: 4 } } },
);

describeDriverContract("real swarm2 (docker swarm worker)", () => realDrivers("swarm2"), { sections: ["net", "swarm"], timeoutMs: 60_000 });
describeDriverContract("real nfs1 (nfs-ganesha + keepalived)", () => realDrivers("nfs1"), { sections: ["net", "storage"], timeoutMs: 60_000 });
