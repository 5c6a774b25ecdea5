import { z } from "zod";
import type { HostRecord } from "../fleet.js";
import type { Domain } from "../inventory.js";
import { instanceView, observedState, type InstanceView, type TenantInfo, type ViewHost } from "../views.js";
import { MAX_SEARCH, PageWindow, compareValues, type Page } from "./page.js";

export const INSTANCE_SORTS = ["name", "host", "tenant", "state", "vcpus", "memoryMiB", "vlan", "vni", "disk"] as const;
export type InstanceSort = (typeof INSTANCE_SORTS)[number];

/**
 * One page of the instance list: filters as the URL carries them ("" = any), a sort column and
 * a window. Free text matches name, host, tenant, role, IP, MAC and disk path; a number also
 * matches a VLAN or VNI exactly.
 */
export const InstanceListQuery = z.object({
  q: z.string().max(MAX_SEARCH).default(""),
  state: z.string().max(32).default(""),
  host: z.string().max(253).default(""),
  tenant: z.string().max(64).default(""),
  sort: z.enum(INSTANCE_SORTS).default("name"),
  desc: z.boolean().default(false),
  ...PageWindow,
});
export type InstanceListQuery = z.input<typeof InstanceListQuery>;
type Query = z.output<typeof InstanceListQuery>;

export interface InstancePage extends Page<InstanceView> {
  /** Tenants of the instances the viewer may see ("-" for infrastructure), for the filter menu. */
  tenants: string[];
  /** Hosts of those instances, or null when there are too many to offer as a menu (search names them instead). */
  hosts: string[] | null;
}

/** Filters whose matches the index keeps at once (4 bytes a match: at most ~80 KB each at 20,000 VMs). */
const MATCH_CACHE = 8;
const sameName: HostLabel = (h) => h;

/** Beyond this many hosts a menu is no help: the search field matches host names. */
export const HOST_MENU_MAX = 300;

/** How a viewer sees a row's host: its name for staff, an opaque token for a tenant. */
export type HostLabel = (host: string) => string;

const sortValue: Record<InstanceSort, (i: InstanceView) => string | number> = {
  name: (i) => i.name,
  host: (i) => i.host,
  tenant: (i) => i.tenant ?? "",
  state: (i) => i.state,
  vcpus: (i) => i.vcpus,
  memoryMiB: (i) => i.memoryMiB,
  vlan: (i) => i.vlans[0] ?? -1,
  vni: (i) => i.vni ?? -1,
  disk: (i) => i.diskPaths[0] ?? "",
};

/** Rows of equal sort value keep a fixed order (name, then host): pages never overlap or skip. */
export function compareInstances(sort: InstanceSort, desc: boolean): (a: InstanceView, b: InstanceView) => number {
  const value = sortValue[sort];
  return (a, b) => {
    const c = compareValues(value(a), value(b));
    if (c !== 0) return desc ? -c : c;
    return compareValues(a.name, b.name) || compareValues(a.host, b.host);
  };
}

/** The text a search looks in, host apart (it depends on who looks). */
type Searched = Pick<InstanceView, "name" | "tenant" | "role" | "ipAddresses" | "macs" | "diskPaths">;
const haystackOf = (i: Searched) => [i.name, i.tenant ?? "", i.role ?? "", ...i.ipAddresses, ...i.macs, ...i.diskPaths].join("\n").toLowerCase();

/**
 * Whether an instance matches the filters, as the viewer sees it. The reference: the index
 * below answers exactly what filtering every row with this would (tested at 20,000 VMs), and the
 * browser uses it to decide whether a pushed row may belong to the page it shows.
 */
