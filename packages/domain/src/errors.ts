/**
 * One error type for everything the fleet and the API raise. The code is what callers branch
 * on; the message is for humans and always names the host or object involved.
 */
export type NimbusErrorCode =
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "UNAUTHORIZED"
  | "BAD_INPUT"
  | "CONFLICT"
  | "PRECONDITION_FAILED"
  | "HOST_UNREACHABLE"
  | "HOST_KEY_CHANGED"
  | "PROTOCOL_MISMATCH"
  | "TOOL_FAILED"
  | "UNPARSEABLE_OUTPUT"
  | "TIMEOUT"
  | "RATE_LIMITED"
  | "INTERNAL";

export class NimbusError extends Error {
  readonly code: NimbusErrorCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: NimbusErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "NimbusError";
    this.code = code;
    this.details = details;
  }
}

export const isNimbusError = (e: unknown): e is NimbusError => e instanceof NimbusError;
