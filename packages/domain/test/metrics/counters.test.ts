import { describe, expect, it } from "vitest";
import {
  CounterRates,
  MAX_BYTES_PER_SECOND,
  MAX_CPU_NS_PER_SECOND,
  MIN_RATE_WINDOW_MS,
  MAX_RATE_WINDOW_MS,
  RATE_STALE_MS,
  STATS_LIMITS,
  StatsCounters,
  counterRate,
  parseStatsCounters,
  cpuShare,
  domainCpuPct,
  sampleFleet,
  uplinks,
  type DatastoreCounters,
  type DomainCounters,
  type InterfaceCounters,
} from "../../src/metrics/index.js";
import { notificationSchema } from "../../src/protocol.js";
import type { HostRecord } from "../../src/fleet.js";
import { hypervisor, node, vm } from "../fixtures.js";

const T0 = Date.parse("2026-03-01T00:00:00Z");
const GiB = 1024 ** 3;

const eth = (rx: number, tx: number, over: Partial<InterfaceCounters> = {}): InterfaceCounters => ({ name: "eth0", kind: "physical", master: null, rxBytes: rx, txBytes: tx, ...over });
const dom = (name: string, over: Partial<DomainCounters> = {}): DomainCounters => ({
  name,
  cpuTimeNs: 0,
  netRxBytes: 0,
  netTxBytes: 0,
  diskReadBytes: 0,
  diskWriteBytes: 0,
  memoryRssKiB: null,
  ...over,
});
const push = (cpu: { busy: number; total: number } | null, interfaces: InterfaceCounters[], domains: DomainCounters[] = [], datastores: DatastoreCounters[] = []) => ({ cpu, interfaces, domains, datastores });

describe("a counter's rate", () => {
  it("is the difference over the seconds between two readings", () => {
    expect(counterRate(1_000, 21_000, 10)).toBe(2_000);
    expect(counterRate(5, 5, 10)).toBe(0);
  });
  it("has no rate without a previous reading or a positive interval", () => {
    expect(counterRate(undefined, 100, 10)).toBeNull();
    expect(counterRate(0, 100, 0)).toBeNull();
    expect(counterRate(0, 100, Number.NaN)).toBeNull();
  });
  it("starts over when the counter went back (a restart), never a negative rate", () => {
    expect(counterRate(10_000, 200, 10)).toBeNull();
  });
  it("drops a rate no link carries", () => {
    expect(counterRate(0, MAX_BYTES_PER_SECOND * 10 + 10, 10)).toBeNull();
    expect(counterRate(0, MAX_BYTES_PER_SECOND * 10, 10)).toBe(MAX_BYTES_PER_SECOND);
  });
  it("CPU share from jiffies: busy over total, null when they went back or busy outgrew total", () => {
    expect(cpuShare({ busy: 100, total: 1000 }, { busy: 350, total: 2000 })).toBe(25);
    expect(cpuShare({ busy: 100, total: 1000 }, { busy: 50, total: 500 })).toBeNull();
    expect(cpuShare({ busy: 100, total: 1000 }, { busy: 2000, total: 1100 })).toBeNull();
    expect(cpuShare({ busy: 100, total: 1000 }, { busy: 100, total: 1000 })).toBeNull();
  });
  it("a VM's CPU is a share of its vCPUs, capped at 100", () => {
    expect(domainCpuPct(1, 4)).toBe(25);
    expect(domainCpuPct(9, 4)).toBe(100);
    expect(domainCpuPct(null, 4)).toBeNull();
  });
});

describe("the host's traffic", () => {
  it("is its physical interfaces', not its bridges' or veths' (a bridge's traffic crossed the uplink already)", () => {
    const list = [eth(1, 1), eth(2, 2, { name: "br0", kind: "bridge" }), eth(3, 3, { name: "eth1" }), eth(4, 4, { name: "veth1", kind: "veth", master: "br0" })];
    expect(uplinks(list).map((i) => i.name)).toEqual(["eth0", "eth1"]);
  });
  it("in a network namespace (no physical interface) is the veths' that no bridge holds", () => {
    const list = [eth(1, 1, { name: "eth0", kind: "veth" }), eth(2, 2, { name: "vx", kind: "veth", master: "br0" }), eth(3, 3, { name: "br0", kind: "bridge" })];
    expect(uplinks(list).map((i) => i.name)).toEqual(["eth0"]);
  });
});

