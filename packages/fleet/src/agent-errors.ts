import { AgentErrorCode, NimbusError, cutText, type NimbusErrorCode } from "@nimbus/domain";

const byAgentCode = new Map<number, NimbusErrorCode>([
  [AgentErrorCode.toolFailed, "TOOL_FAILED"],
  [AgentErrorCode.unparseable, "UNPARSEABLE_OUTPUT"],
  [AgentErrorCode.notFound, "NOT_FOUND"],
  [AgentErrorCode.conflict, "CONFLICT"],
  // The host lacks the capability (no libvirt, not a swarm manager): the request cannot apply here.
  [AgentErrorCode.unsupported, "PRECONDITION_FAILED"],
  [AgentErrorCode.invalidParams, "BAD_INPUT"],
  // An agent that does not know a method speaks another protocol revision.
  [AgentErrorCode.methodNotFound, "PROTOCOL_MISMATCH"],
  [AgentErrorCode.parse, "INTERNAL"],
  [AgentErrorCode.invalidRequest, "INTERNAL"],
  [AgentErrorCode.internal, "INTERNAL"],
]);

export const nimbusCodeOf = (agentCode: number): NimbusErrorCode => byAgentCode.get(agentCode) ?? "INTERNAL";

/** Details an agent attaches to an error are kept only this small (they travel to browsers and the audit trail). */
const MAX_DATA_CHARS = 4096;

/**
 * A JSON-RPC error from a host's agent, as the typed error the API understands. The agent's
 * message is cut to LIMITS.text and oversized data dropped: a host cannot make one error megabytes.
 */
export function agentError(host: string, method: string, error: { code: number; message: string; data?: unknown }): NimbusError {
  const data = error.data !== undefined && (JSON.stringify(error.data)?.length ?? 0) <= MAX_DATA_CHARS ? { data: error.data } : {};
  return new NimbusError(nimbusCodeOf(error.code), `${host}: ${method} failed: ${cutText(error.message)}`, {
    host,
    method,
    agentCode: error.code,
    ...data,
  });
}
