import type { DomainState } from "@nimbus/domain";
import { unparseable } from "../../errors.js";
import { keyValues, parseTable, requireKey, sizeToBytes, toInt } from "./text.js";

/** Parsers for virsh's human-readable output (run with LC_ALL=C). */

/** virsh's words (on stderr) for "no such domain" and "not in a state that allows this". */
export const VIRSH_NOT_FOUND = /failed to get domain|Domain not found|no domain with matching/i;
export const VIRSH_CONFLICT = /Requested operation is not valid|already (running|active)|is not running/i;

/** virsh's state words (list, dominfo, domstate) -> the domain's state. */
export function domainState(word: string): DomainState {
  switch (word.trim()) {
    case "running":
    case "idle":
    case "blocked":
    case "in shutdown":
      return "running";
    case "paused":
      return "paused";
    case "shut off":
      return "shutoff";
    case "crashed":
      return "crashed";
    case "pmsuspended":
      return "suspended";
    default:
      return "other";
  }
}

export interface ListedDomain {
  id: number | null;
  name: string;
  state: DomainState;
}

/** `virsh list --all` */
export function parseVirshList(text: string): ListedDomain[] {
  const tool = "virsh list";
  return parseTable(tool, text).map((row) => {
    if (!row.Name || row.Id === undefined || !row.State) throw unparseable(tool, "row without Id/Name/State", text);
    return { id: row.Id === "-" ? null : toInt(tool, row.Id, "Id", text), name: row.Name, state: domainState(row.State) };
  });
}

export interface DomInfo {
  name: string;
  uuid: string;
  state: DomainState;
  vcpus: number;
  maxMemoryKiB: number;
  persistent: boolean;
  autostart: boolean;
}

/** `virsh dominfo DOMAIN` */
export function parseDominfo(text: string): DomInfo {
  const tool = "virsh dominfo";
  const kv = keyValues(tool, text);
  const get = (k: string) => requireKey(tool, kv, k, text);
  return {
    name: get("Name"),
    uuid: get("UUID"),
    state: domainState(get("State")),
    vcpus: toInt(tool, get("CPU(s)"), "CPU(s)", text),
    maxMemoryKiB: sizeToBytes(tool, get("Max memory"), text) / 1024,
    persistent: get("Persistent") === "yes",
    autostart: get("Autostart") === "enable",
  };
}

export interface NodeInfo {
  cpuModel: string;
  cpus: number;
  mhz: number;
  memoryKiB: number;
}

/** `virsh nodeinfo` */
export function parseNodeinfo(text: string): NodeInfo {
  const tool = "virsh nodeinfo";
  const kv = keyValues(tool, text);
  const get = (k: string) => requireKey(tool, kv, k, text);
  return {
    cpuModel: get("CPU model"),
    cpus: toInt(tool, get("CPU(s)"), "CPU(s)", text),
    mhz: toInt(tool, get("CPU frequency").replace(/\s*MHz$/, ""), "CPU frequency", text),
    memoryKiB: sizeToBytes(tool, get("Memory size"), text) / 1024,
  };
}

export interface JobInfo {
  /** "None", "Unbounded" (running), "Completed", "Failed", "Cancelled". */
  type: string;
  operation: string | null;
  processedBytes: number;
  remainingBytes: number;
  totalBytes: number;
  bandwidthBytesPerSec: number;
  dirtyRateBytesPerSec: number;
  iteration: number;
  expectedDowntimeMs: number | null;
  /** Only on a completed job (`domjobinfo --completed`). */
  totalDowntimeMs: number | null;
}

/** "63.156 MiB", "62.826 MiB/s", "0   pages/s", "15   ms" -> the leading number in base units. */
function measure(tool: string, value: string, text: string, pageSize: number): number {
  const v = value.trim();
  const pages = /^([\d.]+)\s+pages\/s$/.exec(v);
  if (pages) return Number(pages[1]) * pageSize;
  const ms = /^([\d.]+)\s*ms$/.exec(v);
  if (ms) return Number(ms[1]);
  return sizeToBytes(tool, v.replace(/\/s$/, ""), text);
}