describe("rates from pushed counters", () => {
  it("a host's CPU and uplink traffic from two pushes, by the server's clock", () => {
    const r = new CounterRates();
    r.push("kvm1", push({ busy: 0, total: 0 }, [eth(0, 0), eth(0, 0, { name: "br0", kind: "bridge" })]), T0);
    expect(r.host("kvm1", T0)).toBeNull();
    r.push("kvm1", push({ busy: 400, total: 1000 }, [eth(10_000, 5_000), eth(9e9, 9e9, { name: "br0", kind: "bridge" })]), T0 + 10_000);
    expect(r.host("kvm1", T0 + 10_000)).toEqual({ at: T0 + 10_000, cpuPct: 40, netRxBps: 1_000, netTxBps: 500 });
  });

  it("a VM's CPU time, vif and disk bytes become rates; a restart (counters back to 0) gives a gap, not a negative rate", () => {
    const r = new CounterRates();
    const web = (cpu: number, bytes: number) => dom("web1", { cpuTimeNs: cpu, netRxBytes: bytes, netTxBytes: bytes / 2, diskReadBytes: bytes * 2, diskWriteBytes: bytes * 4, memoryRssKiB: 512 * 1024 });
    r.push("kvm1", push(null, [], [web(10e9, 1_000)]), T0);
    r.push("kvm1", push(null, [], [web(30e9, 11_000)]), T0 + 10_000);
    expect(r.domain("kvm1", "web1", T0 + 10_000)).toEqual({ at: T0 + 10_000, cpuCores: 2, netRxBps: 1_000, netTxBps: 500, diskReadBps: 2_000, diskWriteBps: 4_000, memoryMiB: 512 });
    // Destroyed and started again: cpu.time starts over, and so did every other counter.
    r.push("kvm1", push(null, [], [web(1e9, 50_000)]), T0 + 20_000);
    const after = r.domain("kvm1", "web1", T0 + 20_000)!;
    expect([after.cpuCores, after.netRxBps, after.netTxBps, after.diskReadBps, after.diskWriteBps]).toEqual([null, null, null, null, null]);
    // The next push rates against the new baseline.
    r.push("kvm1", push(null, [], [web(2e9, 60_000)]), T0 + 30_000);
    expect(r.domain("kvm1", "web1", T0 + 30_000)!.cpuCores).toBe(0.1);
  });

  it("a VM that migrated has no baseline on its new host: no rate from the old host's counters", () => {
    const r = new CounterRates();
    r.push("kvm1", push(null, [], [dom("web1", { cpuTimeNs: 500e9, netRxBytes: 9e9 })]), T0);
    r.push("kvm2", push(null, [], []), T0);
    r.push("kvm1", push(null, [], []), T0 + 10_000);
    r.push("kvm2", push(null, [], [dom("web1", { cpuTimeNs: 1e9, netRxBytes: 10 })]), T0 + 10_000);
    expect(r.domain("kvm2", "web1", T0 + 10_000)).toBeNull();
    expect(r.domain("kvm1", "web1", T0 + 10_000)).toBeNull();
    r.push("kvm2", push(null, [], [dom("web1", { cpuTimeNs: 6e9, netRxBytes: 20_010 })]), T0 + 20_000);
    expect(r.domain("kvm2", "web1", T0 + 20_000)).toMatchObject({ cpuCores: 0.5, netRxBps: 2_000 });
  });

  it("one uplink that reset loses the host's total for that interval only", () => {
    const r = new CounterRates();
    r.push("kvm1", push(null, [eth(1_000_000, 1_000_000), eth(0, 0, { name: "eth1" })]), T0);
    r.push("kvm1", push(null, [eth(5, 5), eth(10_000, 10_000, { name: "eth1" })]), T0 + 10_000);
    expect(r.host("kvm1", T0 + 10_000)).toMatchObject({ netRxBps: null, netTxBps: null });
    r.push("kvm1", push(null, [eth(10_005, 5), eth(20_000, 20_000, { name: "eth1" })]), T0 + 20_000);
    expect(r.host("kvm1", T0 + 20_000)).toMatchObject({ netRxBps: 2_000, netTxBps: 1_000 });
  });

  it("a datastore's I/O from the device under its export, as the NFS server measures it", () => {
    const r = new CounterRates();
    r.push("nfs1", push(null, [], [], [{ path: "/instance", readBytes: 1_000, writeBytes: 0 }]), T0);
    r.push("nfs1", push(null, [], [], [{ path: "/instance", readBytes: 51_000, writeBytes: 20_000 }, { path: "/new", readBytes: 5, writeBytes: 5 }]), T0 + 10_000);
    expect(r.datastore("nfs1", "/instance", T0 + 10_000)).toEqual({ at: T0 + 10_000, readBps: 5_000, writeBps: 2_000 });
    expect(r.datastore("nfs1", "/new", T0 + 10_000)).toMatchObject({ readBps: null, writeBps: null });
    expect(r.datastore("nfs2", "/instance", T0 + 10_000)).toBeNull();
  });

  it("pushes too close together are ignored; a long silence starts over; an old rate is not current", () => {
    const r = new CounterRates();
    r.push("kvm1", push({ busy: 0, total: 0 }, []), T0);
    r.push("kvm1", push({ busy: 1, total: 1 }, []), T0 + 100);
    r.push("kvm1", push({ busy: 50, total: 100 }, []), T0 + 10_000);
    // Rated against the first push, not the one 100 ms after it.
    expect(r.host("kvm1", T0 + 10_000)!.cpuPct).toBe(50);
    expect(r.host("kvm1", T0 + 10_000 + RATE_STALE_MS + 1)).toBeNull();
    r.push("kvm1", push({ busy: 60, total: 200 }, []), T0 + 10_000 + MAX_RATE_WINDOW_MS + 1);
    expect(r.host("kvm1", T0 + 10_000 + MAX_RATE_WINDOW_MS + 1)).toBeNull();
  });

  it("kept as arrays of numbers: the same rates as the pushes kept whole (the previous rule, here) on random pushes", () => {
    // The previous CounterRates, kept as the reference: the last push whole, Maps of objects.
    class Reference {
      last = new Map<string, { at: number; counters: ReturnType<typeof push>; domains: Map<string, DomainCounters> }>();
      hosts = new Map<string, object>();
      doms = new Map<string, Map<string, object>>();
      stores = new Map<string, Map<string, object>>();
      push(host: string, counters: ReturnType<typeof push>, at: number) {
        const prev = this.last.get(host);
        if (prev && at - prev.at < MIN_RATE_WINDOW_MS) return;
        this.last.set(host, { at, counters, domains: new Map(counters.domains.map((d) => [d.name, d])) });
        if (!prev || at - prev.at > MAX_RATE_WINDOW_MS) return void (this.hosts.delete(host), this.doms.delete(host), this.stores.delete(host));
        const s = (at - prev.at) / 1000;
        const before = new Map(prev.counters.interfaces.map((i) => [i.name, i]));
        const up = uplinks(counters.interfaces);
        const sum = (xs: (number | null)[]) => (xs.length && xs.every((x) => x !== null) ? Math.round((xs as number[]).reduce((x, y) => x + y, 0) * 100) / 100 : null);
        const cpu = counters.cpu && prev.counters.cpu ? cpuShare(prev.counters.cpu, counters.cpu) : null;
        this.hosts.set(host, { at, cpuPct: cpu, netRxBps: sum(up.map((i) => counterRate(before.get(i.name)?.rxBytes, i.rxBytes, s))), netTxBps: sum(up.map((i) => counterRate(before.get(i.name)?.txBytes, i.txBytes, s))) });
        const rates = new Map<string, object>();
        for (const d of counters.domains) {
          const p = prev.domains.get(d.name);
          if (!p) continue;
          const back = d.cpuTimeNs < p.cpuTimeNs;
          const ns = back ? null : counterRate(p.cpuTimeNs, d.cpuTimeNs, s, MAX_CPU_NS_PER_SECOND);
          rates.set(d.name, {
            at,
            cpuCores: ns === null ? null : Math.round((ns / 1e9) * 1000) / 1000,
            netRxBps: back ? null : counterRate(p.netRxBytes, d.netRxBytes, s),
            netTxBps: back ? null : counterRate(p.netTxBytes, d.netTxBytes, s),
            diskReadBps: back ? null : counterRate(p.diskReadBytes, d.diskReadBytes, s),
            diskWriteBps: back ? null : counterRate(p.diskWriteBytes, d.diskWriteBytes, s),
            memoryMiB: d.memoryRssKiB === null ? null : Math.round((d.memoryRssKiB / 1024) * 10) / 10,
          });
        }
        this.doms.set(host, rates);
        const sb = new Map(prev.counters.datastores.map((d) => [d.path, d]));
        this.stores.set(host, new Map(counters.datastores.map((d) => [d.path, { at, readBps: counterRate(sb.get(d.path)?.readBytes, d.readBytes, s), writeBps: counterRate(sb.get(d.path)?.writeBytes, d.writeBytes, s) }])));
      }
    }
    let seed = 11;
    const rand = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
    const big = () => rand(2 ** 20) * 2 ** 20 + rand(2 ** 20); // past 2^31: doubles, not small integers
    const r = new CounterRates();
    const ref = new Reference();
    const hosts = ["kvm1", "kvm2", "nfs1"];
    const state = new Map<string, number>();
    let t = T0;
    for (let step = 0; step < 300; step++) {
      t += [100, 9_000, 10_000, 11_000, MAX_RATE_WINDOW_MS + 1][rand(5)]!;
      const host = hosts[rand(3)]!;
      const k = (state.get(host) ?? 0) + 1;
      state.set(host, k);
      // Growing counters, sometimes back to 0 (a restart); VMs that come and go; a repeated name; 20 VMs on kvm2 (the Map path).
      const count = host === "kvm2" ? 20 : rand(5);
      const domains = Array.from({ length: count }, (_, i) =>
        dom(`vm${rand(host === "kvm2" ? 25 : 6)}`, { cpuTimeNs: rand(10) ? k * 1e10 + big() : 0, netRxBytes: k * 1e6 + rand(1e6), netTxBytes: rand(3) ? k * 1e6 : 0, diskReadBytes: big(), diskWriteBytes: k * 1e9, memoryRssKiB: rand(4) ? 1024 * (i + 1) : null }),
      );
      const interfaces = [eth(k * 1e9 + rand(1e6), rand(8) ? k * 1e9 : 0), eth(k * 1e8, k * 1e8, { name: rand(4) ? "eth1" : "eth2" }), eth(5, 5, { name: "br0", kind: "bridge" }), ...(rand(3) ? [] : [eth(k * 7e8, k * 7e8 + rand(100))])]; // sometimes eth0 twice
      const stores = host === "nfs1" ? [{ path: "/instance", readBytes: k * 1e9 + big(), writeBytes: rand(5) ? k * 1e9 : 0 }] : [];
      const p = push(rand(6) ? { busy: k * 1000 + rand(900), total: k * 4000 } : null, interfaces, domains, stores);
      if (rand(40) === 0) {
        r.forget(host);
        ref.last.delete(host), ref.hosts.delete(host), ref.doms.delete(host), ref.stores.delete(host);
      }
      r.push(host, p, t);
      ref.push(host, p, t);
      const fresh = (x: object | undefined) => (x && t - (x as { at: number }).at <= RATE_STALE_MS ? x : null);
      const seen = (from: CounterRates | null) =>
        hosts.map((h) => [
          from ? from.host(h, t) : fresh(ref.hosts.get(h)),
          Array.from({ length: 25 }, (_, v) => (from ? from.domain(h, `vm${v}`, t) : fresh(ref.doms.get(h)?.get(`vm${v}`)))),
          from ? from.datastore(h, "/instance", t) : fresh(ref.stores.get(h)?.get("/instance")),
        ]);
      expect(seen(r), `step ${step}`).toEqual(seen(null));
    }
  });

  it("a host that went offline is forgotten: its next push is a new baseline", () => {
    const r = new CounterRates();
    r.push("kvm1", push({ busy: 0, total: 0 }, []), T0);
    r.forget("kvm1");
    r.push("kvm1", push({ busy: 50, total: 100 }, []), T0 + 10_000);
    expect(r.host("kvm1", T0 + 10_000)).toBeNull();
  });
});

