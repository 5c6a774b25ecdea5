import { z } from "zod";
import { LIMITS, boundedList, boundedName, boundedPath } from "../bounds.js";

/**
 * Counters an agent pushes every STATS_INTERVAL_MS (`stats.counters`), outside the inventory:
 * they change at every reading, and a whole section pushed per change at 2,000 hosts would make
 * every host event a counter tick. The server turns two consecutive pushes into rates
 * (`CounterRates`) and samples those with the inventory; nothing here reaches a browser.
 *
 * Every value is untrusted: whole, non-negative, at most 2^53 - 1 (a byte counter of a 100 Gbit/s
 * link takes 23 years to get there); lists are bounded.
 */
export const STATS_INTERVAL_MS = 10_000;

export const STATS_LIMITS = {
  /** Host interfaces reported: uplinks, bridges, VLANs, veths (never VM taps or loopback). */
  interfaces: 64,
  domains: LIMITS.domains,
} as const;

const Counter = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const InterfaceCounters = z.object({
  name: boundedName(),
  /** The interface's kind as the net section names it: uplinks are "physical" (a namespace's "veth" without a master). */
  kind: z.enum(["physical", "bridge", "vlan", "veth", "ovs-internal", "bond", "other"]),
  /** The bridge (or ovs-system) it is enslaved to, if any. */
  master: boundedName().nullable(),
  rxBytes: Counter,
  txBytes: Counter,
});
export type InterfaceCounters = z.infer<typeof InterfaceCounters>;

export const DomainCounters = z.object({
  name: boundedName(),
  /** Total CPU time of the guest (ns, `cpu.time`); the server divides by the vCPUs its inventory names. */
  cpuTimeNs: Counter,
  /** Sums over the domain's vifs and disks (`net.N.rx.bytes`, `block.N.rd.bytes`, ...). */
  netRxBytes: Counter,
  netTxBytes: Counter,
  diskReadBytes: Counter,
  diskWriteBytes: Counter,
  /** A gauge, not a counter: the resident memory of the VM's process on the host (`balloon.rss`, KiB); null when not reported. */
  memoryRssKiB: Counter.nullable().default(null),
});
export type DomainCounters = z.infer<typeof DomainCounters>;

export const DatastoreCounters = z.object({
  /** The export's path as clients mount it (the datastore's name). */
  path: boundedPath(),
  /** Bytes read and written on the block device holding it (/proc/diskstats sectors x 512). */
  readBytes: Counter,
  writeBytes: Counter,
});
export type DatastoreCounters = z.infer<typeof DatastoreCounters>;

export const StatsCounters = z.object({
  /** /proc/stat's aggregate line: busy and total jiffies. */
  cpu: z.object({ busy: Counter, total: Counter }).nullable(),
  interfaces: boundedList(InterfaceCounters, STATS_LIMITS.interfaces),
  /** Running domains only (a stopped one has no counters). */
  domains: boundedList(DomainCounters, STATS_LIMITS.domains),
  /** NFS servers: the I/O of the devices their exports live on. */
  datastores: boundedList(DatastoreCounters, LIMITS.datastores).default([]),
});
export type StatsCounters = z.infer<typeof StatsCounters>;

const INTERFACE_KINDS: ReadonlySet<unknown> = new Set(InterfaceCounters.shape.kind.options);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isCounter = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
const isName = (v: unknown, max: number): v is string => typeof v === "string" && v.length <= max;

/**
 * `StatsCounters.safeParse` by hand, for the one push every host sends every 10 s (2,000 hosts:
 * 200 a second, ~25 us each through zod, and a copy of every object): the same rules and the
 * same result (new objects, unknown keys dropped, defaults filled), or null where the schema
 * refuses; the caller then asks the schema for its message. The schema stays the definition:
 * the test compares both on hostile input.
 */
