import { readFile, stat } from "node:fs/promises";
import { AgentErrorCode, type DatastoreCounters, type DomainCounters, type InterfaceCounters, type StatsCounters } from "@nimbus/domain";
import type { StatsDriver } from "../drivers.js";
import { AgentError } from "../errors.js";
import { virshError } from "./parse/libvirt-errors.js";
import { parseProcStat } from "./parse/proc.js";
import { deviceKey, parseDiskstats, parseDomainCounters, parseLinkCounters } from "./parse/stats.js";
import type { Tool } from "./tool.js";

/** A reading is due every 10 s: a tool that takes longer than this is stuck, not slow. */
const TIMEOUT_MS = 8_000;

/**
 * The host's counters, read when the protocol session's timer asks: /proc/stat (no process),
 * `ip -s -d -j link show` and, on hypervisors, `virsh domstats --list-running --cpu-total
 * --interface --block --balloon` (one call for every running domain), and on NFS servers
 * /proc/diskstats for the device each export lives on. A part that fails alone (libvirtd down)
 * leaves its list empty rather than losing the others; only when every part fails is the reading
 * an error.
 */
export class RealStatsDriver implements StatsDriver {
  constructor(
    private readonly tools: { ip: Tool | null; virsh: Tool | null },
    private readonly procRoot: string,
    /** NFS exports: the path clients mount (the datastore) and where it is on this host. */
    private readonly exports: readonly { path: string; local: string }[] = [],
  ) {}

  async read(): Promise<StatsCounters> {
    const [cpu, interfaces, domains, datastores] = await Promise.allSettled([this.cpu(), this.interfaces(), this.domains(), this.datastores()]);
    if (cpu.status === "rejected" && interfaces.status === "rejected" && domains.status === "rejected") throw cpu.reason;
    return {
      cpu: cpu.status === "fulfilled" ? cpu.value : null,
      interfaces: interfaces.status === "fulfilled" ? interfaces.value : [],
      domains: domains.status === "fulfilled" ? domains.value : [],
      datastores: datastores.status === "fulfilled" ? datastores.value : [],
    };
  }

  /** An export on a device /proc/diskstats does not list (tmpfs, overlay: major 0) has no I/O to report. */
  private async datastores(): Promise<DatastoreCounters[]> {
    if (this.exports.length === 0) return [];
    const devices = parseDiskstats(await readFile(`${this.procRoot}/diskstats`, "utf8"));
    const out: DatastoreCounters[] = [];
    for (const e of this.exports) {
      const dev = await stat(e.local, { bigint: true }).then((s) => deviceKey(s.dev)).catch(() => null);
      const io = dev ? devices.get(dev) : undefined;
      if (io) out.push({ path: e.path, ...io });
    }
    return out;
  }

  private async cpu() {
    return parseProcStat(await readFile(`${this.procRoot}/stat`, "utf8"));
  }

  private async interfaces(): Promise<InterfaceCounters[]> {
    if (!this.tools.ip) return [];
    return parseLinkCounters(await this.tools.ip.run(["-s", "-d", "-j", "link", "show"], { timeoutMs: TIMEOUT_MS }));
  }

  private async domains(): Promise<DomainCounters[]> {
    if (!this.tools.virsh) return [];
    try {
      return parseDomainCounters(await this.tools.virsh.run(["domstats", "--list-running", "--cpu-total", "--interface", "--block", "--balloon"], { timeoutMs: TIMEOUT_MS }));
    } catch (e) {
      if (e instanceof AgentError && e.code === AgentErrorCode.unparseable) throw e;
      throw virshError(e, "domstats");
    }
  }
}
