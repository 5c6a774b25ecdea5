import { z } from "zod";
import { HostName, TenantSlug, Vni } from "./names.js";

/**
 * The file that points Nimbus at hosts (NIMBUS_CONFIG). The real lab and the standalone
 * simulator write one too, so the server reaches every kind of host through the same path.
 */
export const FleetConfigHost = z.object({
  name: HostName,
  address: z.string().min(1),
  port: z.number().int().min(1).max(65_535).default(22),
  /** Overrides ssh.user for this host. */
  user: z.string().min(1).optional(),
  /** libvirt URI other hypervisors use to migrate to this host; default qemu+ssh://ADDRESS/system. */
  migrationUri: z.string().optional(),
});
export type FleetConfigHost = z.infer<typeof FleetConfigHost>;

export const FleetConfig = z.object({
  ssh: z.object({
    user: z.string().min(1),
    privateKeyPath: z.string().min(1),
  }),
  hosts: z.array(FleetConfigHost).min(1),
  /** Tenants to create at first start (the labs declare theirs). */
  tenants: z.array(z.object({ slug: TenantSlug, name: z.string(), vni: Vni })).default([]),
  /** Where a lab's fault-injection endpoint listens, when the hosts are a lab. */
  lab: z.object({ controlUrl: z.string(), tokenPath: z.string() }).optional(),
});
export type FleetConfig = z.infer<typeof FleetConfig>;