export function parseStatsCounters(v: unknown): StatsCounters | null {
  if (!isRecord(v)) return null;
  let cpu: StatsCounters["cpu"] = null;
  if (v.cpu !== null) {
    if (!isRecord(v.cpu) || !isCounter(v.cpu.busy) || !isCounter(v.cpu.total)) return null;
    cpu = { busy: v.cpu.busy, total: v.cpu.total };
  }
  const { interfaces: ifs, domains: doms, datastores: stores = [] } = v;
  if (!Array.isArray(ifs) || ifs.length > STATS_LIMITS.interfaces || !Array.isArray(doms) || doms.length > STATS_LIMITS.domains) return null;
  if (!Array.isArray(stores) || stores.length > LIMITS.datastores) return null;
  const interfaces: InterfaceCounters[] = [];
  for (const i of ifs as unknown[]) {
    if (!isRecord(i) || !isName(i.name, LIMITS.name) || !INTERFACE_KINDS.has(i.kind) || !(i.master === null || isName(i.master, LIMITS.name))) return null;
    if (!isCounter(i.rxBytes) || !isCounter(i.txBytes)) return null;
    interfaces.push({ name: i.name, kind: i.kind as InterfaceCounters["kind"], master: i.master, rxBytes: i.rxBytes, txBytes: i.txBytes });
  }
  const domains: DomainCounters[] = [];
  for (const d of doms as unknown[]) {
    if (!isRecord(d) || !isName(d.name, LIMITS.name)) return null;
    if (!isCounter(d.cpuTimeNs) || !isCounter(d.netRxBytes) || !isCounter(d.netTxBytes) || !isCounter(d.diskReadBytes) || !isCounter(d.diskWriteBytes)) return null;
    const rss = d.memoryRssKiB === undefined ? null : d.memoryRssKiB;
    if (rss !== null && !isCounter(rss)) return null;
    domains.push({ name: d.name, cpuTimeNs: d.cpuTimeNs, netRxBytes: d.netRxBytes, netTxBytes: d.netTxBytes, diskReadBytes: d.diskReadBytes, diskWriteBytes: d.diskWriteBytes, memoryRssKiB: rss });
  }
  const datastores: DatastoreCounters[] = [];
  for (const d of stores as unknown[]) {
    if (!isRecord(d) || !isName(d.path, LIMITS.path) || !isCounter(d.readBytes) || !isCounter(d.writeBytes)) return null;
    datastores.push({ path: d.path, readBytes: d.readBytes, writeBytes: d.writeBytes });
  }
  return { cpu, interfaces, domains, datastores };
}

/** The interfaces whose traffic is the host's: its uplinks ("physical"; in a network namespace, veths with no master). */
export function uplinks(interfaces: readonly InterfaceCounters[]): InterfaceCounters[] {
  const physical = interfaces.filter((i) => i.kind === "physical");
  return physical.length ? physical : interfaces.filter((i) => i.kind === "veth" && i.master === null);
}

/** A link faster than this is not a measurement (8 Tbit/s): the interval is dropped, not charted. */
export const MAX_BYTES_PER_SECOND = 1e12;
/** More CPU than the largest domain libvirt allows (4,096 vCPUs) is not a measurement. */
export const MAX_CPU_NS_PER_SECOND = 4096 * 1e9;
/** Two pushes closer than this (a reconnect, a second link to the daemon) say nothing about a rate. */
export const MIN_RATE_WINDOW_MS = 500;
/** A baseline older than this (pushes were lost) still gives a mean; older still, it starts over. */
export const MAX_RATE_WINDOW_MS = 5 * 60_000;
/** Rates are charted only while fresh: a host that stopped pushing has no current rate. */
export const RATE_STALE_MS = 3 * STATS_INTERVAL_MS;

export interface HostRates {
  at: number;
  cpuPct: number | null;
  netRxBps: number | null;
  netTxBps: number | null;
}
export interface DomainRates {
  at: number;
  /** CPU seconds per second (2 = two vCPUs busy). */
  cpuCores: number | null;
  netRxBps: number | null;
  netTxBps: number | null;
  diskReadBps: number | null;
  diskWriteBps: number | null;
  /** The latest push's resident memory (MiB). */
  memoryMiB: number | null;
}

/**
 * Bytes per second between two readings of a counter, or null: a counter that went back (the
 * VM restarted, the interface was recreated, the agent's host rebooted) starts over rather than
 * giving a negative rate, and a rate above MAX_BYTES_PER_SECOND is dropped.
 */
