import { TRPCClientError } from "@trpc/client";
import type { PreflightCheck } from "@nimbus/domain";

/**
 * What the UI needs from any failed call: the human message the server wrote, the tRPC code and
 * Nimbus's own code to branch on, and preflight checks when a migration was refused.
 */
export interface ErrorInfo {
  message: string;
  code: string | null;
  nimbusCode: string | null;
  checks: PreflightCheck[] | null;
}

interface ErrorData {
  code?: string;
  nimbusCode?: string | null;
  details?: { checks?: PreflightCheck[] } | null;
}

export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof TRPCClientError) {
    const data = (error.data ?? {}) as ErrorData;
    return {
      message: error.message || "the request failed",
      code: data.code ?? null,
      nimbusCode: data.nimbusCode ?? null,
      checks: Array.isArray(data.details?.checks) ? data.details.checks : null,
    };
  }
  if (error instanceof Error) return { message: error.message, code: null, nimbusCode: null, checks: null };
  return { message: "the request failed", code: null, nimbusCode: null, checks: null };
}

export const isUnauthorized = (error: unknown) => errorInfo(error).code === "UNAUTHORIZED";
