import type { ConnectionState, DomainState, HealthState, InstanceState, OperationState, SwarmNode } from "@nimbus/domain";

/**
 * Every status shown in the UI maps to one of four tones plus a word; colour is never the only
 * signal (the label is always printed).
 */
export type Tone = HealthState | "neutral" | "accent";

export interface Status {
  tone: Tone;
  label: string;
}

const connection: Record<ConnectionState, Status> = {
  online: { tone: "ok", label: "Online" },
  connecting: { tone: "unknown", label: "Connecting" },
  unreachable: { tone: "crit", label: "Unreachable" },
  "key-changed": { tone: "crit", label: "Host key changed" },
  "auth-failed": { tone: "crit", label: "Auth failed" },
  "protocol-mismatch": { tone: "crit", label: "Protocol mismatch" },
  "agent-missing": { tone: "warn", label: "Agent missing" },
};
export const connectionStatus = (s: ConnectionState): Status => connection[s];

const domain: Record<InstanceState, Status> = {
  running: { tone: "ok", label: "Running" },
  paused: { tone: "warn", label: "Paused" },
  suspended: { tone: "warn", label: "Suspended" },
  shutoff: { tone: "neutral", label: "Shut off" },
  crashed: { tone: "crit", label: "Crashed" },
  other: { tone: "unknown", label: "Unknown" },
  // Its host does not answer: the last report is not shown as if it were true now.
  unknown: { tone: "unknown", label: "Unknown — host unreachable" },
};
export const domainStatus = (s: InstanceState): Status => domain[s];

/** The hover text of an unknown state: what the host said before it stopped answering. */
export const reportedStateHint = (i: { state: InstanceState; reportedState: DomainState }): string | undefined =>
  i.state === "unknown" ? `Last reported ${domain[i.reportedState].label.toLowerCase()}; the host has not answered since` : undefined;

const health: Record<HealthState, Status> = {
  ok: { tone: "ok", label: "OK" },
  warn: { tone: "warn", label: "Warning" },
  crit: { tone: "crit", label: "Critical" },
  unknown: { tone: "unknown", label: "Unknown" },
};
export const healthStatus = (s: HealthState): Status => health[s];

const operation: Record<OperationState, Status> = {
  pending: { tone: "unknown", label: "Pending" },
  running: { tone: "accent", label: "Running" },
  succeeded: { tone: "ok", label: "Succeeded" },
  failed: { tone: "crit", label: "Failed" },
  cancelled: { tone: "warn", label: "Cancelled" },
};
export const operationStatus = (s: OperationState): Status => operation[s];

const nodeStatus: Record<SwarmNode["status"], Status> = {
  ready: { tone: "ok", label: "Ready" },
  down: { tone: "crit", label: "Down" },
  disconnected: { tone: "crit", label: "Disconnected" },
  unknown: { tone: "unknown", label: "Unknown" },
};
export const swarmNodeStatus = (s: SwarmNode["status"]): Status => nodeStatus[s];

const availability: Record<SwarmNode["availability"], Status> = {
  active: { tone: "ok", label: "Active" },
  pause: { tone: "warn", label: "Paused" },
  drain: { tone: "warn", label: "Draining" },
};
export const swarmAvailabilityStatus = (s: SwarmNode["availability"]): Status => availability[s];

/** Usage levels with the storage thresholds (warn 80 %, crit 90 %) used for every capacity bar. */
export function usageTone(pct: number | null, warnAt = 80, critAt = 90): Tone {
  if (pct === null) return "unknown";
  return pct >= critAt ? "crit" : pct >= warnAt ? "warn" : "ok";
}
