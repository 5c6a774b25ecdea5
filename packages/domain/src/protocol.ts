import { z } from "zod";
import { boundedName, boundedText } from "./bounds.js";
import { Capability } from "./capability.js";
import { DomainName, SwarmNodeRef } from "./names.js";
import { HostInventory, SectionName } from "./inventory.js";
import { Job, MigrateParams, MoveDiskParams, ScaleParams } from "./jobs.js";
import { AgentPreflightParams, AgentPreflightResult } from "./preflight.js";
import { CreateInstanceParams, DeleteInstanceParams, TunnelParams, TunnelResult } from "./provision/params.js";
import { ImageDeleteRequest, ImageEntry, ImageImportRequest } from "./provision/image.js";
import { ImageBuildParams, ImageImportParams } from "./provision/image-build-job.js";
import { Snapshot, SnapshotCreateParams, SnapshotListResult, SnapshotTarget } from "./snapshots.js";
import { ConsoleClosed, ConsoleInputParams, ConsoleOpenParams, ConsoleOutput, ConsoleSessionId } from "./console.js";
import { SwarmNodeUpdateParams, SwarmRole } from "./swarm/nodes.js";
import { ChecksConfigureParams } from "./checks/spec.js";
import { LbApplyParams, LbName, LbReloadResult, LbRuntime, LbValidateResult, LbWriteResult } from "./lb/spec.js";
import { LogChunk, LogsParams } from "./swarm/logs.js";
import { ServiceRollbackParams, ServiceUpdateParams } from "./swarm/service-update.js";
import { StackDeployParams, StackRemoveParams } from "./swarm/stack.js";
import { StatsCounters } from "./metrics/counters.js";

/**
 * The agent protocol: JSON-RPC 2.0, one message per line, over the stdio of one SSH exec channel.
 * The server sends requests; the agent answers and pushes notifications (section updates, job
 * updates) on the same channel. Both ends validate every message with these schemas.
 */
export const PROTOCOL_VERSION = 1;
export const AGENT_COMMAND = "nimbus-agent serve --stdio";

export { Capability } from "./capability.js";

export const HelloResult = z.object({
  protocol: z.number().int(),
  agentVersion: boundedName(),
  hostname: boundedName(),
  capabilities: z.array(Capability).max(16),
  /** Changes when the agent process restarts, so the server knows jobs may have been lost. */
  bootId: boundedName(),
});
export type HelloResult = z.infer<typeof HelloResult>;

const ok = z.object({ ok: z.literal(true) });