describe("the stats.counters push is untrusted", () => {
  const schema = notificationSchema("stats.counters")!;
  const ok = push({ busy: 1, total: 2 }, [eth(1, 2)], [dom("web1")]);
  it("takes a well-formed push (memory optional, as older agents send none)", () => {
    expect(schema.safeParse(ok).success).toBe(true);
    const { memoryRssKiB: _, ...old } = dom("web1");
    expect(StatsCounters.parse({ ...ok, domains: [old] }).domains[0]!.memoryRssKiB).toBeNull();
  });
  it.each([
    ["a negative counter", { ...ok, interfaces: [eth(-1, 2)] }],
    ["NaN", { ...ok, cpu: { busy: Number.NaN, total: 2 } }],
    ["a fraction", { ...ok, domains: [dom("web1", { cpuTimeNs: 1.5 })] }],
    ["a counter above 2^53", { ...ok, domains: [dom("web1", { diskReadBytes: 2 ** 60 })] }],
    ["a number as text", { ...ok, interfaces: [{ ...eth(1, 2), rxBytes: "12" }] }],
    ["an unknown interface kind", { ...ok, interfaces: [eth(1, 2, { kind: "wifi" as never })] }],
    ["too many interfaces", { ...ok, interfaces: Array.from({ length: STATS_LIMITS.interfaces + 1 }, (_, i) => eth(1, 1, { name: `e${i}` })) }],
    ["too many domains", { ...ok, domains: Array.from({ length: STATS_LIMITS.domains + 1 }, (_, i) => dom(`d${i}`)) }],
    ["a name beyond the bound", { ...ok, domains: [dom("x".repeat(300))] }],
  ])("refuses %s", (_what, bad) => {
    expect(schema.safeParse(bad).success).toBe(false);
  });
});

