import { z } from "zod";
import { HostName, TenantSlug, Vni } from "./names.js";

/**
 * A path on a host the server writes to or runs. Plain characters only: it is quoted into the
 * exec command line, and the file config is not the place for shell syntax. Relative paths start
 * at the SSH user's home (where both exec and SFTP start).
 */
export const RemotePath = z
  .string()
  .regex(/^(?!-)[A-Za-z0-9._/-]{1,255}$/, "remote paths are letters, digits, '.', '_', '-' and '/', not starting with '-' (relative ones start at the SSH user's home)");

/**
 * How the server gets the agent onto a host. `upload`: the server copies its bundled agent over
 * SFTP when the host's copy is missing or of another version and runs it with the host's Node.js
 * (20 or newer); `path` is the directory it keeps the versions in (default `.nimbus/agent`).
 * `preinstalled`: the host already has the agent; `path` is the command (default `nimbus-agent`).
 */
export const AgentInstall = z.object({
  install: z.enum(["upload", "preinstalled"]),
  path: RemotePath.optional(),
});
export type AgentInstall = z.infer<typeof AgentInstall>;

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
  /** Overrides the file's `agent` setting for this host. */
  agent: AgentInstall.optional(),
});
export type FleetConfigHost = z.infer<typeof FleetConfigHost>;

export const FleetConfig = z.object({
  ssh: z.object({
    user: z.string().min(1),
    privateKeyPath: z.string().min(1),
  }),
  hosts: z.array(FleetConfigHost).min(1),
  /** How every host gets its agent unless the host says otherwise; default upload. */
  agent: AgentInstall.optional(),
  /** Tenants to create at first start (the labs declare theirs). */
  tenants: z.array(z.object({ slug: TenantSlug, name: z.string(), vni: Vni })).default([]),
  /** Where a lab's fault-injection endpoint listens, when the hosts are a lab. */
  lab: z.object({ controlUrl: z.string(), tokenPath: z.string() }).optional(),
});
export type FleetConfig = z.infer<typeof FleetConfig>;

/** Hosts named in a config file get the agent uploaded unless the host or the file says otherwise. */
export function agentInstallFor(config: Pick<FleetConfig, "agent">, host: Pick<FleetConfigHost, "agent">): AgentInstall {
  return host.agent ?? config.agent ?? { install: "upload" };
}
