import { access, readFile } from "node:fs/promises";
import {
  AgentErrorCode,
  destinationAgentChecks,
  sourceAgentChecks,
  type AgentPreflightParams,
  type Bridge,
  type DomainState,
  type PreflightCheck,
} from "@nimbus/domain";
import { parseMeminfo } from "./parse/proc.js";
import { AgentError } from "../errors.js";
import { virshError } from "./parse/libvirt-errors.js";
import { parseDomjobinfo, parseDomstate } from "./parse/virsh.js";
import { parseBlockjobRaw } from "./virt-disk-parse.js";
import type { Tool } from "./tool.js";
import { domainUuid } from "./virt-ids.js";

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
  const id = await domainUuid(d.virsh, params.domain);
  if (params.role === "source") {
    const state = id === null ? null : await domainState(d, id);
    return sourceAgentChecks({ host: d.host, domain: params.domain, state, migrating: state !== null && id !== null && (await busy(d, id)) });
  }
  const [existingState, meminfo, bridges, missingPaths] = await Promise.all([
    id === null ? null : domainState(d, id),
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

/** The state of the domain with this UUID; null when it was undefined since it was listed. */
async function domainState(d: PreflightDeps, id: string): Promise<DomainState | null> {
  try {
    return parseDomstate(await d.virsh.run(["domstate", "--reason", "--", id])).state;
  } catch (e) {
    const typed = virshError(e, `domain ${id} on ${d.host}`);
    if (typed instanceof AgentError && typed.code === AgentErrorCode.notFound) return null;
    throw typed;
  }
}

/**
 * A migration (domain job) or a block job (copy, commit) on any of its disks. A hypervisor that
 * cannot say (a driver without job info) counts as idle: libvirt still refuses a second job itself.
 */
async function busy(d: PreflightDeps, id: string): Promise<boolean> {
  const ask = (args: string[]) => d.virsh.run(args, { timeoutMs: 10_000 }).catch(() => "");
  const jobText = await ask(["domjobinfo", "--", id]);
  const job = jobText ? parseDomjobinfo(jobText) : null;
  if (job && !["None", "Completed", "Failed", "Cancelled"].includes(job.type)) return true;
  const targets = (await ask(["domblklist", "--", id])).split("\n").slice(2).map((l) => l.trim().split(/\s+/)[0]).filter((t): t is string => !!t);
  for (const t of targets) if (parseBlockjobRaw(await ask(["blockjob", "--raw", "--", id, t]))) return true;
  return false;
}

async function missing(paths: readonly string[]): Promise<string[]> {
  const seen = await Promise.all(paths.map((p) => access(p).then(() => null, () => p)));
  return seen.filter((p): p is string => p !== null);
}
