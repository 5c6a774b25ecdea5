import { and, count, desc, eq, getTableColumns, gte, ilike, lt, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../open.js";
import { auditLog } from "../schema/index.js";
import { csvLines, toCsvTable } from "./csv.js";
import { redactSecrets } from "./redact.js";
import type { AuditEntry, AuditRecord } from "@nimbus/domain";

export type { AuditEntry, AuditRecord };

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
/** Largest page `query` returns. */
export const AUDIT_PAGE_MAX = 200;
/** Longest target kept; a longer one is cut (and marked) at append and when read. */
export const AUDIT_TARGET_MAX = 200;
/** A stored input summary bigger than this (written before summaries were bounded) is read as a marker. */
const INPUT_SUMMARY_MAX_BYTES = 16 * 1024;
const CSV_BATCH = 500;

/** Every text column is cut at AUDIT_TARGET_MAX: a failed sign-in's user name is whatever was typed. */
function cut<T extends string | null | undefined>(text: T): T {
  return (typeof text === "string" && text.length > AUDIT_TARGET_MAX ? `${text.slice(0, AUDIT_TARGET_MAX)}…` : text) as T;
}

/**
 * What a page reads: rows stored before targets and inputs were bounded are cut in the database,
 * so one such row cannot make a page (or an export) megabytes long.
 */
const boundedColumns = {
  ...getTableColumns(auditLog),
  target: sql<string | null>`case when length(${auditLog.target}) > ${AUDIT_TARGET_MAX} then left(${auditLog.target}, ${AUDIT_TARGET_MAX}) || '…' else ${auditLog.target} end`,
  inputSummary: sql<unknown>`case when octet_length(${auditLog.inputSummary}::text) > ${INPUT_SUMMARY_MAX_BYTES} then '{"…":"input too large to show"}'::jsonb else ${auditLog.inputSummary} end`.mapWith(
    auditLog.inputSummary,
  ),
};

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
        userId: cut(entry.userId),
        userName: cut(entry.userName),
        role: cut(entry.role),
        tenant: cut(entry.tenant),
        action: cut(entry.action),
        target: cut(entry.target),
        inputSummary: redactSecrets(entry.input ?? {}) ?? {},
        result: entry.result,
        errorCode: cut(entry.errorCode ?? null),
        requestId: cut(entry.requestId ?? null),
        ip: cut(entry.ip ?? null),
      })
      .returning();
    return fromRow(row!);
  }

  /**
   * Newest first, `limit` per page (at most AUDIT_PAGE_MAX). Page with `before` (the previous page's
   * nextCursor: stable while records are appended) or with `offset` (numbered pages).
   */
  async query(filter: AuditFilter, page: { limit: number; before?: number | null; offset?: number }): Promise<AuditPage> {
    const limit = Math.max(1, Math.min(AUDIT_PAGE_MAX, Math.floor(page.limit)));
    const matching = whereOf(filter);
    const conditions = page.before != null ? [...matching, lt(auditLog.id, page.before)] : matching;
    const [rows, [counted]] = await Promise.all([
      this.db
        .select(boundedColumns)
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

  /**
   * Every record matching the filter (newest first, at most AUDIT_CSV_MAX_ROWS) as CSV, in chunks:
   * the header, then one chunk per batch of records read by cursor. Only one batch is held at a
   * time, and the next is read only when the consumer asks for it (a slow download reads slowly).
   */
  async *exportCsv(filter: AuditFilter): AsyncGenerator<string> {
    yield csvLines([CSV_HEADER]);
    const matching = whereOf(filter);
    let before: number | null = null;
    for (let sent = 0; sent < AUDIT_CSV_MAX_ROWS; ) {
      const rows = await this.db
        .select(boundedColumns)
        .from(auditLog)
        .where(and(...matching, ...(before === null ? [] : [lt(auditLog.id, before)])))
        .orderBy(desc(auditLog.id))
        .limit(Math.min(CSV_BATCH, AUDIT_CSV_MAX_ROWS - sent));
      if (!rows.length) return;
      yield csvLines(rows.map((r) => csvRow(fromRow(r))));
      sent += rows.length;
      before = rows[rows.length - 1]!.id;
    }
  }
}

const CSV_HEADER = ["id", "at", "user_id", "user_name", "role", "tenant", "action", "target", "result", "error_code", "request_id", "ip", "input"];

const csvRow = (r: AuditRecord): unknown[] => [
  r.id, r.at, r.userId, r.userName, r.role, r.tenant, r.action, r.target, r.result, r.errorCode, r.requestId, r.ip,
  JSON.stringify(r.inputSummary),
];

export function toCsv(records: readonly AuditRecord[]): string {
  return toCsvTable(CSV_HEADER, records.map(csvRow));
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
