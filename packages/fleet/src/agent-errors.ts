import { AgentErrorCode, NimbusError, type NimbusErrorCode } from "@nimbus/domain";

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

/** A JSON-RPC error from a host's agent, as the typed error the API understands. */
export function agentError(host: string, method: string, error: { code: number; message: string; data?: unknown }): NimbusError {
  return new NimbusError(nimbusCodeOf(error.code), `${host}: ${method} failed: ${error.message}`, {
    host,
    method,
    agentCode: error.code,
    ...(error.data !== undefined ? { data: error.data } : {}),
  });
}
