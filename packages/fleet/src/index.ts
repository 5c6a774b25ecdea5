export * from "./contract.js";
export { Fleet, type FleetOptions } from "./fleet.js";
export { DEFAULT_TIMING, HostConnection, connectingRecord, type ConnectionTiming, type Dialer, type HostChange } from "./host-connection.js";
export { ListenerSet } from "./listeners.js";
export type { EnsureAgent } from "./agent-start.js";
export { agentInstaller, type AgentInstallerOptions } from "./agent-install.js";
export { loadAgentBundle, type AgentBundle } from "./agent-bundle.js";
export { OperationManager, type OperationManagerOptions } from "./operations.js";
export { MaintenanceRunner } from "./operations-maintenance.js";
export { recheckOnAgents, AGENT_PREFLIGHT_TIMEOUT_MS } from "./agent-preflight.js";
export { MemoryMaintenanceFlags, persistMaintenanceFlags, type MaintenanceFlagStore } from "./maintenance-flags.js";
export { MemoryKnownHosts, MemoryOperationStore } from "./memory-stores.js";
export { ProtocolClient, type AgentNotification, type ProtocolClientOptions } from "./protocol-client.js";
export { applyJob, forwardOnly, settleLostJob } from "./operation-rules.js";
export { DEFAULT_LIVENESS, LivenessSweep, livenessAction, type LivenessPolicy, type LivenessTarget } from "./liveness.js";
export { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff.js";
export { agentError, nimbusCodeOf } from "./agent-errors.js";
export { locateInstance, swarmManager, findService } from "./locate.js";
export {
  connectHost,
  HostKeyChanged,
  SshFailure,
  sha256Fingerprint,
  type ConnectOptions,
  type ExecChannel,
  type PinnedKey,
  type SshSession,
  SftpError,
  type SftpSession,
} from "./ssh/index.js";
export { ensureClientKey } from "./client-key.js";
export { pendingCreates } from "./operations-provision.js";
export { SwarmNodeRunner, SWARM_NODE_KINDS } from "./operations-swarm-nodes.js";
