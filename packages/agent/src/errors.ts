import { AgentErrorCode } from "@nimbus/domain";

/** The longest message an agent error carries: a hostile or broken host cannot make a 4 MB error. */
export const MESSAGE_MAX = 1000;
/** The longest piece of a foreign value (a field, a line of output, stderr) a message quotes. */
export const QUOTE_MAX = 80;

/** `s` cut to `max` characters, saying how much was left out. */
export function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length - max} more characters)`;
}

/**
 * A foreign value as an error message quotes it: in double quotes and cut to QUOTE_MAX
 * characters. Every value from tool output that an error names goes through here.
 */
export function quote(value: unknown, max = QUOTE_MAX): string {
  let s: string;
  if (typeof value === "string") s = value;
  else {
    try {
      s = JSON.stringify(value) ?? String(value);
    } catch {
      s = Object.prototype.toString.call(value);
    }
  }
  return `"${cut(s, max)}"`;
}

/** An error the agent reports with a JSON-RPC code, so the server can type it. */
export class AgentError extends Error {
  constructor(
    readonly code: (typeof AgentErrorCode)[keyof typeof AgentErrorCode],
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(cut(message, MESSAGE_MAX));
    this.name = "AgentError";
  }
}

/** A tool's output did not have the shape its parser expects. */
export const unparseable = (tool: string, reason: string, output: string) =>
  new AgentError(AgentErrorCode.unparseable, `${tool}: output could not be parsed (${cut(reason, 300)})`, {
    tool,
    excerpt: output.slice(0, 400),
  });

export const notFound = (what: string) => new AgentError(AgentErrorCode.notFound, `${what} not found`);
export const conflict = (message: string) => new AgentError(AgentErrorCode.conflict, message);
export const unsupported = (what: string) => new AgentError(AgentErrorCode.unsupported, `${what} is not available on this host`);
