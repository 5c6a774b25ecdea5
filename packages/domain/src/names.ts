import { z } from "zod";

/**
 * Names that travel from users to hosts. Validated here so that nothing a user types reaches a
 * tool's argument list unless it is a plain identifier (principle 5: never a shell string).
 */
const identifier = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export const HostName = z.string().regex(identifier, "host names are letters, digits, '.', '_' and '-'");
/**
 * An existing VM's name, as libvirt accepts it: any text but '/' and control characters (newlines
 * included), at most 200 characters, not blank, so a VM named "café-db" or "web 2" can be acted
 * on. Safe because it never reaches a tool as a name: agents pass argument arrays and act on the
 * domain's UUID (`real/virt-ids.ts`). A NEW instance's name keeps the strict rule (`InstanceName`
 * in provision/request.ts: it is also the guest's host name).
 */
export const DomainName = z
  .string()
  .min(1, "a VM name is not empty")
  .max(200, "a VM name is at most 200 characters")
  .regex(/^[^/\p{Cc}\p{Cs}\u2028\u2029]+$/u, "a VM name has no '/' and no control characters")
  .refine((s) => s.trim().length > 0, "a VM name is not blank");
export const ServiceName = z.string().regex(identifier, "service names are letters, digits, '.', '_' and '-'");
export const TenantSlug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "tenant ids are lower-case letters, digits and '-'");
export const SwarmNodeRef = z.string().regex(identifier, "node names are letters, digits, '.', '_' and '-'");
export const SnapshotName = z.string().regex(identifier, "snapshot names are letters, digits, '.', '_' and '-'");

export const VlanId = z.number().int().min(1).max(4094);
export const Vni = z.number().int().min(1).max(16_777_215);
export const Mtu = z.number().int().min(68).max(65_535);

export type HostName = z.infer<typeof HostName>;
export type DomainName = z.infer<typeof DomainName>;
export type TenantSlug = z.infer<typeof TenantSlug>;
