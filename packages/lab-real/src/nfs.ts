import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KEEPALIVED_STATE_FILE } from "./agent.js";
import { nsenterArgs, type NodeExec } from "./exec.js";
import type { Layout } from "./layout.js";
import { startDaemon } from "./procs.js";
import { EXPORT_PATH, NFS_VIP, NFS_VRID, VRRP_CHECK_WEIGHT, VRRP_PRIORITY, type LabNode } from "./topology.js";
import { waitFor } from "./wait.js";

/**
 * The storage pair: nfs-ganesha (userspace NFS, VFS FSAL; there is no kernel nfsd here)
 * exporting /instance, rpcbind, and keepalived holding the VIP. Both servers export the same
 * directory, the way a clustered pair fronts one backend. keepalived checks that this node's
 * NFS server answers; when it stops, the priority drops below the peer's and the VIP moves.
 */

export function renderGaneshaConf(): string {
  return `# nfs-ganesha for the lab storage pair
NFS_CORE_PARAM {
  Protocols = 3, 4;
  # No lock manager: it would need rpc.statd, which the lab does not run.
  Enable_NLM = false;
  Enable_RQUOTA = false;
}
NFSV4 {
  Graceless = true;
}
EXPORT {
  Export_Id = 1;
  Path = ${EXPORT_PATH};
  Pseudo = ${EXPORT_PATH};
  Access_Type = RW;
  Squash = No_Root_Squash;
  SecType = sys;
  FSAL { Name = VFS; }
}
LOG {
  Default_Log_Level = EVENT;
}
`;
}

export function renderKeepalivedConf(node: LabNode): string {
  const priority = VRRP_PRIORITY[node.name];
  if (priority === undefined) throw new Error(`${node.name} has no VRRP priority`);
  const master = Math.max(...Object.values(VRRP_PRIORITY)) === priority;
  return `# keepalived for lab node ${node.name}
global_defs {
  router_id ${node.name}
  script_user root
  enable_script_security
}
vrrp_script chk_nfs {
  # A NULL call to this node's NFS server over TCP: fails as soon as ganesha stops answering.
  script "/usr/sbin/rpcinfo -T tcp 127.0.0.1 nfs 3"
  interval 1
  timeout 2
  fall 2
  rise 2
  weight ${VRRP_CHECK_WEIGHT}
}
vrrp_instance NFS {
  state ${master ? "MASTER" : "BACKUP"}
  interface eth0
  virtual_router_id ${NFS_VRID}
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${NFS_VIP}/24 dev eth0
  }
  track_script {
    chk_nfs
  }
  notify /etc/keepalived/notify.sh
}
`;
}

/** keepalived calls it with TYPE NAME STATE PRIORITY; the agent reads the state file. */
export const NOTIFY_SCRIPT = `#!/bin/sh
# keepalived runs scripts with umask 077; the agent (not root) must be able to read the state.
umask 022
echo "$3" > ${KEEPALIVED_STATE_FILE}
`;

export async function writeNfsConfig(node: LabNode, l: Layout): Promise<void> {
  const n = l.node(node.name);
  await mkdir(n.keepalived, { recursive: true });
  await mkdir(n.ganesha, { recursive: true });
  await mkdir(join(n.ganeshaState, "ganesha"), { recursive: true });
  await mkdir(l.instance, { recursive: true });
  await writeFile(join(n.ganesha, "ganesha.conf"), renderGaneshaConf());
  await writeFile(join(n.keepalived, "keepalived.conf"), renderKeepalivedConf(node));
  const notify = join(n.keepalived, "notify.sh");
  await writeFile(notify, NOTIFY_SCRIPT);
  await chmod(notify, 0o755);
}

const enter = (holderPid: number) => ["nsenter", ...nsenterArgs(holderPid)];

export async function startRpcbind(node: LabNode, l: Layout, holderPid: number, exec: NodeExec) {
  await startDaemon(l.pids, { id: `${node.name}.rpcbind`, argv: [...enter(holderPid), "/usr/sbin/rpcbind", "-f", "-w"], log: l.node(node.name).log("rpcbind") });
  await waitFor(`${node.name}'s rpcbind`, async () => (await exec("rpcinfo", ["-p", "127.0.0.1"], { check: false })).code === 0);
}

export async function startGanesha(node: LabNode, l: Layout, holderPid: number, exec: NodeExec) {
  const n = l.node(node.name);
  await startDaemon(l.pids, {
    id: `${node.name}.ganesha`,
    argv: [...enter(holderPid), "/usr/bin/ganesha.nfsd", "-F", "-f", "/etc/ganesha/ganesha.conf", "-L", n.log("ganesha"), "-p", "/run/ganesha/ganesha.pid"],
    log: n.log("ganesha.stdio"),
  });
  await waitFor(`${node.name}'s NFS server to answer`, async () => (await exec("rpcinfo", ["-T", "tcp", "127.0.0.1", "nfs", "3"], { check: false })).code === 0, {
    timeoutMs: 60_000,
  });
}

export async function startKeepalived(node: LabNode, l: Layout, holderPid: number) {
  await startDaemon(l.pids, {
    id: `${node.name}.keepalived`,
    argv: [
      ...enter(holderPid), "/usr/sbin/keepalived", "--dont-fork", "--log-console", "--vrrp",
      "-f", "/etc/keepalived/keepalived.conf", "-p", "/run/keepalived/keepalived.pid", "-r", "/run/keepalived/vrrp.pid",
    ],
    log: l.node(node.name).log("keepalived"),
  });
}

/** Which NFS node has the VIP on its eth0 right now (null: none). */
export async function vipHolder(execs: { node: LabNode; exec: NodeExec }[]): Promise<string | null> {
  for (const { node, exec } of execs) {
    const { stdout } = await exec("ip", ["-j", "addr", "show", "dev", "eth0"]);
    const addrs = (JSON.parse(stdout) as { addr_info?: { local: string }[] }[]).flatMap((i) => i.addr_info ?? []);
    if (addrs.some((a) => a.local === NFS_VIP)) return node.name;
  }
  return null;
}
