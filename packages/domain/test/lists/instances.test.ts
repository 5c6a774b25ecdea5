import { describe, expect, it } from "vitest";
import {
  INSTANCE_SORTS,
  InstanceIndex,
  InstanceListQuery,
  compareInstances,
  instancesOf,
  matchesInstance,
  pageOf,
  type HostRecord,
  type InstanceListQuery as Query,
  type InstanceView,
  type TenantInfo,
} from "../../src/index.js";
import { hypervisor, vm } from "../fixtures.js";

const TENANTS = ["acme", "globex", "initech", "umbrella"];
const directory = new Map<string, TenantInfo>(TENANTS.map((slug, i) => [slug, { slug, name: slug, vni: 5001 + i }]));
const STATES = ["running", "shutoff", "paused", "crashed"] as const;

/** 2,000 hypervisors × 10 VMs, varied enough that every filter and sort has ties and misses. */
function fleet(hosts = 2_000, perHost = 10): HostRecord[] {
  return Array.from({ length: hosts }, (_, h) => {
    const name = `kvm${String(h).padStart(4, "0")}`;
    const domains = Array.from({ length: perHost }, (_, v) => {
      const n = h * perHost + v;
      const tenant = n % 7 === 0 ? null : TENANTS[n % TENANTS.length]!;
      const vname = `${tenant ?? "infra"}-vm${n}`;
      return vm({
        name: vname,
        uuid: `u-${n}`,
        state: STATES[n % STATES.length]!,
        tenant,
        vcpus: 1 + (n % 8),
        memoryMiB: 512 * (1 + (n % 5)),
        role: n % 11 === 0 ? "swarm-manager" : null,
        disks: [{ target: "vda", path: `/instance/${vname}.qcow2`, pool: "instance", capacityBytes: 1e10 }],
        nics: [
          {
            mac: `52:54:00:${((n >> 16) & 255).toString(16).padStart(2, "0")}:${((n >> 8) & 255).toString(16).padStart(2, "0")}:${(n & 255).toString(16).padStart(2, "0")}`,
            bridge: "br-ovs",
            bridgeType: "ovs",
            device: `vnet${v}`,
            vlan: n % 5 === 0 ? null : 10 + (n % 30),
            model: "virtio",
            ipAddresses: n % 3 === 0 ? [] : [`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`],
          },
        ],
      });
    });
    const host = hypervisor(name, domains);
    return h % 97 === 0 ? { ...host, connection: { ...host.connection, state: "unreachable" } } : host;
  });
}

/**
 * The brute force: every view (built once per fleet), each filtered, all sorted, sliced. The
 * order is total (name, then host), so the fleet's views are sorted once per order and filtered
 * in it: the same rows in the same order as sorting each answer, without 20,000-row sorts per query.
 */
const viewsOf = new WeakMap<readonly HostRecord[], { views: InstanceView[]; sorted: Map<string, InstanceView[]> }>();
function brute(hosts: readonly HostRecord[], input: Query, tenant: string | null, hostLabel = (h: string) => h) {
  const q = InstanceListQuery.parse(input);
  if (!viewsOf.has(hosts)) viewsOf.set(hosts, { views: hosts.flatMap((h) => instancesOf(h, directory)), sorted: new Map() });
  const fleetViews = viewsOf.get(hosts)!;
  const key = `${q.sort}:${q.desc}`;
  if (!fleetViews.sorted.has(key)) fleetViews.sorted.set(key, [...fleetViews.views].sort(compareInstances(q.sort, q.desc)));
  const all = fleetViews.views.filter((i) => tenant === null || i.tenant === tenant);
  const matching = fleetViews.sorted.get(key)!.filter((i) => (tenant === null || i.tenant === tenant) && matchesInstance(i, q, hostLabel));
  return { items: matching.slice(q.offset, q.offset + q.limit), total: matching.length, all: all.length };
}

const names = (rows: readonly InstanceView[]) => rows.map((i) => `${i.host}/${i.name}`);