describe("samples with rates", () => {
  const swarmVm = (name: string, cpu: number): HostRecord => {
    const h = hypervisor(name);
    h.inventory.virt = null;
    h.inventory.node = node({ cpuUsagePct: cpu });
    return h;
  };

  it("hosts and running VMs take their fresh rates; a VM's CPU is a share of its vCPUs; a stopped one is 0", () => {
    const kvm1 = hypervisor("kvm1", [vm({ name: "web1", state: "running", vcpus: 4 }), vm({ name: "db1", state: "shutoff" })]);
    kvm1.inventory.node = node({ cpuUsagePct: 90, memoryTotalMiB: 100, memoryUsedMiB: 50, diskTotalBytes: 100, diskUsedBytes: 10 });
    const r = new CounterRates();
    r.push("kvm1", push({ busy: 0, total: 0 }, [eth(0, 0)], [dom("web1"), dom("db1")]), T0 - 10_000);
    r.push("kvm1", push({ busy: 120, total: 1000 }, [eth(20_000, 10_000)], [dom("web1", { cpuTimeNs: 20e9, netRxBytes: 1_000, diskWriteBytes: 1 * GiB, memoryRssKiB: 2048 })]), T0);
    const by = new Map(sampleFleet([kvm1], T0, r).map((s) => [s.object, s.values]));
    // CPU from the counters (12 %), not the node facts' last meaningful change (90 %).
    expect(by.get("host:kvm1")).toEqual([12, 50, 10, 2_000, 1_000]);
    expect(by.get("instance:web1")).toEqual([1, 4, 2048, 50, 100, 0, 0, 107374182.4, 2]);
    expect(by.get("instance:db1")).toEqual([0, 2, 2048, 0, 0, 0, 0, 0, 0]);
    // Rates that went stale are gaps, and the host's CPU falls back to its node facts.
    const later = new Map(sampleFleet([kvm1], T0 + RATE_STALE_MS + 1, r).map((s) => [s.object, s.values]));
    expect(later.get("host:kvm1")).toEqual([90, 50, 10, null, null]);
    expect(later.get("instance:web1")!.slice(3)).toEqual([null, null, null, null, null, null]);
  });

  it("a datastore's I/O comes from the VIP holder's counters", () => {
    const nfs = (name: string, held: boolean): HostRecord => {
      const h = hypervisor(name);
      h.inventory.virt = null;
      h.inventory.storage = { mounts: [], nfs: { serverRunning: true, exports: [], datastores: [{ path: "/instance", totalBytes: 100, usedBytes: 50 }], vip: { address: "10.0.0.100", heldHere: held }, keepalivedState: held ? "master" : "backup" } };
      return h;
    };
    const r = new CounterRates();
    for (const [t, n] of [[T0 - 10_000, 0], [T0, 1]] as const) {
      r.push("nfs1", push(null, [], [], [{ path: "/instance", readBytes: n * 100_000, writeBytes: n * 10_000 }]), t);
      r.push("nfs2", push(null, [], [], [{ path: "/instance", readBytes: n * 7, writeBytes: n * 7 }]), t);
    }
    const by = new Map(sampleFleet([nfs("nfs2", false), nfs("nfs1", true)], T0, r).map((s) => [s.object, s.values]));
    expect(by.get("datastore:/instance")).toEqual([50, 0, 10_000, 1_000]);
  });

  it("a service's CPU is the mean of the online nodes running its tasks (named by id or hostname)", () => {
    const manager = swarmVm("swarm1", 10);
    manager.inventory.swarm = {
      nodeId: "n1",
      role: "manager",
      clusterId: "c",
      nodes: [
        { id: "n1", hostname: "swarm1", role: "manager", availability: "active", status: "ready", leader: true, engineVersion: null, address: null },
        { id: "n2", hostname: "swarm2", role: "worker", availability: "active", status: "ready", leader: false, engineVersion: null, address: null },
        { id: "n3", hostname: "swarm3", role: "worker", availability: "active", status: "ready", leader: false, engineVersion: null, address: null },
      ],
      services: [
        { id: "s1", name: "web", mode: "replicated", replicasDesired: 3, replicasRunning: 2, image: "nginx", ports: [], tenant: null, stack: null, updatedAt: null },
        { id: "s2", name: "idle", mode: "replicated", replicasDesired: 0, replicasRunning: 0, image: "nginx", ports: [], tenant: null, stack: null, updatedAt: null },
      ],
      tasks: [
        { id: "t1", serviceId: "s1", serviceName: "web", slot: 1, node: "n2", desiredState: "running", state: "running", error: null },
        { id: "t2", serviceId: "s1", serviceName: "web", slot: 2, node: "swarm3", desiredState: "running", state: "running", error: null },
        { id: "t3", serviceId: "s1", serviceName: "web", slot: 3, node: "n1", desiredState: "running", state: "pending", error: null },
      ],
    };
    const by = new Map(sampleFleet([manager, swarmVm("swarm2", 30), swarmVm("swarm3", 50)], T0).map((s) => [s.object, s.values]));
    expect(by.get("service:web")).toEqual([2, 3, 40]);
    expect(by.get("service:idle")).toEqual([0, 0, null]);
  });
});