/** Every request method: its params and its result. */
export const methods = {
  hello: { params: z.object({ protocol: z.number().int(), server: z.string() }), result: HelloResult },
  /**
   * Answered at once, doing nothing: the server's liveness probe for an agent that fell silent.
   * An agent older than ping answers methodNotFound, which proves it alive just as well.
   */
  ping: { params: z.object({}), result: z.object({}) },
  "inventory.snapshot": { params: z.object({}), result: HostInventory },
  "job.list": { params: z.object({}), result: z.array(Job).max(1024) },
  "job.cancel": { params: z.object({ jobId: z.string() }), result: ok },
  "virt.migrate": { params: MigrateParams, result: z.object({ jobId: z.string() }) },
  /** Re-checks a migration on the host right before it starts (source or destination side). */
  "virt.preflight": { params: AgentPreflightParams, result: AgentPreflightResult },
  /** Starts a job copying one disk to another datastore (block copy if running, plain copy if off). */
  "virt.moveDisk": { params: MoveDiskParams, result: z.object({ jobId: z.string() }) },
  /** Starts a job creating an instance: check, build the volume, wire the network, define, start, wait for an address; cleans up on failure or cancel. */
  "virt.create": { params: CreateInstanceParams, result: z.object({ jobId: z.string() }) },
  /** Starts a job deleting an instance: the server's plan (force off, undefine, release the network, remove volumes), each action idempotent. */
  "virt.delete": { params: DeleteInstanceParams, result: z.object({ jobId: z.string() }) },
  /** A VXLAN port on this host's bridge back to a host that joined the VNI (idempotent: an existing port to that remote is kept). */
  "net.ensureTunnel": { params: TunnelParams, result: TunnelResult },
  /** Removes this host's port(s) of the VNI to that remote (idempotent: none is no change). */
  "net.releaseTunnel": { params: TunnelParams, result: TunnelResult },
  "virt.power": {
    params: z.object({ domain: DomainName, action: z.enum(["start", "shutdown", "reboot", "destroy"]) }),
    result: ok,
  },
  /** The VM's snapshots and whether its disks can hold one (qcow2 only). */
  "virt.snapshotList": { params: z.object({ domain: DomainName }), result: SnapshotListResult },
  /** An internal snapshot (with memory when running), refused up front when a disk is not qcow2. */
  "virt.snapshotCreate": { params: SnapshotCreateParams, result: Snapshot },
  "virt.snapshotRevert": { params: SnapshotTarget, result: ok },
  "virt.snapshotDelete": { params: SnapshotTarget, result: ok },
  /** Attaches a session to the VM's serial console (refused when the VM is not running or the host's cap is reached); output follows as console.output. */
  "console.open": { params: ConsoleOpenParams, result: z.object({ session: ConsoleSessionId }) },
  /** Keystrokes for the console (only the link that opened the session may write to it). */
  "console.input": { params: ConsoleInputParams, result: ok },
  /** Ends the session (idempotent: an unknown or already closed session is no change). */
  "console.close": { params: z.object({ session: ConsoleSessionId }), result: ok },
  /** Starts a job: imports an image into a datastore's repository on the storage server (fetched by the host with its bytes reported, checksum verified); rewrites catalog and index. */
  "storage.imageImport": { params: ImageImportParams, result: z.object({ jobId: z.string() }) },
  /** Builds a base image from Debian's packages (or reuses the host's cache) into a datastore's repository, as a job with steps. */
  "storage.imageBuild": { params: ImageBuildParams, result: z.object({ jobId: z.string() }) },
  /** Removes an image's file and rewrites catalog and index (the server checked that no instance uses it). */
  "storage.imageDelete": { params: ImageDeleteRequest, result: ok },
  "swarm.scale": { params: ScaleParams, result: z.object({ jobId: z.string() }) },
  "swarm.availability": {
    params: z.object({ node: SwarmNodeRef, availability: z.enum(["active", "pause", "drain"]) }),
    result: ok,
  },
  "swarm.joinTokens": { params: z.object({}), result: z.object({ worker: boundedName(), manager: boundedName() }) },
  /** A manager labels, promotes, demotes or removes a node (swarm-nodes). */
  "swarm.nodeUpdate": { params: SwarmNodeUpdateParams, result: ok },
  /** A manager replaces a join token (`docker swarm join-token --rotate`); the new token is not returned. */
  "swarm.rotateToken": { params: z.object({ role: SwarmRole }), result: ok },
  /** The node itself leaves the swarm (`docker swarm leave`); already out is no change. */
  "swarm.leave": { params: z.object({}), result: ok },
  /** Replaces the active checks this agent runs (the server's plan for the host); states follow in the `checks` section. */
  "checks.configure": { params: ChecksConfigureParams, result: ok },
  /** lb-apply, step by step: writes a load balancer's candidate haproxy.cfg (the agent renders it from these values). */
  "lb.write": { params: LbApplyParams, result: LbWriteResult },
  /** `haproxy -c -f` on the candidate; a tool failure carries HAProxy's message. */
  "lb.validate": { params: z.object({ name: LbName }), result: LbValidateResult },
  /** Puts the candidate in place and reloads without dropping connections (master-worker, SIGUSR2), or starts HAProxy. */
  "lb.reload": { params: z.object({ name: LbName }), result: LbReloadResult },
  /** `show stat` from the balancer's stats socket, now. */
  "lb.stat": { params: z.object({ name: LbName }), result: LbRuntime },
  /** Stops the balancer and removes its files (idempotent). */
  "lb.remove": { params: z.object({ name: LbName }), result: ok },
  /** Starts a job: `docker service update --image`, followed until docker's update completes, pauses or rolls back. */
  "swarm.serviceUpdate": { params: ServiceUpdateParams, result: z.object({ jobId: z.string() }) },
  /** Starts a job: `docker service rollback` to the previous spec, followed like an update. */
  "swarm.serviceRollback": { params: ServiceRollbackParams, result: z.object({ jobId: z.string() }) },
  /** Starts streaming a service's logs as swarm.logLines chunks (ends with the session or swarm.logsStop). */
  "swarm.logs": { params: LogsParams, result: ok },
  /** Stops a log stream (idempotent). */
  "swarm.logsStop": { params: z.object({ streamId: z.string().max(64) }), result: ok },
  /** Starts a job: `docker stack deploy` with the compose on stdin, then follows every service until it converges or a task fails. */
  "swarm.stackDeploy": { params: StackDeployParams, result: z.object({ jobId: z.string() }) },
  /** Starts a job: `docker stack rm`, then waits until the stack's services are gone. */
  "swarm.stackRemove": { params: StackRemoveParams, result: z.object({ jobId: z.string() }) },
} as const;

