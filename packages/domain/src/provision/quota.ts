import { z } from "zod";
import type { HostRecord } from "../fleet.js";
import { BYTES_PER_GIB } from "./image.js";

/**
 * Per-tenant quotas and the arithmetic the server runs before it records a create. The check
 * itself is pure; running it and recording the create under one lock (so two creates cannot both
 * take the last slot) is the caller's part.
 */
const limit = (what: string, max: number) =>
  z
    .number({ error: `the ${what} limit is a number, or null for unlimited` })
    .int({ error: `the ${what} limit is a whole number` })
    .min(0, { error: `the ${what} limit cannot be negative` })
    .max(max, { error: `the ${what} limit is at most ${max}` })
    .nullable();

/** null = unlimited. */
export const Quota = z.object({
  instances: limit("instances", 100_000),
  vcpus: limit("vCPU", 1_000_000),
  memoryMiB: limit("memory (MiB)", 1_000_000_000),
  diskGiB: limit("disk (GiB)", 100_000_000),
});
export type Quota = z.infer<typeof Quota>;
export const UNLIMITED: Quota = { instances: null, vcpus: null, memoryMiB: null, diskGiB: null };

export type QuotaDimension = keyof Quota;
export type QuotaUsage = Record<QuotaDimension, number>;
export type QuotaNeed = Pick<QuotaUsage, "vcpus" | "memoryMiB" | "diskGiB">;

/** A create recorded but not (yet) in the inventory: it counts against its tenant from the moment it is accepted. */
export interface InFlightCreate extends QuotaNeed {
  name: string;
  tenant: string;
}

/**
 * What a tenant holds: every instance defined on any hypervisor (running or not: a stopped VM
 * keeps its disk and can start again), counted once by name, plus creates still in flight. A
 * disk counts with its virtual size, rounded up to whole GiB.
 */
export function tenantUsage(tenant: string, hosts: readonly HostRecord[], inFlight: readonly InFlightCreate[] = []): QuotaUsage {
  const usage: QuotaUsage = { instances: 0, vcpus: 0, memoryMiB: 0, diskGiB: 0 };
  const seen = new Set<string>();
  for (const h of hosts)
    for (const d of h.inventory.virt?.domains ?? []) {
      if (d.tenant !== tenant || seen.has(d.name)) continue;
      seen.add(d.name);
      usage.instances++;
      usage.vcpus += d.vcpus;
      usage.memoryMiB += d.memoryMiB;
      usage.diskGiB += d.disks.reduce((s, k) => s + Math.ceil((k.capacityBytes ?? 0) / BYTES_PER_GIB), 0);
    }
  for (const c of inFlight) {
    // Once its domain is defined the inventory counts it; counting the create too would charge twice.
    if (c.tenant !== tenant || seen.has(c.name)) continue;
    seen.add(c.name);
    usage.instances++;
    usage.vcpus += c.vcpus;
    usage.memoryMiB += c.memoryMiB;
    usage.diskGiB += c.diskGiB;
  }
  return usage;
}

export interface QuotaExcess {
  dimension: QuotaDimension;
  needs: number;
  used: number;
  limit: number;
  left: number;
  reason: string;
}

const UNITS: Record<QuotaDimension, (n: number) => string> = {
  instances: (n) => `${n} instance${n === 1 ? "" : "s"}`,
  vcpus: (n) => `${n} vCPU`,
  memoryMiB: (n) => `${n} MiB of RAM`,
  diskGiB: (n) => `${n} GiB of disk`,
};
const LEFT: Record<QuotaDimension, (left: number, limit: number) => string> = {
  instances: (left, limit) => `${left} of ${limit} left`,
  vcpus: (left, limit) => `${left} of ${limit} left`,
  memoryMiB: (left, limit) => `${left} of ${limit} MiB left`,
  diskGiB: (left, limit) => `${left} of ${limit} GiB left`,
};

/** Every dimension the request would exceed, each with a reason like "needs 4 vCPU, 2 of 8 left". Empty when it fits. */
export function checkQuota(quota: Quota, usage: QuotaUsage, request: QuotaNeed): QuotaExcess[] {
  const need: QuotaUsage = { instances: 1, vcpus: request.vcpus, memoryMiB: request.memoryMiB, diskGiB: request.diskGiB };
  const out: QuotaExcess[] = [];
  for (const dimension of Object.keys(UNITS) as QuotaDimension[]) {
    const max = quota[dimension];
    if (max === null || usage[dimension] + need[dimension] <= max) continue;
    const left = Math.max(0, max - usage[dimension]);
    out.push({
      dimension,
      needs: need[dimension],
      used: usage[dimension],
      limit: max,
      left,
      reason: `needs ${UNITS[dimension](need[dimension])}, ${LEFT[dimension](left, max)}`,
    });
  }
  return out;
}

/** The refusal as one sentence, or null when nothing is exceeded. */
export const quotaRefusal = (tenant: string, excess: readonly QuotaExcess[]): string | null =>
  excess.length ? `over ${tenant}'s quota: ${excess.map((e) => e.reason).join("; ")}` : null;

/** Usage against quota for a tenant's pages: one row per dimension; percent null when unlimited. */
export function quotaRows(quota: Quota, usage: QuotaUsage): { dimension: QuotaDimension; used: number; limit: number | null; percent: number | null }[] {
  return (Object.keys(UNITS) as QuotaDimension[]).map((dimension) => {
    const max = quota[dimension];
    return { dimension, used: usage[dimension], limit: max, percent: max === null ? null : max === 0 ? 100 : Math.min(100, Math.round((100 * usage[dimension]) / max)) };
  });
}
