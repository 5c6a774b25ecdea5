import { z } from "zod";
import { HostInventory } from "./inventory.js";
import { Capability } from "./capability.js";

/** The server's view of its connection to a host. */
export const ConnectionState = z.enum([
  "connecting",
  "online",
  /** TCP/SSH failed or dropped; the server retries with backoff. */
  "unreachable",
  /** The host presented a key other than the pinned one; blocked until an admin accepts it. */
  "key-changed",
  "auth-failed",
  /** The agent speaks another protocol version. */
  "protocol-mismatch",
  /** No usable agent on the host (e.g. Node.js missing); the message says what to install. */
  "agent-missing",
]);
export type ConnectionState = z.infer<typeof ConnectionState>;

export const HostConnection = z.object({
  state: ConnectionState,
  /** When the host entered this state. */
  since: z.string(),
  /** Last time a message arrived from the host; null if never. */
  lastSeen: z.string().nullable(),
  message: z.string().nullable(),
  agentVersion: z.string().nullable(),
  capabilities: z.array(Capability),
  /** SHA256 fingerprint of the pinned host key, and of the offered one when they differ. */
  pinnedKey: z.string().nullable(),
  offeredKey: z.string().nullable(),
  nextRetryAt: z.string().nullable(),
});
export type HostConnection = z.infer<typeof HostConnection>;

export const HostRecord = z.object({
  name: z.string(),
  address: z.string(),
  port: z.number().int(),
  maintenance: z.boolean(),
  connection: HostConnection,
  inventory: HostInventory,
});
export type HostRecord = z.infer<typeof HostRecord>;

export type HostRole = "hypervisor" | "storage" | "swarm" | "other";

/** What a host is for, read from what it reports. */
export function hostRoles(h: Pick<HostRecord, "inventory" | "connection">): HostRole[] {
  const roles: HostRole[] = [];
  if (h.inventory.virt || h.connection.capabilities.includes("virt")) roles.push("hypervisor");
  if (h.inventory.storage?.nfs) roles.push("storage");
  if (h.inventory.swarm) roles.push("swarm");
  return roles.length ? roles : ["other"];
}