describe("instance list: filter, sort and page from memory", () => {
  const hosts = fleet();
  const index = new InstanceIndex();
  index.refresh(hosts, directory);

  const queries: Query[] = [
    {},
    { offset: 100 },
    { offset: 19_950, limit: 100 },
    { q: "acme" },
    { q: "ACME-VM1" },
    { q: "10.0.3." },
    { q: "52:54:00:00:0a" },
    { q: "17" }, // a VLAN number, and part of names and addresses
    { q: "5003" }, // a VNI
    { q: "kvm0042" }, // a host name
    { q: "/instance/globex" },
    { q: "swarm-manager" },
    { q: "no-such-thing" },
    { state: "running" },
    { state: "unknown" }, // VMs of offline hosts
    { tenant: "-" },
    { tenant: "initech", state: "paused", sort: "memoryMiB", desc: true },
    { host: "kvm1999" },
    { host: "kvm0500", q: "acme" },
    { sort: "vlan", offset: 300 },
    { sort: "vni", desc: true, offset: 5_000 },
    { sort: "host", desc: true, limit: 500 },
    { sort: "state", q: "globex", offset: 200 },
    { sort: "disk", limit: 1 },
    { sort: "tenant", offset: 25_000 }, // past the end: empty page, full count
  ];

  it.each(queries.map((q) => [JSON.stringify(q), q] as const))("staff %s: the page and counts a brute-force filter gives", (_, q) => {
    const page = index.query(q, { tenant: null });
    const expected = brute(hosts, q, null);
    expect(page.total).toBe(expected.total);
    expect(page.all).toBe(20_000);
    expect(names(page.items)).toEqual(names(expected.items));
    // Views are built for the page only (the index keeps no view per row): the same as the brute force's.
    expect(page.items).toEqual(expected.items);
  });

  it("every sort column, both directions: pages neither overlap nor skip rows", () => {
    // 2,000 rows in 40 pages per order (the same seams as 20,000 in pages of 500, a tenth of the views to build).
    const local = new InstanceIndex();
    local.refresh(fleet(200, 10), directory);
    for (const sort of INSTANCE_SORTS)
      for (const desc of [false, true]) {
        const seen = new Set<string>();
        for (let offset = 0; offset < 2_000; offset += 50) for (const i of local.query({ sort, desc, offset, limit: 50 }, { tenant: null }).items) seen.add(`${i.host}/${i.name}`);
        expect(seen.size).toBe(2_000);
      }
  });

  it("a tenant sees only its own rows, counts included, whatever it filters by", () => {
    const label = (h: string) => `h-${h.length}${h.slice(-2)}`; // any opaque token
    for (const q of [{}, { tenant: "globex" }, { q: "globex" }, { q: "kvm0001" }, { host: "kvm0001" }, { host: label("kvm0001") }, { sort: "host" as const, offset: 50 }]) {
      const page = index.query(q, { tenant: "acme", hostLabel: label });
      const expected = brute(hosts, q, "acme", label);
      expect(page.total).toBe(expected.total);
      expect(page.all).toBe(expected.all);
      expect(names(page.items)).toEqual(names(expected.items));
      expect(page.items.every((i) => i.tenant === "acme")).toBe(true);
      expect(page.tenants).toEqual(["acme"]);
      // Its host menu holds tokens, never a host name.
      expect(page.hosts?.some((h) => h.startsWith("kvm"))).toBe(false);
    }
    // A host name is no search term for a tenant: it would tell which hosts run its VMs.
    expect(index.query({ q: "kvm0001" }, { tenant: "acme", hostLabel: label }).total).toBe(0);
    expect(index.query({ host: "kvm0001" }, { tenant: "acme", hostLabel: label }).total).toBe(0);
  });

  it("facets: tenants always, hosts only while a menu of them is usable", () => {
    const page = index.query({}, { tenant: null });
    expect(page.tenants).toEqual(["-", ...TENANTS]);
    expect(page.hosts).toBeNull();
    const small = new InstanceIndex();
    small.refresh(fleet(3, 2), directory);
    expect(small.query({}, { tenant: null }).hosts).toEqual(["kvm0000", "kvm0001", "kvm0002"]);
  });

  it("follows the fleet: a changed host's rows are rebuilt, others kept, a removed host's rows go", () => {
    const local = new InstanceIndex();
    const list = fleet(20, 10);
    local.refresh(list, directory);
    expect(local.query({ q: "renamed-vm" }, { tenant: null }).total).toBe(0);
    const changed = { ...list[3]!, inventory: { ...list[3]!.inventory, virt: { hypervisor: "QEMU", domains: [vm({ name: "renamed-vm", tenant: "acme" })] } } };
    local.refresh([...list.slice(0, 3), changed, ...list.slice(5)], directory);
    expect(local.query({ q: "renamed-vm" }, { tenant: null }).total).toBe(1);
    expect(local.size()).toBe(200 - 10 + 1 - 10); // host 3: 10 VMs became 1; host 4 left
    // A host going offline turns its VMs' state to unknown without a new inventory.
    const offline = list.map((h, i) => (i === 0 ? { ...h, connection: { ...h.connection, state: "unreachable" as const } } : h));
    local.refresh(offline, directory);
    expect(local.query({ host: list[0]!.name, state: "unknown" }, { tenant: null }).total).toBe(10);
    // A tenant's VNI changing reaches every row.
    local.refresh(offline, new Map([...directory].map(([k, v]) => [k, { ...v, vni: v.vni! + 100 }])));
    expect(local.query({ q: "5101" }, { tenant: null }).total).toBe(local.query({ tenant: "acme" }, { tenant: null }).total);
    expect(local.query({ q: "5001" }, { tenant: null }).total).toBe(0);
  });

  it("after changes (a host twice between queries, one gone, one new) every kept order still equals a fresh sort", () => {
    const local = new InstanceIndex();
    let list = fleet(50, 10);
    local.refresh(list, directory);
    for (const sort of INSTANCE_SORTS) local.query({ sort, desc: sort === "vni" }, { tenant: null }); // orders cached
    const withVms = (h: HostRecord, domains: ReturnType<typeof vm>[]) => ({ ...h, inventory: { ...h.inventory, virt: { hypervisor: "QEMU", domains } } });
    list = list.map((h, i) => (i === 7 ? withVms(h, [vm({ name: "aaa-moved-in", tenant: "globex", memoryMiB: 99_000 })]) : h));
    local.refresh(list, directory);
    list = list.map((h, i) => (i === 7 ? withVms(h, [vm({ name: "zzz-second-change", tenant: null, vcpus: 64 })]) : h));
    list = [...list.filter((_, i) => i !== 20), withVms(hypervisor("kvm-new"), [vm({ name: "mmm-new-host", tenant: "acme" })])];
    local.refresh(list, directory);
    for (const sort of INSTANCE_SORTS)
      for (const desc of [false, true]) {
        const page = local.query({ sort, desc, limit: 500 }, { tenant: null });
        const expected = brute(list, { sort, desc, limit: 500 }, null);
        expect(page.total).toBe(expected.total);
        expect(names(page.items)).toEqual(names(expected.items));
      }
    expect(local.query({ q: "aaa-moved-in" }, { tenant: null }).total).toBe(0);
  });

  it("a filter asked again is answered from its kept matches until the fleet changes; at most 8 filters are kept", () => {
    const local = new InstanceIndex();
    let list = fleet(200, 10);
    local.refresh(list, directory);
    let labels = 0;
    const label = (h: string) => (labels++, `t-${h}`);
    const q = { host: "t-kvm0010", q: "acme" };
    const ask = (input: Query) => local.query(input, { tenant: "acme", hostLabel: label });
    expect(names(ask(q).items)).toEqual(names(brute(list, q, "acme", label).items));
    expect(labels).toBeGreaterThan(0); // the first ask walks the rows
    labels = 0;
    for (const offset of [0, 1, 2]) {
      const page = ask({ ...q, offset, limit: 1 });
      expect(names(page.items)).toEqual(names(brute(list, { ...q, offset, limit: 1 }, "acme", (h) => `t-${h}`).items));
    }
    expect(labels).toBe(0); // the same filter at other offsets: a slice of the kept matches
    // Another host label (another viewer kind) never reuses them.
    const other = (h: string) => `o-${h}`;
    expect(local.query(q, { tenant: "acme", hostLabel: other }).total).toBe(0);
    // A change: host 10's VMs replaced; the same filter now answers the new rows.
    const withVms = (h: HostRecord, domains: ReturnType<typeof vm>[]) => ({ ...h, inventory: { ...h.inventory, virt: { hypervisor: "QEMU", domains } } });
    list = list.map((h, i) => (i === 10 ? withVms(h, [vm({ name: "acme-fresh", tenant: "acme" })]) : h));
    local.refresh(list, directory);
    labels = 0;
    const after = ask(q);
    expect(labels).toBeGreaterThan(0);
    expect(names(after.items)).toEqual(["kvm0010/acme-fresh"]);
    expect(after.total).toBe(brute(list, q, "acme", (h) => `t-${h}`).total);
    // A host gone (and one back) between asks: its rows leave and come back.
    local.refresh(list.filter((_, i) => i !== 10), directory);
    expect(ask(q).total).toBe(0);
    local.refresh(list, directory);
    expect(ask(q).total).toBe(1);
    // Nine other filters push the first out: it walks again, with the same answer.
    for (let n = 0; n < 9; n++) ask({ host: `t-kvm00${20 + n}` });
    labels = 0;
    expect(ask(q).total).toBe(1);
    expect(labels).toBeGreaterThan(0);
    // The eighth most recent is still kept.
    labels = 0;
    ask({ host: "t-kvm0022" });
    expect(labels).toBe(0);
  });

  it("bounds: a page is at most 500 rows, a search at most 200 characters, unknown sorts refused", () => {
    expect(() => index.query({ limit: 501 }, { tenant: null })).toThrow();
    expect(() => index.query({ limit: 0 }, { tenant: null })).toThrow();
    expect(() => index.query({ offset: -1 }, { tenant: null })).toThrow();
    expect(() => index.query({ q: "x".repeat(201) }, { tenant: null })).toThrow();
    expect(() => index.query({ sort: "uuid" as never }, { tenant: null })).toThrow();
  });

  it("pageOf counts every match and keeps only the window", () => {
    expect(pageOf([1, 2, 3, 4, 5, 6], (n) => n % 2 === 0, 1, 1)).toEqual({ items: [4], total: 3 });
    expect(pageOf([1, 2, 3], () => true, 5, 10)).toEqual({ items: [], total: 3 });
  });
});