describe("parseStatsCounters (the hand-written check of every host's counters push)", () => {
  const valid = () => ({
    cpu: { busy: 10, total: 100 },
    interfaces: [{ name: "eth0", kind: "physical", master: null, rxBytes: 1, txBytes: 2 }, { name: "br0", kind: "bridge", master: "ovs-system", rxBytes: 0, txBytes: 0 }],
    domains: [{ name: "web-1", cpuTimeNs: 5, netRxBytes: 1, netTxBytes: 2, diskReadBytes: 3, diskWriteBytes: 4, memoryRssKiB: 2048 }],
    datastores: [{ path: "/srv/nfs/instance", readBytes: 1, writeBytes: 2 }],
  });
  // Where a hostile agent may put something else, and what it may put there.
  const paths: (string | number)[][] = [
    [], ["cpu"], ["cpu", "busy"], ["cpu", "total"], ["interfaces"], ["interfaces", 0], ["interfaces", 0, "name"], ["interfaces", 0, "kind"], ["interfaces", 1, "master"],
    ["interfaces", 0, "rxBytes"], ["interfaces", 1, "txBytes"], ["domains"], ["domains", 0], ["domains", 0, "name"], ["domains", 0, "cpuTimeNs"], ["domains", 0, "netRxBytes"],
    ["domains", 0, "netTxBytes"], ["domains", 0, "diskReadBytes"], ["domains", 0, "diskWriteBytes"], ["domains", 0, "memoryRssKiB"], ["datastores"], ["datastores", 0],
    ["datastores", 0, "path"], ["datastores", 0, "readBytes"], ["datastores", 0, "writeBytes"], ["extra"], ["domains", 0, "extra"],
  ];
  const DELETE = Symbol("delete");
  const values: unknown[] = [
    DELETE, null, 0, -0, -1, 1.5, 2 ** 53, 2 ** 53 - 1, Number.NaN, Number.POSITIVE_INFINITY, "1", "", "x".repeat(256), "x".repeat(257), "y".repeat(4097), true, [], {}, [1],
    "physical", "bogus", "veth", { busy: 1, total: 2 }, Array.from({ length: 65 }, (_, i) => ({ name: `e${i}`, kind: "other", master: null, rxBytes: 0, txBytes: 0 })),
    Array.from({ length: STATS_LIMITS.domains + 1 }, () => valid().domains[0]), Object.create(null),
  ];
  const mutate = (base: ReturnType<typeof valid>, path: (string | number)[], v: unknown): unknown => {
    if (!path.length) return v === DELETE ? undefined : v;
    let o: Record<string | number, unknown> = base as unknown as Record<string, unknown>;
    for (const k of path.slice(0, -1)) {
      o = o[k] as Record<string | number, unknown>;
      // An earlier change put something else there: this one has nowhere to go.
      if (typeof o !== "object" || o === null) return base;
    }
    const last = path.at(-1)!;
    if (v === DELETE) delete o[last];
    else o[last] = v;
    return base;
  };

  it("accepts and refuses exactly what the schema does, with the same result", () => {
    let accepted = 0;
    let cases = 0;
    const check = (input: unknown) => {
      cases++;
      const zod = StatsCounters.safeParse(input);
      const fast = parseStatsCounters(input);
      expect(fast !== null, JSON.stringify(input)?.slice(0, 300)).toBe(zod.success);
      if (zod.success) {
        accepted++;
        expect(fast).toEqual(zod.data);
        expect(Object.is(fast!.cpu?.busy, zod.data.cpu?.busy)).toBe(true);
      }
    };
    check(valid());
    for (const path of paths) for (const v of values) check(mutate(valid(), path, v));
    // Two changes at once, chosen by a fixed sequence.
    let seed = 7;
    const next = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 2_000; i++) {
      const input = mutate(valid(), paths[1 + next(paths.length - 1)]!, values[next(values.length)]);
      if (input && typeof input === "object") check(mutate(input as ReturnType<typeof valid>, paths[1 + next(paths.length - 1)]!, values[next(values.length)]));
    }
    // Both sides were exercised.
    expect(accepted).toBeGreaterThan(50);
    expect(cases - accepted).toBeGreaterThan(500);
  });

  it("fills the defaults the schema fills and drops unknown keys", () => {
    const push = { cpu: null, interfaces: [], domains: [{ name: "a", cpuTimeNs: 1, netRxBytes: 1, netTxBytes: 1, diskReadBytes: 1, diskWriteBytes: 1, junk: "x" }], junk: 1 };
    expect(parseStatsCounters(push)).toEqual({ cpu: null, interfaces: [], domains: [{ name: "a", cpuTimeNs: 1, netRxBytes: 1, netTxBytes: 1, diskReadBytes: 1, diskWriteBytes: 1, memoryRssKiB: null }], datastores: [] });
  });
});
