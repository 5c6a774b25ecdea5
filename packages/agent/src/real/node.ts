import { readFile, statfs } from "node:fs/promises";
import { hostname } from "node:os";
import type { NodeFacts } from "@nimbus/domain";
import type { NodeDriver } from "../drivers.js";
import { meaningfulChange } from "../node-change.js";
import type { AgentConfig } from "./config.js";
import { cpuUsagePct, parseCpuinfo, parseMeminfo, parseOsRelease, parseProcStat, parseUptime, type CpuTimes } from "./parse/proc.js";

/** CPU usage over a shorter window than this is mostly scheduler noise. */
const MIN_CPU_WINDOW_MS = 1000;

/**
 * The host itself, from /proc (no tools to run). CPU usage is the delta between two /proc/stat
 * readings; the watcher samples every sampleIntervalMs and reports only meaningful changes.
 * The root disk is measured with statfs(2), which is what df reads, without a process.
 */
export class RealNodeDriver implements NodeDriver {
  private lastCpu: CpuTimes | null = null;
  private lastCpuAt = 0;
  private lastUsage = 0;

  constructor(
    private readonly cfg: AgentConfig["node"],
    private readonly name: string = hostname(),
  ) {}

  async snapshot(): Promise<NodeFacts> {
    const proc = (f: string) => readFile(`${this.cfg.procRoot}/${f}`, "utf8");
    const [cpuinfo, meminfo, stat, uptime, osRelease, kernel, fs] = await Promise.all([
      proc("cpuinfo"),
      proc("meminfo"),
      proc("stat"),
      proc("uptime"),
      readFile(this.cfg.osReleasePath, "utf8").catch(() => 'NAME="Linux"'),
      proc("sys/kernel/osrelease"),
      statfs(this.cfg.diskPath),
    ]);
    const cpu = parseCpuinfo(cpuinfo);
    const mem = parseMeminfo(meminfo);
    const times = parseProcStat(stat);
    // The first reading has no previous one: the average since boot is the best guess. A
    // reading right after the last one (the push that follows a sample) keeps the sampled value.
    if (Date.now() - this.lastCpuAt >= MIN_CPU_WINDOW_MS) {
      this.lastUsage = cpuUsagePct(this.lastCpu ?? { busy: 0, total: 0 }, times);
      this.lastCpu = times;
      this.lastCpuAt = Date.now();
    }
    return {
      hostname: this.name,
      os: parseOsRelease(osRelease),
      kernel: kernel.trim(),
      cpuModel: cpu.model,
      cpuFeatures: cpu.features,
      cpuCount: cpu.count,
      cpuUsagePct: this.lastUsage,
      memoryTotalMiB: mem.totalMiB,
      memoryUsedMiB: mem.usedMiB,
      diskTotalBytes: fs.blocks * fs.bsize,
      diskUsedBytes: (fs.blocks - fs.bfree) * fs.bsize,
      uptimeSeconds: parseUptime(uptime),
    };
  }

  watch(onChange: () => void): () => void {
    let reported: NodeFacts | null = null;
    let busy = false;
    const timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        const now = await this.snapshot();
        if (!reported || meaningfulChange(reported, now)) {
          reported = now;
          onChange();
        }
      } catch {
        // A failed read is retried at the next sample; snapshot() reports the error when asked.
      } finally {
        busy = false;
      }
    }, this.cfg.sampleIntervalMs);
    return () => clearInterval(timer);
  }
}
