import { z } from "zod";

/**
 * Names that travel from users to hosts. Validated here so that nothing a user types reaches a
 * tool's argument list unless it is a plain identifier (principle 5: never a shell string).
 */
const identifier = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export const HostName = z.string().regex(identifier, "host names are letters, digits, '.', '_' and '-'");
export const DomainName = z.string().regex(identifier, "VM names are letters, digits, '.', '_' and '-'");
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
