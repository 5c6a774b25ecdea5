/**
 * The audit log's shapes: what the server appends (packages/db's AuditLog stores it, append-only)
 * and what a reader gets back (packages/api's audit router). Pure types, shared by both.
 */

/** One thing that happened. The time is the database's clock at append, never the caller's. */
export interface AuditEntry {
  /** Who acted; null for the system or an unknown account. */
  userId: string | null;
  /** The account name, or for a failed sign-in the account that was attempted. */
  userName: string | null;
  role: string | null;
  tenant: string | null;
  /** Dotted verb, e.g. "auth.sign-in", "users.set-role", "instances.migrate". */
  action: string;
  target: string | null;
  /** The request's input; secrets are redacted before it is stored. */
  input?: unknown;
  result: "ok" | "error";
  errorCode?: string | null;
  requestId?: string | null;
  ip?: string | null;
}

export interface AuditRecord extends Omit<AuditEntry, "input" | "errorCode" | "requestId" | "ip"> {
  id: number;
  at: string;
  inputSummary: unknown;
  errorCode: string | null;
  requestId: string | null;
  ip: string | null;
}
