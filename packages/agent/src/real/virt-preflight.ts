import { access, readFile } from "node:fs/promises";
import {
  destinationAgentChecks,
  sourceAgentChecks,
  type AgentPreflightParams,
  type Bridge,
  type DomainState,
  type PreflightCheck,
} from "@nimbus/domain";
import { parseMeminfo } from "./parse/proc.js";
import { VIRSH_NOT_FOUND, parseDomjobinfo, parseDomstate } from "./parse/virsh.js";
import { parseBlockjobRaw } from "./virt-disk-parse.js";
import type { Tool } from "./tool.js";
import { classifyToolError } from "./util.js";

export interface PreflightDeps {
  host: string;
  virsh: Tool;
  procRoot: string;
  /** The bridges this host has now (the net driver's view), for NIC checks. */
  bridges: () => Promise<Bridge[]>;
}

/**
 * `virt.preflight` on a real host: observe with virsh, /proc and the filesystem, then judge with
 * the domain's rules. On the destination a disk path is "visible" when the file itself exists:
 * an NFS mount point that is not mounted is an empty directory, so the directory alone proves nothing.
 */
export async function realPreflight(d: PreflightDeps, params: AgentPreflightParams): Promise<PreflightCheck[]> {
  if (params.role === "source") {
    const state = await domainState(d, params.domain);
    return sourceAgentChecks({ host: d.host, domain: params.domain, state, migrating: state !== null && (await busy(d, params.domain)) });
  }
  const [existingState, meminfo, bridges, missingPaths] = await Promise.all([
    domainState(d, params.domain),
    readFile(`${d.procRoot}/meminfo`, "utf8").then(parseMeminfo, () => null),
    d.bridges(),
    missing(params.diskPaths),
  ]);
  return destinationAgentChecks(params, {
    host: d.host,
    freeMemoryMiB: meminfo ? meminfo.totalMiB - meminfo.usedMiB : null,
    bridges,
    missingPaths,
    existingState,
  });
}

async function domainState(d: PreflightDeps, domain: string): Promise<DomainState | null> {
  try {
    return parseDomstate(await d.virsh.run(["domstate", "--reason", domain])).state;
  } catch (e) {
    if (classifyToolError(e, domain, { notFound: VIRSH_NOT_FOUND }) !== e) return null;
    throw e;
  }
}

/**
 * A migration (domain job) or a block job (copy, commit) on any of its disks. A hypervisor that
 * cannot say (a driver without job info) counts as idle: libvirt still refuses a second job itself.
 */
async function busy(d: PreflightDeps, domain: string): Promise<boolean> {
  const ask = (args: string[]) => d.virsh.run(args, { timeoutMs: 10_000 }).catch(() => "");
  const jobText = await ask(["domjobinfo", domain]);
  const job = jobText ? parseDomjobinfo(jobText) : null;
  if (job && !["None", "Completed", "Failed", "Cancelled"].includes(job.type)) return true;
  const targets = (await ask(["domblklist", domain])).split("\n").slice(2).map((l) => l.trim().split(/\s+/)[0]).filter((t): t is string => !!t);
  for (const t of targets) if (parseBlockjobRaw(await ask(["blockjob", domain, t, "--raw"]))) return true;
  return false;
}

async function missing(paths: readonly string[]): Promise<string[]> {
  const seen = await Promise.all(paths.map((p) => access(p).then(() => null, () => p)));
  return seen.filter((p): p is string => p !== null);
}