export function matchesInstance(i: InstanceView, f: Pick<Query, "q" | "state" | "host" | "tenant">, hostLabel: HostLabel = (h) => h): boolean {
  if (f.state && i.state !== f.state) return false;
  if (f.host && hostLabel(i.host) !== f.host) return false;
  if (f.tenant && (i.tenant ?? "-") !== f.tenant) return false;
  const q = f.q.trim().toLowerCase();
  if (!q) return true;
  if (/^\d+$/.test(q) && (i.vlans.includes(Number(q)) || i.vni === Number(q))) return true;
  return haystackOf(i).includes(q) || hostLabel(i.host).toLowerCase().includes(q);
}

/**
 * One row of the index: what it sorts and filters by, and the domain its view is built from when
 * a page shows it (up to 500 a query). Views of the whole fleet were 14.5 MB at 20,000 VMs (their
 * own lists of addresses, MACs, disks, bridges and VLANs); an entry shares the host's domain.
 */
interface Entry {
  domain: Domain;
  host: ViewHost;
  /** As the viewer sees it (`observedState`). */
  state: string;
  vni: number | null;
  /** The lowest VLAN of its NICs (a view's `vlans[0]`), -1 without one. */
  vlan: number;
  haystack: string;
}
interface HostSlot {
  virt: unknown;
  state: string;
  entries: Entry[];
  round: number;
}

const entryValue: Record<InstanceSort, (e: Entry) => string | number> = {
  name: (e) => e.domain.name,
  host: (e) => e.host.name,
  tenant: (e) => e.domain.tenant ?? "",
  state: (e) => e.state,
  vcpus: (e) => e.domain.vcpus,
  memoryMiB: (e) => e.domain.memoryMiB,
  vlan: (e) => e.vlan,
  vni: (e) => e.vni ?? -1,
  disk: (e) => e.domain.disks[0]?.path ?? "",
};

/** `compareInstances` on entries: the same values, the same tie-break (name, then host). */
function compareEntries(sort: InstanceSort, desc: boolean): (a: Entry, b: Entry) => number {
  const value = entryValue[sort];
  return (a, b) => {
    const c = compareValues(value(a), value(b));
    if (c !== 0) return desc ? -c : c;
    return compareValues(a.domain.name, b.domain.name) || compareValues(a.host.name, b.host.name);
  };
}

function entryOf(host: ViewHost, domain: Domain, directory: ReadonlyMap<string, TenantInfo>): Entry {
  let vlan = -1;
  for (const n of domain.nics) if (n.vlan !== null && (vlan === -1 || n.vlan < vlan)) vlan = n.vlan;
  const vni = domain.tenant ? (directory.get(domain.tenant)?.vni ?? null) : null;
  const { name, tenant, role, nics, disks } = domain;
  const haystack = haystackOf({ name, tenant, role, ipAddresses: nics.flatMap((n) => n.ipAddresses), macs: nics.map((n) => n.mac), diskPaths: disks.map((k) => k.path) });
  return { domain, host, state: observedState(host.connection.state, domain.state), vni, vlan, haystack };
}

/**
 * Every instance of the fleet, answered from memory. A host's rows are rebuilt only when its
 * inventory or connection changed (inventory sections are replaced, never mutated, so identity
 * says it); orders per sort column are kept until something changed. One page with any filter
 * is then one pass over pre-lowered text and a slice: no per-request view building or sorting.
 */
export class InstanceIndex {
  private slots = new Map<string, HostSlot>();
  private directoryKey = "";
  private version = 0;
  private builtVersion = -1;
  private rows: Entry[] = [];
  private orders = new Map<string, Entry[]>();
  private facets: { tenants: string[]; hosts: string[] } | null = null;
  /** Changes since the orders were last brought up to date: applied as a delta, not a re-sort of the fleet. */
  private removed = new Set<Entry>();
  private added: Entry[] = [];
  private rebuild = true;
  private directory: ReadonlyMap<string, TenantInfo> = new Map();
  /**
   * The matches of the last few filters (viewer, filters, sort) as positions in their kept order,
   * until anything changes: a browser scrolling a filtered list asks the same filter at each
   * offset, and several consoles open on one list ask the same; a page is then a slice, not a walk
   * of the fleet (3-4 ms at 20,000 VMs on a busy machine). 4 bytes a match, at most MATCH_CACHE filters.
   */
  private matches = new Map<string, { label: HostLabel; at: Int32Array }>();
  /** A tenant's row count and menus, until anything changes (at most MATCH_CACHE tenants). */
  private viewers = new Map<string, { label: HostLabel; all: number; tenants: string[]; hosts: string[] }>();
  /** The refresh that last saw each host (hosts missing from a refresh have left). */
  private round = 0;

