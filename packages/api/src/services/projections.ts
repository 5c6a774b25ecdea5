import { createHash, randomBytes } from "node:crypto";
import {
  canSeeTenantObject,
  hostSummary,
  instancesOf,
  swarmOverview,
  type HostNetworkView,
  type HostRecord,
  type InstanceView,
  type Operation,
  type TenantInfo,
  type Viewer,
} from "@nimbus/domain";

/**
 * Per-viewer projections shared by queries and the live channel, so a pushed event always has
 * exactly the shape the matching query returned. Tenant members never see host names: the host
 * of their instances is an opaque per-process token, and whatever else leaves for a tenant
 * (free text included) passes `maskForTenant` at the boundary (tenant-boundary.ts).
 */
let salt = randomBytes(16);
/**
 * Replica mode: every replica gives a host the same token (derived from the cluster secret), so a
 * tenant's page stays coherent whichever replica answers a query or replays its live channel.
 */
export function shareHostTokens(secret: string) {
  salt = createHash("sha256").update("nimbus host tokens\0").update(secret).digest();
}
export const maskHost = (name: string) => "h-" + createHash("sha256").update(salt).update(name).digest("hex").slice(0, 10);

export const isStaff = (v: Pick<Viewer, "role">) => v.role !== "tenant";

export function instancesFor(viewer: Pick<Viewer, "role" | "tenant">, host: HostRecord, tenants: ReadonlyMap<string, TenantInfo>): InstanceView[] {
  const all = instancesOf(host, tenants);
  if (isStaff(viewer)) return all;
  return all.filter((i) => canSeeTenantObject(viewer, i.tenant)).map((i) => maskInstance(i));
}

export const maskInstance = (i: InstanceView): InstanceView => ({ ...i, host: maskHost(i.host), bridges: [] });

export function operationFor(viewer: Pick<Viewer, "role" | "tenant">, op: Operation): Operation | null {
  if (isStaff(viewer)) return op;
  if (!canSeeTenantObject(viewer, op.tenant)) return null;
  return { ...op, host: maskHost(op.host), params: {}, summary: op.summary.replace(/ (from|to) \S+/g, "") };
}

export const networkOf = (h: HostRecord): HostNetworkView => ({ host: h.name, state: h.connection.state, bridges: h.inventory.net?.bridges ?? [] });

export { hostSummary, swarmOverview };
