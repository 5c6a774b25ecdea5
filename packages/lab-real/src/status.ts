import { docker, swarmNodeStates } from "./docker.js";
import { nodeExec } from "./exec.js";
import type { Layout } from "./layout.js";
import { virsh } from "./libvirt.js";
import { listLabNamespaces } from "./netns.js";
import { vipHolder } from "./nfs.js";
import { isAlive, listRecords } from "./procs.js";
import { readState } from "./state.js";
import { hypervisors, nfsNodes, nodes, sshPort, swarmManager, SSH_LOOPBACK } from "./topology.js";

/** Renders rows as an aligned text table. Pure. */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export interface LabStatus {
  up: boolean;
  text: string;
}

/** What runs: every recorded daemon with its pid, the namespaces, VMs, VIP holder and swarm. */
export async function status(l: Layout): Promise<LabStatus> {
  const records = await listRecords(l.pids);
  const namespaces = await listLabNamespaces();
  const state = await readState(l);
  const out: string[] = [];
  const byNode = (node: string) => records.filter((r) => r.id.startsWith(`${node}.`) || r.id === `root.fwd-${node}`);
  const rows = nodes.map((n) => {
    const recs = byNode(n.name);
    const daemons = recs.map((r) => `${r.id.slice(r.id.indexOf(".") + 1)}:${r.pid}${isAlive(r) ? "" : "(dead)"}`).join(" ");
    return [n.name, namespaces.includes(`nb-${n.name}`) ? "yes" : "no", `${SSH_LOOPBACK}:${sshPort(n)}`, daemons || "-"];
  });
  out.push(renderTable(["node", "netns", "ssh", "daemons (name:pid)"], rows));
  out.push("", `namespaces: ${namespaces.join(" ") || "none"}`);
  const alive = records.filter(isAlive);
  const dead = records.filter((r) => !isAlive(r));
  const holders = new Map(alive.filter((r) => r.id.endsWith(".holder")).map((r) => [r.id.split(".")[0]!, r.pid]));
  const execFor = (name: string) => (holders.has(name) ? nodeExec(name, holders.get(name)!) : null);

  const vmRows: string[][] = [];
  for (const h of hypervisors()) {
    const exec = execFor(h.name);
    const res = exec ? await virsh(exec, ["list", "--all", "--name"], 10_000).catch(() => null) : null;
    vmRows.push([h.name, res?.code === 0 ? res.stdout.trim().split("\n").filter(Boolean).join(" ") || "(none)" : "libvirtd unreachable"]);
  }
  out.push("", renderTable(["hypervisor", "VMs"], vmRows));

  const nfs = nfsNodes().flatMap((node) => {
    const exec = execFor(node.name);
    return exec ? [{ node, exec }] : [];
  });
  const vip = nfs.length ? await vipHolder(nfs).catch(() => null) : null;
  out.push("", `NFS VIP holder: ${vip ?? "nobody"}`);

  const mgr = execFor(swarmManager().name);
  const swarm = mgr ? await swarmNodeStates(mgr).catch(() => null) : null;
  if (swarm) {
    out.push("", renderTable(["swarm node", "status", "availability", "manager"], swarm.map((s) => [s.hostname, s.status, s.availability, s.manager || "-"])));
    const svc = await docker(mgr!, ["service", "ls", "--format", "{{.Name}} {{.Replicas}}"], 10_000).catch(() => null);
    if (svc) out.push("", renderTable(["service", "replicas"], svc.stdout.trim().split("\n").filter(Boolean).map((line) => line.split(" "))));
  } else {
    out.push("", "swarm: manager unreachable");
  }
  if (state?.finishedAt) {
    out.push("", `up finished ${state.finishedAt} (${state.hypervisor}); timings: ${Object.entries(state.timingsMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`).join(", ")}`);
  }
  const up = Boolean(state?.finishedAt) && records.length > 0 && dead.length === 0;
  if (dead.length) out.push("", `NOT running: ${dead.map((r) => r.id).join(" ")}`);
  out.push("", up ? "lab is up" : records.length ? "lab is DEGRADED" : "lab is down");
  return { up, text: out.join("\n") };
}
