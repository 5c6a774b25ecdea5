import {
  AgentErrorCode,
  NimbusError,
  destinationPreflightParams,
  type Domain,
  type PreflightCheck,
  type PreflightPolicy,
} from "@nimbus/domain";
import type { FleetView } from "./contract.js";

/** Agents answer within this, or the migration does not start. */
export const AGENT_PREFLIGHT_TIMEOUT_MS = 15_000;

/**
 * Re-runs the preflight on both agents right before a migration starts: the source confirms the
 * VM still runs and has no job, the destination checks RAM, bridges/VLANs and disk paths as it
 * sees them now. An agent too old to answer only warns (the inventory checks already passed);
 * any other error refuses, since a host that cannot answer this cannot take a VM either.
 */
export async function recheckOnAgents(
  fleet: FleetView,
  move: { source: string; destination: string; domain: Domain; policy: PreflightPolicy },
): Promise<PreflightCheck[]> {
  const { source, destination, domain, policy } = move;
  const ask = (host: string, role: "source" | "destination") =>
    fleet
      .request(
        host,
        "virt.preflight",
        role === "source" ? { role, domain: domain.name, destination } : destinationPreflightParams(domain, source, policy),
        { timeoutMs: AGENT_PREFLIGHT_TIMEOUT_MS },
      )
      .then(
        (r) => r.checks,
        (err: unknown): PreflightCheck[] => [unanswered(host, role, err)],
      );
  const [a, b] = await Promise.all([ask(source, "source"), ask(destination, "destination")]);
  return [...a, ...b];
}

function unanswered(host: string, role: string, err: unknown): PreflightCheck {
  const id = `agent-${role}-unanswered`;
  const label = `${host} (${role}, now)`;
  const agentCode = err instanceof NimbusError ? err.details?.agentCode : undefined;
  if (agentCode === AgentErrorCode.unsupported || agentCode === AgentErrorCode.methodNotFound)
    return { id, label, result: "warn", reason: `${host}'s agent cannot re-check (older agent); the inventory's checks stand` };
  const message = err instanceof Error ? err.message : String(err);
  return { id, label, result: "fail", reason: `${host} could not re-check the migration: ${message}` };
}