export function counterRate(prev: number | undefined, next: number, seconds: number, max = MAX_BYTES_PER_SECOND): number | null {
  if (prev === undefined || !(seconds > 0) || next < prev) return null;
  const rate = (next - prev) / seconds;
  return Number.isFinite(rate) && rate <= max ? Math.round(rate * 100) / 100 : null;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
/** The sum of per-uplink rates, or null when any of them is unknown (or there is none). */
const total = (xs: (number | null)[]) => (xs.length && xs.every((x) => x !== null) ? Math.round(sum(xs as number[]) * 100) / 100 : null);

export interface DatastoreRates {
  at: number;
  readBps: number | null;
  writeBps: number | null;
}

/**
 * What the next push is measured against, as plain numbers: a host's last push kept whole was 10
 * VM objects of boxed numbers and a Map, ~4.7 KB a host (9.5 MB at 2,000 x 10 with the rates).
 * Arrays of doubles hold their numbers unboxed; names are the push's own strings.
 */
interface HostBaseline {
  at: number;
  /** /proc/stat's busy and total jiffies, NaN without them. */
  cpuBusy: number;
  cpuTotal: number;
  ifNames: string[];
  /** rx, tx per interface. */
  ifBytes: number[];
  domains: NamedRows;
  /** DOMAIN_FIELDS per domain. */
  domBytes: number[];
  datastores: readonly DatastoreCounters[];
}

/** cpuTimeNs, netRxBytes, netTxBytes, diskReadBytes, diskWriteBytes. */
const DOMAIN_FIELDS = 5;
/** cpuCores, netRxBps, netTxBps, diskReadBps, diskWriteBps, memoryMiB (NaN: null). */
const RATE_FIELDS = 6;
/** Beyond this many names a lookup goes through a Map; below, a scan of the names is cheaper than one. */
const SCAN_MAX = 16;

/** Names in order with their last position (a repeated name answers its last row, as a Map built in order would). */
class NamedRows {
  private index: Map<string, number> | null = null;
  constructor(readonly names: string[]) {
    if (names.length > SCAN_MAX) {
      this.index = new Map();
      for (let i = 0; i < names.length; i++) this.index.set(names[i]!, i);
    }
  }
  find(name: string): number {
    if (this.index) return this.index.get(name) ?? -1;
    for (let i = this.names.length - 1; i >= 0; i--) if (this.names[i] === name) return i;
    return -1;
  }
}

interface DomainRateTable {
  at: number;
  domains: NamedRows;
  /** RATE_FIELDS per domain. */
  values: number[];
}

const orNaN = (v: number | null) => (v === null ? NaN : v);
const orNull = (v: number) => (Number.isNaN(v) ? null : v);

function baselineOf(counters: StatsCounters, at: number): HostBaseline {
  const ifNames: string[] = [];
  const ifBytes: number[] = [];
  for (const i of counters.interfaces) {
    ifNames.push(i.name);
    ifBytes.push(i.rxBytes, i.txBytes);
  }
  const names: string[] = [];
  const domBytes: number[] = [];
  for (const d of counters.domains) {
    names.push(d.name);
    domBytes.push(d.cpuTimeNs, d.netRxBytes, d.netTxBytes, d.diskReadBytes, d.diskWriteBytes);
  }
  return {
    at,
    cpuBusy: counters.cpu ? counters.cpu.busy : NaN,
    cpuTotal: counters.cpu ? counters.cpu.total : NaN,
    ifNames,
    ifBytes,
    domains: new NamedRows(names),
    domBytes,
    datastores: counters.datastores,
  };
}

/**
 * The server's side of the counters: the last push per host, and the rates it gave against the
 * push before. Times are the server's (when a push arrived), never the agent's: a host can lie
 * about its counters but not about the clock that divides them. A VM is matched by name within
 * one host, so one that migrated has no baseline on its new host (its counters restarted with
 * the new qemu process) and gets rates from its second push there. Kept as arrays of numbers
 * per host, not objects per VM (the live heap a full collection marks).
 */
export class CounterRates {
  private readonly last = new Map<string, HostBaseline>();
  private readonly hostRates = new Map<string, HostRates>();
  private readonly domainRates = new Map<string, DomainRateTable>();
  private readonly datastoreRates = new Map<string, Map<string, DatastoreRates>>();

  /** A push from `host` received at `at` (ms). */
  push(host: string, counters: StatsCounters, at: number): void {
    const prev = this.last.get(host);
    if (prev && at - prev.at < MIN_RATE_WINDOW_MS) return;
    this.last.set(host, baselineOf(counters, at));
    if (!prev || at - prev.at > MAX_RATE_WINDOW_MS) {
      this.hostRates.delete(host);
      this.domainRates.delete(host);
      this.datastoreRates.delete(host);
      return;
    }
    const seconds = (at - prev.at) / 1000;
    const cpu = counters.cpu && !Number.isNaN(prev.cpuBusy) ? cpuShare({ busy: prev.cpuBusy, total: prev.cpuTotal }, counters.cpu) : null;
    // The host's traffic is the sum of per-uplink rates, so one uplink that reset loses only its own share.
    const up = uplinks(counters.interfaces);
    const rx: (number | null)[] = [];
    const tx: (number | null)[] = [];
    for (const i of up) {
      const b = prev.ifNames.lastIndexOf(i.name);
      rx.push(counterRate(b === -1 ? undefined : prev.ifBytes[2 * b], i.rxBytes, seconds));
      tx.push(counterRate(b === -1 ? undefined : prev.ifBytes[2 * b + 1], i.txBytes, seconds));
    }
    this.hostRates.set(host, { at, cpuPct: cpu, netRxBps: total(rx), netTxBps: total(tx) });
    const names: string[] = [];
    const values: number[] = [];
    const p = prev.domBytes;
    for (const d of counters.domains) {
      const b = prev.domains.find(d.name);
      if (b === -1) continue;
      const o = b * DOMAIN_FIELDS;
      // cpu.time going back is the clearest restart sign: the VM's other counters started over with it.
      // (No closure per VM: this runs for every VM of every host every 10 s.)
      const restarted = d.cpuTimeNs < p[o]!;
      const cpuNs = restarted ? null : counterRate(p[o], d.cpuTimeNs, seconds, MAX_CPU_NS_PER_SECOND);
      names.push(d.name);
      values.push(
        cpuNs === null ? NaN : Math.round((cpuNs / 1e9) * 1000) / 1000,
        restarted ? NaN : orNaN(counterRate(p[o + 1], d.netRxBytes, seconds)),
        restarted ? NaN : orNaN(counterRate(p[o + 2], d.netTxBytes, seconds)),
        restarted ? NaN : orNaN(counterRate(p[o + 3], d.diskReadBytes, seconds)),
        restarted ? NaN : orNaN(counterRate(p[o + 4], d.diskWriteBytes, seconds)),
        d.memoryRssKiB === null ? NaN : Math.round((d.memoryRssKiB / 1024) * 10) / 10,
      );
    }
    this.domainRates.set(host, { at, domains: new NamedRows(names), values });
    if (!counters.datastores.length && !this.datastoreRates.has(host)) return;
    const stores = new Map<string, DatastoreRates>();
    const storesBefore = new Map(prev.datastores.map((d) => [d.path, d]));
    for (const d of counters.datastores) {
      const b = storesBefore.get(d.path);
      stores.set(d.path, { at, readBps: counterRate(b?.readBytes, d.readBytes, seconds), writeBps: counterRate(b?.writeBytes, d.writeBytes, seconds) });
    }
    this.datastoreRates.set(host, stores);
  }

  /** The host left the fleet: its baseline goes (a later push starts over). */
  forget(host: string): void {
    this.last.delete(host);
    this.hostRates.delete(host);
    this.domainRates.delete(host);
    this.datastoreRates.delete(host);
  }

  /** The I/O of a datastore as the NFS server `host` measures it, if fresh at `now`. */
  datastore(host: string, path: string, now: number): DatastoreRates | null {
    const r = this.datastoreRates.get(host)?.get(path);
    return r && now - r.at <= RATE_STALE_MS ? r : null;
  }

  /** The host's latest rates if fresh at `now`. */
  host(host: string, now: number): HostRates | null {
    const r = this.hostRates.get(host);
    return r && now - r.at <= RATE_STALE_MS ? r : null;
  }

  /** A VM's latest rates on the host that runs it, if fresh at `now` (a new object each call). */
  domain(host: string, name: string, now: number): DomainRates | null {
    const t = this.domainRates.get(host);
    if (!t || now - t.at > RATE_STALE_MS) return null;
    const i = t.domains.find(name);
    if (i === -1) return null;
    const v = t.values;
    const o = i * RATE_FIELDS;
    return { at: t.at, cpuCores: orNull(v[o]!), netRxBps: orNull(v[o + 1]!), netTxBps: orNull(v[o + 2]!), diskReadBps: orNull(v[o + 3]!), diskWriteBps: orNull(v[o + 4]!), memoryMiB: orNull(v[o + 5]!) };
  }
}

/** A VM's CPU as a share of its vCPUs, 0-100 (a guest can exceed its share briefly by accounting: capped). */
export const domainCpuPct = (cores: number | null | undefined, vcpus: number): number | null =>
  cores === null || cores === undefined || !(vcpus > 0) ? null : Math.round(Math.min(100, (cores / vcpus) * 100) * 100) / 100;

/** Busy share of the jiffies between two /proc/stat readings, 0-100; null when the counters went back (a reboot). */
export function cpuShare(prev: { busy: number; total: number }, next: { busy: number; total: number }): number | null {
  const total = next.total - prev.total;
  const busy = next.busy - prev.busy;
  if (total <= 0 || busy < 0 || busy > total) return null;
  return Math.round((busy / total) * 10000) / 100;
}