export type MethodName = keyof typeof methods;

/**
 * The method named by a peer, or undefined. Own keys only: a message whose method is
 * `constructor`, `__proto__` or `toString` must not reach Object.prototype.
 */
export const methodSpec = (name: string) => (Object.hasOwn(methods, name) ? methods[name as MethodName] : undefined);
export type MethodParams<M extends MethodName> = z.input<(typeof methods)[M]["params"]>;
export type MethodResult<M extends MethodName> = z.infer<(typeof methods)[M]["result"]>;

/** Pushed by the agent, never answered. */
export const notifications = {
  "inventory.section": z.object({ section: SectionName, data: z.unknown() }),
  "job.update": z.object({ job: Job }),
  /** A line for the host's event log (domain lifecycle, link changes). */
  "host.event": z.object({
    at: boundedName(),
    level: z.enum(["info", "warn", "error"]),
    message: boundedText(),
  }),
  /** Lines of one log stream (swarm.logs); the last chunk carries `end`. */
  "swarm.logLines": LogChunk,
  /** Guest output of one console session (base64, at most CONSOLE_LIMITS.chunkBytes bytes). */
  "console.output": ConsoleOutput,
  /** A console session ended on the host (VM stopped, virsh exited, cap, closed). */
  "console.closed": ConsoleClosed,
  /** Counters for metric history (host CPU, uplinks, running VMs), every STATS_INTERVAL_MS while the server follows pushes. */
  "stats.counters": StatsCounters,
} as const;
export type NotificationName = keyof typeof notifications;
/** The notification's params schema, or undefined (own keys only, as methodSpec). */
export const notificationSchema = (name: string) => (Object.hasOwn(notifications, name) ? notifications[name as NotificationName] : undefined);
export type NotificationParams<N extends NotificationName> = z.infer<(typeof notifications)[N]>;

/** Error codes carried in JSON-RPC errors, so the server can map them to typed failures. */
export const AgentErrorCode = {
  parse: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  /** A tool exited non-zero or timed out. */
  toolFailed: -32001,
  /** A tool's output could not be parsed. */
  unparseable: -32002,
  /** The object named does not exist on this host. */
  notFound: -32003,
  /** The request conflicts with the current state (already migrating, ...). */
  conflict: -32004,
  /** This host has no such capability. */
  unsupported: -32005,
} as const;

export const RpcRequest = z.object({
  jsonrpc: z.literal("2.0"),
  id: z.union([z.number(), z.string()]),
  method: z.string(),
  params: z.unknown().optional(),
});
export const RpcNotification = z.object({
  jsonrpc: z.literal("2.0"),
  method: z.string(),
  params: z.unknown().optional(),
});
export const RpcError = z.object({
  code: z.number().int(),
  message: z.string(),
  data: z.unknown().optional(),
});
export const RpcResponse = z.union([
  z.object({ jsonrpc: z.literal("2.0"), id: z.union([z.number(), z.string()]), result: z.unknown() }),
  z.object({ jsonrpc: z.literal("2.0"), id: z.union([z.number(), z.string(), z.null()]), error: RpcError }),
]);
export type RpcRequest = z.infer<typeof RpcRequest>;
export type RpcResponse = z.infer<typeof RpcResponse>;
export type RpcNotification = z.infer<typeof RpcNotification>;

/**
 * Upper bound for one line (the first snapshot, with every section, is the longest); a longer one
 * is dropped unread: a protocol error, not an out-of-memory.
 */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/**
 * Upper bound for one pushed section. A section is a few KB to a few hundred (hundreds of VMs);
 * a bigger push is refused and the host keeps its last good section.
 */
export const MAX_SECTION_BYTES = 2 * 1024 * 1024;
