import { AgentErrorCode } from "@nimbus/domain";

/** An error the agent reports with a JSON-RPC code, so the server can type it. */
export class AgentError extends Error {
  constructor(
    readonly code: (typeof AgentErrorCode)[keyof typeof AgentErrorCode],
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "AgentError";
  }
}

/** A tool's output did not have the shape its parser expects. */
export const unparseable = (tool: string, reason: string, output: string) =>
  new AgentError(AgentErrorCode.unparseable, `${tool}: output could not be parsed (${reason})`, {
    tool,
    excerpt: output.slice(0, 400),
  });

export const notFound = (what: string) => new AgentError(AgentErrorCode.notFound, `${what} not found`);
export const conflict = (message: string) => new AgentError(AgentErrorCode.conflict, message);
export const unsupported = (what: string) => new AgentError(AgentErrorCode.unsupported, `${what} is not available on this host`);
