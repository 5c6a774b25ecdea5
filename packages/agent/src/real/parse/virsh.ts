import type { DomainState } from "@nimbus/domain";
import { quote, unparseable } from "../../errors.js";
import { decimal, keyValues, requireKey, sizeToBytes, toInt } from "./text.js";

/** Parsers for virsh's human-readable output (run with LC_ALL=C). */

/** virsh's state words (dominfo, domstate) -> the domain's state. */
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ListedUuid {
  uuid: string;
  /** With --name: the name as libvirt has it (not escaped, unlike the table under LC_ALL=C). */
  name: string | null;
}

/**
 * `virsh list --all --uuid [--name]`, `virsh pool-list --all --uuid`: one UUID per line, with
 * --name followed by a space and the name (older virsh pads it to 30 columns). Objects are
 * addressed by UUID: the table escapes non-ASCII names under LC_ALL=C ("caf\xc3\xa9"), and a
 * name such as "--all" or "5" would be read by virsh as an option or a domain id.
 */
export function parseUuidList(tool: string, text: string): ListedUuid[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line) => {
      const uuid = line.slice(0, 36);
      const rest = line.slice(36);
      if (!UUID.test(uuid) || (rest !== "" && !rest.startsWith(" "))) throw unparseable(tool, `${quote(line)} does not start with a UUID`, text);
      return { uuid: uuid.toLowerCase(), name: rest.trim() === "" ? null : rest.slice(1).trimEnd() };
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
  const pages = /^(\S+)\s+pages\/s$/.exec(v);
  const ms = pages ? null : /^(\S+?)\s*ms$/.exec(v);
  if (pages || ms) {
    const n = decimal((pages ?? ms)![1]);
    if (n === null) throw unparseable(tool, `${quote(value)} is not a number`, text);
    return pages ? n * pageSize : n;
  }
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
    if (!kv || !current) throw unparseable(tool, `unexpected line ${quote(line.trim())}`, text);
    current.set(kv[1]!, kv[2]!);
  }
  return out;
}

/**
 * Block capacities per target device ("vda" -> bytes) from one domain's domstats fields. A
 * count or capacity that is there but not a whole number is an error, not 0 or "no disk".
 */
export function blockCapacities(stats: Map<string, string> | undefined, text = ""): Map<string, number> {
  const tool = "virsh domstats";
  const out = new Map<string, number>();
  if (!stats) return out;
  const countText = stats.get("block.count");
  const count = countText === undefined ? 0 : toInt(tool, countText, "block.count", text);
  // Each disk has several fields: a count beyond them is a lie, not a reason to loop a billion times.
  if (count > stats.size) throw unparseable(tool, `block.count ${count} but only ${stats.size} fields`, text);
  for (let i = 0; i < count; i++) {
    const name = stats.get(`block.${i}.name`);
    const capText = stats.get(`block.${i}.capacity`);
    // A disk without a capacity (an empty CD-ROM, a network disk) has no size to show.
    if (name && capText !== undefined) out.set(name, toInt(tool, capText, `block.${i}.capacity`, text));
  }
  return out;
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
