import { NimbusError, isFinal, queryOperations, type Operation, type OperationListQuery, type OperationScope } from "@nimbus/domain";
import type { KnownHostsStore, OperationStore } from "./contract.js";

/**
 * In-memory stores: for tests and as the reference behaviour of the database-backed ones.
 * They copy on the way in and out, as a database does, so a caller that forgets to persist a
 * change sees the stale copy here too.
 */
export class MemoryKnownHosts implements KnownHostsStore {
  private readonly entries = new Map<string, { fingerprint: string; key: string }>();

  async get(host: string) {
    const e = this.entries.get(host);
    return e ? { ...e } : null;
  }

  async pin(host: string, entry: { fingerprint: string; key: string }) {
    if (!this.entries.has(host)) this.entries.set(host, { fingerprint: entry.fingerprint, key: entry.key });
    return { ...this.entries.get(host)! };
  }

  async replace(host: string, previous: string, entry: { fingerprint: string; key: string }) {
    if (this.entries.get(host)?.fingerprint !== previous) return false;
    this.entries.set(host, { fingerprint: entry.fingerprint, key: entry.key });
    return true;
  }

  async list() {
    return [...this.entries].map(([host, e]) => ({ host, ...e }));
  }
}

export class MemoryOperationStore implements OperationStore {
  private readonly ops = new Map<string, Operation>();

  async insert(op: Operation) {
    if (this.ops.has(op.id)) throw new NimbusError("CONFLICT", `operation ${op.id} already exists`, { operation: op.id });
    this.ops.set(op.id, structuredClone(op));
  }

  async update(op: Operation) {
    if (!this.ops.has(op.id)) throw new NimbusError("NOT_FOUND", `operation ${op.id} not found`, { operation: op.id });
    this.ops.set(op.id, structuredClone(op));
  }

  async listUnfinished() {
    return [...this.ops.values()].filter((o) => !isFinal(o.state)).map((o) => structuredClone(o));
  }

  async page(query: OperationListQuery, scope: OperationScope) {
    const page = queryOperations([...this.ops.values()], query, scope);
    return { ...page, items: page.items.map((o) => structuredClone(o)) };
  }

  /** Newest first. */
  async list(filter: { limit: number; target?: { type: string; name: string }; kinds?: readonly string[] }) {
    const { target, kinds } = filter;
    return [...this.ops.values()]
      .filter((o) => !target || (o.target.type === target.type && o.target.name === target.name))
      .filter((o) => !kinds || kinds.includes(o.kind))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
      .slice(0, filter.limit)
      .map((o) => structuredClone(o));
  }

  async get(id: string) {
    const o = this.ops.get(id);
    return o ? structuredClone(o) : null;
  }
}