  /** Bring the index up to date with the fleet; cheap when nothing changed (an identity check per host). */
  refresh(hosts: readonly HostRecord[], directory: ReadonlyMap<string, TenantInfo>): void {
    this.directory = directory;
    const dirKey = [...directory.values()].map((t) => `${t.slug}:${t.vni ?? ""}`).join(",");
    if (dirKey !== this.directoryKey) {
      this.directoryKey = dirKey;
      this.slots.clear();
      this.rebuild = true;
      this.version++;
    }
    const round = ++this.round;
    let seen = 0;
    for (const host of hosts) {
      const slot = this.slots.get(host.name);
      if (slot && slot.round !== round) seen++;
      const virt = host.inventory.virt ?? null;
      if (slot && slot.virt === virt && slot.state === host.connection.state) {
        slot.round = round;
        continue;
      }
      const stub: ViewHost = { name: host.name, connection: { state: host.connection.state } };
      const entries = (virt?.domains ?? []).map((d) => entryOf(stub, d, directory));
      if (slot) for (const e of slot.entries) this.removed.add(e);
      else seen++;
      this.added.push(...entries);
      this.slots.set(host.name, { virt, state: host.connection.state, entries, round });
      this.version++;
    }
    if (this.slots.size > seen)
      for (const [name, slot] of [...this.slots])
        if (slot.round !== round) {
          for (const e of slot.entries) this.removed.add(e);
          this.slots.delete(name);
          this.version++;
        }
  }

  private ordered(sort: InstanceSort, desc: boolean): Entry[] {
    if (this.builtVersion !== this.version) {
      if (this.rebuild) {
        this.rows = [...this.slots.values()].flatMap((s) => s.entries);
        this.orders.clear();
        this.rebuild = false;
      } else {
        // A few hosts changed: drop their old rows and merge their new ones into each kept order.
        const gone = this.removed;
        const keep = (e: Entry) => !gone.has(e);
        // A host that changed twice since: its first new rows are already gone again.
        const added = gone.size ? this.added.filter(keep) : this.added;
        this.rows = gone.size ? this.rows.filter(keep).concat(added) : this.rows.concat(added);
        for (const [key, order] of this.orders) {
          const [s, d] = key.split(":") as [InstanceSort, string];
          const cmp = compareEntries(s, d === "true");
          const fresh = [...added].sort(cmp);
          this.orders.set(key, mergeSorted(gone.size ? order.filter(keep) : order, fresh, cmp));
        }
      }
      this.removed = new Set();
      this.added = [];
      this.facets = null;
      this.matches.clear();
      this.viewers.clear();
      this.builtVersion = this.version;
    }
    const key = `${sort}:${desc}`;
    let order = this.orders.get(key);
    if (!order) {
      order = [...this.rows].sort(compareEntries(sort, desc));
      this.orders.set(key, order);
    }
    return order;
  }