/** `virsh domjobinfo DOMAIN [--completed]` */
export function parseDomjobinfo(text: string): JobInfo {
  const tool = "virsh domjobinfo";
  const kv = keyValues(tool, text);
  const type = requireKey(tool, kv, "Job type", text);
  const pageSize = kv.has("Page size") ? measure(tool, kv.get("Page size")!.replace(/\s*bytes$/, ""), text, 1) : 4096;
  const num = (...keys: string[]) => {
    for (const k of keys) if (kv.has(k)) return measure(tool, kv.get(k)!, text, pageSize);
    return null;
  };
  // A migration's first seconds report "Unbounded" with only the elapsed time: libvirt has not
  // sized the memory yet. That is a real state (captured in packages/lab-real/samples), not garbage.
  return {
    type,
    operation: kv.get("Operation") ?? null,
    processedBytes: num("Data processed", "Memory processed") ?? 0,
    remainingBytes: num("Data remaining", "Memory remaining") ?? 0,
    totalBytes: num("Data total", "Memory total") ?? 0,
    bandwidthBytesPerSec: num("Memory bandwidth", "Data bandwidth") ?? 0,
    dirtyRateBytesPerSec: num("Dirty rate") ?? 0,
    iteration: kv.has("Iteration") ? toInt(tool, kv.get("Iteration"), "Iteration", text) : 0,
    expectedDowntimeMs: num("Expected downtime"),
    totalDowntimeMs: num("Total downtime"),
  };
}

/** `virsh domstate --reason DOMAIN`: "running (migrated)". */
export function parseDomstate(text: string): { state: DomainState; reason: string | null } {
  const m = /^([a-z ]+?)(?: \(([^)]*)\))?$/.exec(text.trim());
  if (!m) throw unparseable("virsh domstate", "not a state line", text);
  return { state: domainState(m[1]!), reason: m[2] ?? null };
}

/** `virsh domstats ...`: per domain, its "key=value" fields. */
export function parseDomstats(text: string): Map<string, Map<string, string>> {
  const tool = "virsh domstats";
  const out = new Map<string, Map<string, string>>();
  let current: Map<string, string> | null = null;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const head = /^Domain: '(.+)'$/.exec(line.trim());
    if (head) {
      current = new Map();
      out.set(head[1]!, current);
      continue;
    }
    const kv = /^\s+([^=\s]+)=(.*)$/.exec(line);
    if (!kv || !current) throw unparseable(tool, `unexpected line "${line.trim().slice(0, 60)}"`, text);
    current.set(kv[1]!, kv[2]!);
  }
  return out;
}

/** Block capacities per target device ("vda" -> bytes) from one domain's domstats fields. */
export function blockCapacities(stats: Map<string, string> | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!stats) return out;
  const count = Number(stats.get("block.count") ?? 0);
  for (let i = 0; i < count; i++) {
    const name = stats.get(`block.${i}.name`);
    const cap = Number(stats.get(`block.${i}.capacity`));
    if (name && Number.isFinite(cap)) out.set(name, cap);
  }
  return out;
}

/** `virsh pool-list --all` */
export function parsePoolList(text: string): { name: string; active: boolean; autostart: boolean }[] {
  const tool = "virsh pool-list";
  return parseTable(tool, text).map((row) => {
    if (!row.Name || !row.State) throw unparseable(tool, "row without Name/State", text);
    return { name: row.Name, active: row.State === "active" || row.State === "running", autostart: row.Autostart === "yes" };
  });
}

/** `virsh version`: "QEMU 7.2.22" from "Running hypervisor: QEMU 7.2.22". */
export function parseVersion(text: string): { library: string; hypervisor: string } {
  const tool = "virsh version";
  const kv = keyValues(tool, text);
  return {
    library: requireKey(tool, kv, "Using library", text).replace(/^libvirt\s+/, ""),
    hypervisor: requireKey(tool, kv, "Running hypervisor", text),
  };
}
