import { isIP } from "node:net";
import type { HostRecord } from "@nimbus/domain";
import { maskHost } from "./projections.js";

/**
 * What a tenant member must never read: the fleet's host names, and every IP address that is
 * not one of the tenant's own VMs. Host names are a deny list (a name is only a word); addresses
 * are denied by default, so an address no inventory lists (a libvirt URI in stderr, an SSH
 * error's peer) is hidden too.
 */
export interface TenantSecrets {
  /** Lower-cased host name (fleet name, node hostname, swarm node hostname) → the fleet name its token comes from. */
  hostNames: ReadonlyMap<string, string>;
  /** Most '.', '-' or '_' separated words in one host name: bounds the work per word run. */
  maxNameWords: number;
  /** Bare addresses of the tenant's own VMs, lower-cased: the only addresses it may read. */
  ownAddresses: ReadonlySet<string>;
  /**
   * Names of the tenant's own VMs, services and stacks, lower-cased, that are not host names
   * themselves: "acme-backup" stays whole on a fleet with a host called "backup".
   */
  ownNames: ReadonlySet<string>;
}

interface TenantThings {
  addresses: string[];
  names: string[];
}

interface HostContribution {
  names: string[];
  byTenant: Map<string, TenantThings>;
}

// Host records are replaced, never changed in place: what one contributes is computed once.
const contributions = new WeakMap<HostRecord, HostContribution>();

function contributionOf(h: HostRecord): HostContribution {
  let c = contributions.get(h);
  if (c) return c;
  const names = [h.name, h.inventory.node?.hostname, ...(h.inventory.swarm?.nodes ?? []).map((n) => n.hostname)];
  const byTenant = new Map<string, TenantThings>();
  const of = (tenant: string) => byTenant.get(tenant) ?? byTenant.set(tenant, { addresses: [], names: [] }).get(tenant)!;
  for (const d of h.inventory.virt?.domains ?? []) {
    if (!d.tenant) continue;
    const own = of(d.tenant);
    own.names.push(d.name);
    for (const nic of d.nics) own.addresses.push(...nic.ipAddresses.map(bareAddress));
  }
  for (const svc of h.inventory.swarm?.services ?? []) if (svc.tenant) of(svc.tenant).names.push(...[svc.name, svc.stack].filter((n): n is string => !!n));
  c = { names: names.filter((n): n is string => !!n), byTenant };
  contributions.set(h, c);
  return c;
}

// The last secrets per tenant, with the records they came from: a burst of live events (one per
// host of a flush) reuses them instead of walking the fleet again for each.
const lastByTenant = new Map<string, { records: readonly HostRecord[]; secrets: TenantSecrets }>();

export function tenantSecrets(hosts: readonly HostRecord[], tenant: string | null): TenantSecrets {
  const last = lastByTenant.get(tenant ?? "");
  if (last && last.records.length === hosts.length && last.records.every((r, i) => r === hosts[i])) return last.secrets;
  const secrets = computeSecrets(hosts, tenant);
  lastByTenant.set(tenant ?? "", { records: [...hosts], secrets });
  return secrets;
}

function computeSecrets(hosts: readonly HostRecord[], tenant: string | null): TenantSecrets {
  const hostNames = new Map<string, string>();
  const ownAddresses = new Set<string>();
  const ownNames = new Set<string>();
  let maxNameWords = 1;
  for (const h of hosts) {
    const c = contributionOf(h);
    for (const n of c.names) {
      hostNames.set(n.toLowerCase(), h.name);
      maxNameWords = Math.max(maxNameWords, n.split(SEPARATOR).length);
    }
    const own = tenant ? c.byTenant.get(tenant) : undefined;
    for (const a of own?.addresses ?? []) ownAddresses.add(a);
    for (const n of own?.names ?? []) ownNames.add(n.toLowerCase());
  }
  for (const n of ownNames) if (hostNames.has(n)) ownNames.delete(n);
  return { hostNames, maxNameWords, ownAddresses, ownNames };
}

const SEPARATOR = /[._-]/;
const bareAddress = (a: string) => a.replace(/\/\d+$/, "").replace(/%.*$/, "").toLowerCase();

/** What stands in for a host name; `keep` lists words the tenant sent itself (echoed back unchanged). */
export interface MaskOptions {
  keep?: ReadonlySet<string>;
}

export const HIDDEN_ADDRESS = "an address";

// IPv6 (with an embedded IPv4, a zone, a prefix) or IPv4 (with a prefix), not inside a longer word.
// Candidates are confirmed with isIP: a MAC or a clock time looks alike but is not an address.
const ADDRESS = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?(?:%[\w.-]+)?(?:\/\d{1,3})?|(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?(?![\w]|\.\d)/g;
// Runs of words joined by '.', '-' or '_': a host name is one or more whole words of a run
// ("kvm1" in "vx5001-kvm1", "kvm1.dc1" in "kvm1.dc1.example"), never part of a word ("kvm10").
const WORD_RUN = /[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*/g;

function maskAddresses(text: string, s: TenantSecrets): string {
  return text.replace(ADDRESS, (candidate) => {
    const bare = bareAddress(candidate);
    if (!isIP(bare) || s.ownAddresses.has(bare)) return candidate;
    return HIDDEN_ADDRESS;
  });
}

function maskNames(text: string, s: TenantSecrets, keep: ReadonlySet<string> | undefined): string {
  return text.replace(WORD_RUN, (run) => {
    if (s.ownNames.has(run.toLowerCase())) return run;
    const parts = run.split(/([._-])/); // words at even indexes, separators between them
    let out = "";
    let i = 0;
    while (i < parts.length) {
      let matched = -1;
      let host = "";
      for (let j = Math.min(parts.length - 1, i + 2 * (s.maxNameWords - 1)); j >= i; j -= 2) {
        const candidate = parts.slice(i, j + 1).join("");
        const found = s.hostNames.get(candidate.toLowerCase());
        if (found && !keep?.has(candidate.toLowerCase())) {
          matched = j;
          host = found;
          break;
        }
      }
      if (matched >= 0) {
        out += maskHost(host);
        i = matched + 1;
      } else out += parts[i++];
      if (i < parts.length) out += parts[i++];
    }
    return out;
  });
}

/** One string as a tenant may read it: host names become the host's opaque token, foreign addresses "an address". */
export function maskTextForTenant(text: string, s: TenantSecrets, opts: MaskOptions = {}): string {
  return maskNames(maskAddresses(text, s), s, opts.keep);
}

/**
 * Every string of a plain value (object keys too), as a tenant may read it. The one masking
 * function at the tenant boundary: query results, errors and live events all pass through it.
 */
export function maskForTenant<T>(value: T, s: TenantSecrets, opts: MaskOptions = {}): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return maskTextForTenant(v, s, opts);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return v;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[maskTextForTenant(k, s, opts)] = walk(x);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}
