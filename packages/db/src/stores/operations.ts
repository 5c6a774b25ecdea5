import { and, count, desc, eq, inArray, asc, or, sql, type SQL } from "drizzle-orm";
import { NimbusError, Operation, OperationListQuery, operationSearchColumns, type OperationPage, type OperationScope } from "@nimbus/domain";
import type { Db } from "../open.js";
import { operations } from "../schema/index.js";

type Row = typeof operations.$inferSelect;

const toRow = (op: Operation): typeof operations.$inferInsert => ({
  id: op.id,
  kind: op.kind,
  state: op.state,
  targetType: op.target.type,
  targetName: op.target.name,
  host: op.host,
  tenant: op.tenant,
  requestedBy: op.requestedBy,
  summary: op.summary,
  params: op.params,
  progress: op.progress,
  steps: op.steps,
  error: op.error,
  createdAt: new Date(op.createdAt),
  updatedAt: new Date(op.updatedAt),
  finishedAt: op.finishedAt === null ? null : new Date(op.finishedAt),
});

/** Parsed through the domain schema, so a row that drifted from it fails loudly here. */
const fromRow = (r: Row): Operation =>
  Operation.parse({
    id: r.id,
    kind: r.kind,
    state: r.state,
    target: { type: r.targetType, name: r.targetName },
    host: r.host,
    tenant: r.tenant,
    requestedBy: r.requestedBy,
    summary: r.summary,
    params: r.params,
    progress: r.progress,
    steps: r.steps,
    error: r.error,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  });

/** Operations survive a server restart here. Implements `OperationStore` from @nimbus/fleet. */
export class DbOperationStore {
  constructor(private readonly db: Db) {}

  async insert(op: Operation): Promise<void> {
    await this.db.insert(operations).values(toRow(op));
  }

  async update(op: Operation): Promise<void> {
    const { id, createdAt: _createdAt, ...changes } = toRow(op);
    const updated = await this.db.update(operations).set(changes).where(eq(operations.id, id)).returning({ id: operations.id });
    if (updated.length === 0) throw new NimbusError("NOT_FOUND", `Operation ${id} is not recorded, so it cannot be updated.`, { id });
  }

  async listUnfinished(): Promise<Operation[]> {
    const rows = await this.db
      .select()
      .from(operations)
      .where(inArray(operations.state, ["pending", "running"]))
      .orderBy(asc(operations.createdAt));
    return rows.map(fromRow);
  }

  /** Newest first. */
  async list(filter: { limit: number; target?: { type: string; name: string }; kinds?: readonly string[] }): Promise<Operation[]> {
    const where = and(
      filter.target ? and(eq(operations.targetType, filter.target.type), eq(operations.targetName, filter.target.name)) : undefined,
      filter.kinds ? inArray(operations.kind, [...filter.kinds]) : undefined,
    );
    const rows = await this.db.select().from(operations).where(where).orderBy(desc(operations.createdAt)).limit(filter.limit);
    return rows.map(fromRow);
  }

  /**
   * One page of operations, filtered and sorted in SQL with its counts (the Operations and Moves
   * pages). The same rule as the domain's `queryOperations` (tested against it): text compared
   * lower-cased by position (no LIKE pattern to escape), text sorts in code-point order.
   */
  async page(input: OperationListQuery, scope: OperationScope): Promise<OperationPage> {
    const f = OperationListQuery.parse(input);
    const offset = f.offset;
    const staff = scope.tenant === null;
    const own = staff ? undefined : eq(operations.tenant, scope.tenant);
    const q = f.q.trim().toLowerCase();
    const columns = { id: operations.id, kind: operations.kind, target: operations.targetName, requestedBy: operations.requestedBy, summary: operations.summary, host: operations.host };
    const where = and(
      own,
      f.kind ? eq(operations.kind, f.kind) : undefined,
      f.kinds ? inArray(operations.kind, [...f.kinds]) : undefined,
      f.state === "active" ? inArray(operations.state, ["pending", "running"]) : f.state ? eq(operations.state, f.state) : undefined,
      f.targetType ? eq(operations.targetType, f.targetType) : undefined,
      f.target ? eq(operations.targetName, f.target) : undefined,
      staff && f.host ? or(eq(operations.host, f.host), sql`${operations.params}->>'destination' = ${f.host}`) : undefined,
      f.requestedBy ? eq(operations.requestedBy, f.requestedBy) : undefined,
      q ? or(...operationSearchColumns(staff).map((c) => sql`strpos(lower(${columns[c]}), ${q}) > 0`)) : undefined,
    );
    const sortColumn = { createdAt: operations.createdAt, updatedAt: operations.updatedAt, kind: operations.kind, state: operations.state, target: operations.targetName, requestedBy: operations.requestedBy }[f.sort];
    const dir = f.desc ? sql`desc` : sql`asc`;
    const text = f.sort !== "createdAt" && f.sort !== "updatedAt";
    const order: SQL[] = [text ? sql`${sortColumn} collate "C" ${dir}` : sql`${sortColumn} ${dir}`, sql`${operations.id} collate "C" ${dir}`];
    const [rows, [matching], [visible]] = await Promise.all([
      this.db.select().from(operations).where(where).orderBy(...order).limit(f.limit).offset(offset),
      this.db.select({ n: count() }).from(operations).where(where),
      this.db.select({ n: count() }).from(operations).where(own),
    ]);
    return { items: rows.map(fromRow), total: matching?.n ?? 0, all: visible?.n ?? 0, offset, limit: f.limit };
  }

  async get(id: string): Promise<Operation | null> {
    const [row] = await this.db.select().from(operations).where(eq(operations.id, id));
    return row ? fromRow(row) : null;
  }
}
