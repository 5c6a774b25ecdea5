import { unparseable } from "../../errors.js";
import { decimal, integer } from "./text.js";

/** /proc files and os-release: what NodeFacts is made of. */

export interface CpuInfo {
  model: string;
  count: number;
  features: string[];
}

/** `/proc/cpuinfo`: model and flags of the first processor, and how many there are. */
export function parseCpuinfo(text: string): CpuInfo {
  const tool = "/proc/cpuinfo";
  const blocks = text.split(/\n\s*\n/).filter((b) => /^processor\s*:/m.test(b));
  if (blocks.length === 0) throw unparseable(tool, "no processor entries", text);
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, "m").exec(blocks[0]!)?.[1]?.trim();
  return {
    model: field("model name") ?? field("cpu model") ?? field("Model") ?? "unknown",
    count: blocks.length,
    features: (field("flags") ?? field("Features") ?? "").split(/\s+/).filter(Boolean),
  };
}

/** `/proc/meminfo` -> MiB total and used (total minus available, as `free` counts it). */
export function parseMeminfo(text: string): { totalMiB: number; usedMiB: number } {
  const tool = "/proc/meminfo";
  const kib = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(text);
    const n = m ? integer(m[1]) : null;
    if (n === null) throw unparseable(tool, `missing ${key}`, text);
    return n;
  };
  const total = kib("MemTotal");
  const available = kib("MemAvailable");
  return { totalMiB: Math.round(total / 1024), usedMiB: Math.round((total - available) / 1024) };
}

export interface CpuTimes {
  busy: number;
  total: number;
}

/** The aggregate "cpu" line of `/proc/stat` (jiffies). */
export function parseProcStat(text: string): CpuTimes {
  const line = /^cpu\s+([\d\s]+)$/m.exec(text);
  if (!line) throw unparseable("/proc/stat", "no aggregate cpu line", text);
  const v = line[1]!.trim().split(/\s+/).map((f) => integer(f));
  if (v.length < 4) throw unparseable("/proc/stat", "cpu line has too few fields", text);
  if (v.some((n) => n === null)) throw unparseable("/proc/stat", "a cpu time is not a whole number", text);
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v as number[];
  const idleAll = idle + iowait;
  const total = user + nice + system + idleAll + irq + softirq + steal;
  return { busy: total - idleAll, total };
}

/** CPU usage between two readings, 0-100. */
export function cpuUsagePct(prev: CpuTimes, next: CpuTimes): number {
  const total = next.total - prev.total;
  if (total <= 0) return 0;
  return Math.min(100, Math.max(0, Math.round(((next.busy - prev.busy) / total) * 1000) / 10));
}

/** `/proc/uptime`: "12345.67 54321.00", seconds since boot (an empty file is not 0). */
export function parseUptime(text: string): number {
  const n = decimal(text.trim().split(/\s+/)[0]);
  if (n === null) throw unparseable("/proc/uptime", "not a number of seconds", text);
  return Math.floor(n);
}

/** `/etc/os-release`: PRETTY_NAME, else NAME VERSION. */
export function parseOsRelease(text: string): string {
  const vars = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) vars.set(m[1]!, m[2]!.replace(/^(["'])(.*)\1$/, "$2"));
  }
  const name = vars.get("PRETTY_NAME") ?? [vars.get("NAME"), vars.get("VERSION")].filter(Boolean).join(" ");
  if (!name) throw unparseable("/etc/os-release", "no PRETTY_NAME or NAME", text);
  return name;
}
