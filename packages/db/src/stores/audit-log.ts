import { and, count, desc, eq, gte, ilike, lt, or, type SQL } from "drizzle-orm";
import type { Db } from "../open.js";
import { auditLog } from "../schema/index.js";
import { toCsvTable } from "./csv.js";
import { redactSecrets } from "./redact.js";

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

export interface AuditFilter {
  userId?: string;
  /** Case-insensitive part of the user name. */
  user?: string;
  action?: string;
  /** Case-insensitive part of the target. */
  target?: string;
  result?: "ok" | "error";
  /** Inclusive lower bound. */
  from?: Date | string;
  /** Exclusive upper bound. */
  to?: Date | string;
}

export interface AuditPage {
  records: AuditRecord[];
  /** Pass as `before` for the next (older) page; null when this was the last. */
  nextCursor: number | null;
  /** How many records match the filter in all. */
  total: number;
}

export const AUDIT_CSV_MAX_ROWS = 100_000;

/**
 * The audit trail. Append-only by construction: there is no update or delete here, and the
 * database raises on UPDATE/DELETE/TRUNCATE of audit_log (migration 0001).
 */
export class AuditLog {
  constructor(private readonly db: Db) {}

  async append(entry: AuditEntry): Promise<AuditRecord> {
    const [row] = await this.db
      .insert(auditLog)
      .values({
        userId: entry.userId,
        userName: entry.userName,
        role: entry.role,
        tenant: entry.tenant,
        action: entry.action,
        target: entry.target,
        inputSummary: redactSecrets(entry.input ?? {}) ?? {},
        result: entry.result,
        errorCode: entry.errorCode ?? null,
        requestId: entry.requestId ?? null,
        ip: entry.ip ?? null,
      })
      .returning();
    return fromRow(row!);
  }

  /**
   * Newest first, `limit` per page (at most 1000). Page with `before` (the previous page's
   * nextCursor: stable while records are appended) or with `offset` (numbered pages).
   */
  async query(filter: AuditFilter, page: { limit: number; before?: number | null; offset?: number }): Promise<AuditPage> {
    const limit = Math.max(1, Math.min(1000, Math.floor(page.limit)));
    const matching = whereOf(filter);
    const conditions = page.before != null ? [...matching, lt(auditLog.id, page.before)] : matching;
    const [rows, [counted]] = await Promise.all([
      this.db
        .select()
        .from(auditLog)
        .where(and(...conditions))
        .orderBy(desc(auditLog.id))
        .limit(limit + 1)
        .offset(Math.max(0, Math.floor(page.offset ?? 0))),
      this.db.select({ n: count() }).from(auditLog).where(and(...matching)),
    ]);
    const records = rows.slice(0, limit).map(fromRow);
    return { records, nextCursor: rows.length > limit ? records[records.length - 1]!.id : null, total: counted?.n ?? 0 };
  }

  /** Every record matching the filter (newest first, capped at AUDIT_CSV_MAX_ROWS) as CSV. */
  async exportCsv(filter: AuditFilter): Promise<string> {
    const all: AuditRecord[] = [];
    let before: number | null = null;
    do {
      const page: AuditPage = await this.query(filter, { limit: 1000, before });
      all.push(...page.records);
      before = page.nextCursor;
    } while (before !== null && all.length < AUDIT_CSV_MAX_ROWS);
    return toCsv(all.slice(0, AUDIT_CSV_MAX_ROWS));
  }
}

const CSV_HEADER = ["id", "at", "user_id", "user_name", "role", "tenant", "action", "target", "result", "error_code", "request_id", "ip", "input"];

export function toCsv(records: readonly AuditRecord[]): string {
  return toCsvTable(
    CSV_HEADER,
    records.map((r) => [
      r.id, r.at, r.userId, r.userName, r.role, r.tenant, r.action, r.target, r.result, r.errorCode, r.requestId, r.ip,
      JSON.stringify(r.inputSummary),
    ]),
  );
}

/** `%` and `_` typed into a filter are literal characters, not wildcards. */
const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function whereOf(f: AuditFilter): SQL[] {
  const c: SQL[] = [];
  if (f.userId) c.push(eq(auditLog.userId, f.userId));
  if (f.user) c.push(or(ilike(auditLog.userName, containsPattern(f.user)), eq(auditLog.userId, f.user))!);
  if (f.action) c.push(eq(auditLog.action, f.action));
  if (f.target) c.push(ilike(auditLog.target, containsPattern(f.target)));
  if (f.result) c.push(eq(auditLog.result, f.result));
  if (f.from) c.push(gte(auditLog.at, new Date(f.from)));
  if (f.to) c.push(lt(auditLog.at, new Date(f.to)));
  return c;
}

function fromRow(r: typeof auditLog.$inferSelect): AuditRecord {
  return {
    id: r.id,
    at: r.at.toISOString(),
    userId: r.userId,
    userName: r.userName,
    role: r.role,
    tenant: r.tenant,
    action: r.action,
    target: r.target,
    inputSummary: r.inputSummary,
    result: r.result,
    errorCode: r.errorCode,
    requestId: r.requestId,
    ip: r.ip,
  };
}
