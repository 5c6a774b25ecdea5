import { z } from "zod";
import { STATS_LIMITS, type DomainCounters, type InterfaceCounters } from "@nimbus/domain";
import { unparseable } from "../../errors.js";
import { parseJsonWith } from "./text.js";
import { parseDomstats } from "./virsh.js";

/**
 * Counters for metric history: `ip -s -d -j link show` (bytes per interface, with the kind
 * iproute2 gives it) and `virsh domstats --cpu-total --interface --block --balloon` (per domain, by key).
 * A counter is a whole number from 0 to 2^53 - 1; anything else is an unparseable output, not 0.
 */

const Count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const Traffic = z.looseObject({ rx: z.looseObject({ bytes: Count }), tx: z.looseObject({ bytes: Count }) });

const LinkStatsJson = z.array(
  z.looseObject({
    ifname: z.string().max(256),
    link_type: z.string().optional(),
    master: z.string().max(256).optional(),
    linkinfo: z.looseObject({ info_kind: z.string().optional() }).optional(),
    // iproute2 prints stats64 since 4.x; older ones "stats" with the same fields.
    stats64: Traffic.optional(),
    stats: Traffic.optional(),
  }),
);

/** iproute2's info_kind -> what the counters call it; VM taps, tunnels and the like are left out. */
const KINDS: Record<string, InterfaceCounters["kind"] | null> = {
  bridge: "bridge",
  vlan: "vlan",
  veth: "veth",
  bond: "bond",
  openvswitch: "ovs-internal",
  // A VM's tap is counted per VM (domstats); a VXLAN's traffic is already on the uplink it rides.
  tun: null,
  vxlan: null,
  geneve: null,
  ifb: null,
  dummy: null,
};

/**
 * Interface counters from `ip -s -d -j link show`: uplinks, bridges, VLANs, veths and bonds, not
 * loopback, VM taps or tunnels. At most STATS_LIMITS.interfaces (physical ones first, then by name),
 * so a host with thousands of veths still sends a bounded list.
 */
export function parseLinkCounters(text: string): InterfaceCounters[] {
  const tool = "ip -s -d link";
  const out: InterfaceCounters[] = [];
  for (const l of parseJsonWith(LinkStatsJson, tool, text)) {
    if (l.link_type === "loopback") continue;
    const info = l.linkinfo?.info_kind;
    const kind = info === undefined ? (l.link_type === "ether" ? "physical" : null) : Object.hasOwn(KINDS, info) ? KINDS[info]! : "other";
    // ovs-system is the datapath, not an interface traffic goes through.
    if (kind === null || l.ifname === "ovs-system") continue;
    const traffic = l.stats64 ?? l.stats;
    if (!traffic) throw unparseable(tool, `${l.ifname} has no counters (was -s left out?)`, text);
    out.push({ name: l.ifname, kind, master: l.master ?? null, rxBytes: traffic.rx.bytes, txBytes: traffic.tx.bytes });
  }
  const rank = (i: InterfaceCounters) => (i.kind === "physical" ? 0 : i.kind === "veth" && i.master === null ? 1 : 2);
  return out.sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).slice(0, STATS_LIMITS.interfaces);
}

const MAX_DEVICES = 1024;

/**
 * Per-domain counters from `virsh domstats --cpu-total --interface --block` (running domains):
 * CPU time, and bytes summed over the domain's vifs and disks. A domain without `cpu.time` (a
 * hypervisor whose driver does not count it) is left out; a field there but not a whole number
 * is an error.
 */
export function parseDomainCounters(text: string): DomainCounters[] {
  const tool = "virsh domstats";
  const out: DomainCounters[] = [];
  for (const [name, fields] of parseDomstats(text)) {
    const int = (key: string): number => {
      const v = fields.get(key);
      if (v === undefined || !/^\d{1,16}$/.test(v) || Number(v) > Number.MAX_SAFE_INTEGER) throw unparseable(tool, `${name}: ${key} is ${v === undefined ? "missing" : "not a whole number"}`, text);
      return Number(v);
    };
    if (!fields.has("cpu.time")) continue;
    const count = (key: string) => {
      if (!fields.has(key)) return 0;
      const n = int(key);
      // Each device has several fields: a count beyond them is a lie, not a reason to loop.
      if (n > MAX_DEVICES || n > fields.size) throw unparseable(tool, `${name}: ${key} ${n} is more than it lists`, text);
      return n;
    };
    const total = (prefix: string, n: number, suffix: string) => {
      let s = 0;
      // A device without the field (an empty CD-ROM has no rd.bytes) adds nothing.
      for (let i = 0; i < n; i++) if (fields.has(`${prefix}.${i}.${suffix}`)) s += int(`${prefix}.${i}.${suffix}`);
      return Math.min(s, Number.MAX_SAFE_INTEGER);
    };
    const nets = count("net.count");
    const blocks = count("block.count");
    out.push({
      name,
      cpuTimeNs: int("cpu.time"),
      netRxBytes: total("net", nets, "rx.bytes"),
      netTxBytes: total("net", nets, "tx.bytes"),
      diskReadBytes: total("block", blocks, "rd.bytes"),
      diskWriteBytes: total("block", blocks, "wr.bytes"),
      memoryRssKiB: fields.has("balloon.rss") ? int("balloon.rss") : null,
    });
    if (out.length >= STATS_LIMITS.domains) break;
  }
  return out;
}

/**
 * `/proc/diskstats`: bytes read and written per block device ("major:minor"), from the sectors
 * columns (6 and 10; a sector is 512 bytes whatever the device's own sector size).
 */
export function parseDiskstats(text: string): Map<string, { readBytes: number; writeBytes: number }> {
  const tool = "/proc/diskstats";
  const out = new Map<string, { readBytes: number; writeBytes: number }>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const f = line.trim().split(/\s+/);
    if (f.length < 14) throw unparseable(tool, "a line has too few fields", text);
    const n = (i: number) => {
      const v = f[i]!;
      if (!/^\d{1,20}$/.test(v) || Number(v) * 512 > Number.MAX_SAFE_INTEGER) throw unparseable(tool, `field ${i + 1} of ${f[2]!.slice(0, 32)} is not a counter`, text);
      return Number(v);
    };
    out.set(`${n(0)}:${n(1)}`, { readBytes: n(5) * 512, writeBytes: n(9) * 512 });
    if (out.size > 65_536) throw unparseable(tool, "more devices than any host has", text);
  }
  return out;
}

/** A device number from stat(2) (glibc's encoding) as "major:minor", the key of /proc/diskstats. */
export function deviceKey(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}
