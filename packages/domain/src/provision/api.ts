import { z } from "zod";
import type { HostRecord } from "../fleet.js";
import { DomainName } from "../names.js";
import { mountTargetOf, type DatastoreCapacity } from "../storage-plan/datastores.js";
import { ImageEntry } from "./image.js";
import { Quota } from "./quota.js";

/**
 * What the instances API answers for create, delete and quotas (the create form, the delete
 * dialog and the quota rows are drawn from these shapes). A tenant receives them through the
 * tenant mask: host names become their token.
 */
export const QuotaRow = z.object({
  dimension: z.enum(["instances", "vcpus", "memoryMiB", "diskGiB"]),
  used: z.number(),
  limit: z.number().nullable(),
  percent: z.number().nullable(),
});
export type QuotaRow = z.infer<typeof QuotaRow>;

export const QuotaView = z.object({
  tenant: z.string(),
  quota: Quota,
  /** Defined instances and creates in flight. */
  usage: z.object({ instances: z.number(), vcpus: z.number(), memoryMiB: z.number(), diskGiB: z.number() }),
  rows: z.array(QuotaRow),
  /** Whether an admin set this quota; false: unlimited for staff, and the tenant's members cannot create. */
  custom: z.boolean(),
});
export type QuotaView = z.infer<typeof QuotaView>;

const Check = z.object({ id: z.string(), label: z.string(), result: z.enum(["pass", "warn", "fail"]), reason: z.string() });

export const PlacementCandidateView = z.object({
  host: z.string(),
  verdict: z.enum(["pass", "warn", "fail"]),
  freeMemoryMiB: z.number(),
  checks: z.array(Check),
  bridge: z.object({ name: z.string(), type: z.enum(["linux", "ovs"]) }).nullable(),
});
export type PlacementCandidateView = z.infer<typeof PlacementCandidateView>;

export const PlacementView = z.object({
  /** The host placement chose (a tenant sees its token), or null when nothing fits. */
  chosen: z.string().nullable(),
  /** Why this host, or why none. */
  reason: z.string(),
  candidates: z.array(PlacementCandidateView),
  /** The tenant and network the create will use (a tenant's request is forced to its own). */
  tenant: z.string(),
  network: z.object({ vlan: z.number(), vni: z.number(), bridge: z.string().nullable() }),
  quota: QuotaView,
  /** "over acme's quota: needs 4 vCPU, 2 of 8 left", or null when the request fits. */
  quotaProblem: z.string().nullable(),
  /** Both placement and quota allow it (the server checks again when it is created). */
  ok: z.boolean(),
});
export type PlacementView = z.infer<typeof PlacementView>;

export const DeleteInstanceRequest = z.object({
  name: DomainName,
  /** The instance's name typed again. */
  confirm: z.string().max(256),
});
export type DeleteInstanceRequest = z.infer<typeof DeleteInstanceRequest>;

export const OperationStarted = z.object({ operationId: z.string() });

/** The images of one datastore, as its repository's catalog lists them. */
export const DatastoreImages = z.object({
  datastore: z.string(),
  images: z.array(ImageEntry),
  /** Hypervisors that mount the datastore (staff only; empty for tenants). */
  mountedOn: z.array(z.string()),
});
export type DatastoreImages = z.infer<typeof DatastoreImages>;

/**
 * Until an admin sets a tenant's quota its members create nothing themselves (self-service is
 * opened per tenant), while staff create for it without a limit: its existing instances were
 * placed by hand and no default could fit them all.
 */
export function selfServiceProblem(tenant: string, custom: boolean): string | null {
  return custom ? null : `${tenant} has no quota yet: an admin sets one before its members create instances`;
}

/**
 * The catalog per datastore from the storage servers' reports (each reports the catalogs of its
 * exports; the one holding the VIP is read first, a backup's copy only fills gaps).
 */
export function imageCatalog(hosts: readonly HostRecord[]): DatastoreImages[] {
  const servers = hosts.filter((h) => h.inventory.storage?.nfs).sort((a, b) => Number(!!b.inventory.storage!.nfs!.vip?.heldHere) - Number(!!a.inventory.storage!.nfs!.vip?.heldHere));
  const byDatastore = new Map<string, Map<string, ImageEntry>>();
  for (const s of servers)
    for (const image of s.inventory.storage!.nfs!.images ?? []) {
      const images = byDatastore.get(image.datastore) ?? new Map<string, ImageEntry>();
      if (!images.has(image.name)) images.set(image.name, image);
      byDatastore.set(image.datastore, images);
    }
  const hypervisors = hosts.filter((h) => h.inventory.virt);
  return [...byDatastore.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([datastore, images]) => ({
      datastore,
      images: [...images.values()].sort((a, b) => a.name.localeCompare(b.name)),
      mountedOn: hypervisors.filter((h) => mountTargetOf(datastore, h.inventory.storage?.mounts ?? [])).map((h) => h.name),
    }));
}

/** Where to build an instance of `name`: the datastore holding that image with the most free space. */
export function chooseImage(catalog: readonly DatastoreImages[], name: string, capacity: readonly DatastoreCapacity[]): ImageEntry | null {
  const free = (path: string) => capacity.find((c) => c.path === path)?.freeBytes ?? -1;
  const found = catalog.flatMap((d) => d.images.filter((i) => i.name === name));
  return found.sort((a, b) => free(b.datastore) - free(a.datastore))[0] ?? null;
}

/** The VLAN a tenant's instances use (the most common one), or null when it has none yet. */
export function tenantVlan(tenant: string, hosts: readonly HostRecord[]): number | null {
  const count = new Map<number, number>();
  for (const h of hosts) for (const d of h.inventory.virt?.domains ?? []) if (d.tenant === tenant) for (const n of d.nics) if (n.vlan !== null) count.set(n.vlan, (count.get(n.vlan) ?? 0) + 1);
  return [...count.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? null;
}

/** Instances whose disk was built from the image named (their metadata says so), for imageDeleteProblem. */
export function imageUsers(hosts: readonly HostRecord[], image: string): string[] {
  return hosts.flatMap((h) => (h.inventory.virt?.domains ?? []).filter((d) => d.image === image).map((d) => d.name)).sort();
}
