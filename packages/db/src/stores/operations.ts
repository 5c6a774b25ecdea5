import { and, desc, eq, inArray, asc } from "drizzle-orm";
import { NimbusError, Operation } from "@nimbus/domain";
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

  async get(id: string): Promise<Operation | null> {
    const [row] = await this.db.select().from(operations).where(eq(operations.id, id));
    return row ? fromRow(row) : null;
  }
}