  /**
   * One page for a viewer. `tenant` null is staff (everything); a tenant sees only its own rows,
   * and matches hosts only by the label it is shown. Items are returned as stored: the caller masks.
   */
  query(input: InstanceListQuery, viewer: { tenant: string | null; hostLabel?: HostLabel }): InstancePage {
    const q = InstanceListQuery.parse(input);
    const order = this.ordered(q.sort, q.desc);
    const hostLabel = viewer.hostLabel ?? sameName;
    const own = viewer.tenant;
    const text = q.q.trim().toLowerCase();
    const number = /^\d+$/.test(text) ? Number(text) : null;
    const keep = (e: Entry): boolean => {
      const tenant = e.domain.tenant;
      if (own !== null && tenant !== own) return false;
      if (q.state && e.state !== q.state) return false;
      if (q.tenant && (tenant ?? "-") !== q.tenant) return false;
      if (q.host && hostLabel(e.host.name) !== q.host) return false;
      if (!text) return true;
      if (number !== null && (e.vni === number || e.domain.nics.some((n) => n.vlan === number))) return true;
      return e.haystack.includes(text) || hostLabel(e.host.name).toLowerCase().includes(text);
    };
    // Staff without a filter: the kept order is the answer, a page at any offset a slice (no walk of the fleet).
    const everything = own === null && !q.state && !q.tenant && !q.host && !text;
    let items: Entry[];
    let total: number;
    if (everything) {
      items = order.slice(q.offset, q.offset + q.limit);
      total = order.length;
    } else {
      const at = this.matching(`${own === null ? "\u0001" : own}\u0000${q.state}\u0000${q.tenant}\u0000${q.host}\u0000${text}\u0000${q.sort}:${q.desc}`, hostLabel, order, keep);
      items = Array.from(at.subarray(q.offset, q.offset + q.limit), (i) => order[i]!);
      total = at.length;
    }
    let all: number;
    let tenants: string[];
    let hosts: string[];
    if (own === null) {
      this.facets ??= facetsOf(this.rows, hostLabel);
      ({ tenants, hosts } = this.facets);
      all = this.rows.length;
    } else ({ tenants, hosts, all } = this.tenantFacets(own, hostLabel));
    return {
      items: items.map((e) => instanceView(e.host, e.domain, this.directory)),
      total,
      all,
      offset: q.offset,
      limit: q.limit,
      tenants,
      hosts: hosts.length > HOST_MENU_MAX ? null : hosts,
    };
  }

  private tenantFacets(own: string, label: HostLabel) {
    let v = this.viewers.get(own);
    if (!v || v.label !== label) {
      const visible = this.rows.filter((e) => e.domain.tenant === own);
      v = { label, all: visible.length, ...facetsOf(visible, label) };
      if (this.viewers.size >= MATCH_CACHE) this.viewers.delete(this.viewers.keys().next().value!);
      this.viewers.set(own, v);
    }
    return v;
  }

  /** Positions in `order` of the rows `keep` accepts, from the cache while nothing changed. */
  private matching(key: string, label: HostLabel, order: readonly Entry[], keep: (e: Entry) => boolean): Int32Array {
    const hit = this.matches.get(key);
    if (hit && hit.label === label) {
      // Most recently used last: the oldest goes first when the cache is full.
      this.matches.delete(key);
      this.matches.set(key, hit);
      return hit.at;
    }
    const found: number[] = [];
    for (let i = 0; i < order.length; i++) if (keep(order[i]!)) found.push(i);
    const at = Int32Array.from(found);
    if (this.matches.size >= MATCH_CACHE) this.matches.delete(this.matches.keys().next().value!);
    this.matches.set(key, { label, at });
    return at;
  }

  /** Every instance as staff sees it (for tests and callers that need the fleet). */
  size(): number {
    this.ordered("name", false);
    return this.rows.length;
  }
}

/** Two sorted runs into one (the kept order and a handful of changed rows). */
function mergeSorted<T>(a: readonly T[], b: readonly T[], cmp: (x: T, y: T) => number): T[] {
  if (!b.length) return a as T[];
  const out: T[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = cmp(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

function facetsOf(rows: readonly Entry[], hostLabel: HostLabel): { tenants: string[]; hosts: string[] } {
  const tenants = new Set<string>();
  const hosts = new Set<string>();
  for (const e of rows) {
    tenants.add(e.domain.tenant ?? "-");
    hosts.add(hostLabel(e.host.name));
  }
  return { tenants: [...tenants].sort(), hosts: [...hosts].sort() };
}
