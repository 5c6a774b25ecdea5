import type { Operation } from "../operations.js";

/**
 * One line of the moves history (per VM and overall): who moved what from where to where, with
 * which options, how long it took, the downtime measured by the hypervisor, and how it ended.
 */
export interface MoveRecord {
  id: string;
  kind: "migrate" | "storage-move";
  instance: string;
  tenant: string | null;
  requestedBy: string;
  /** Hosts for a migration, datastores for a storage move. */
  from: string | null;
  to: string | null;
  options: Record<string, unknown>;
  state: Operation["state"];
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
  /** Until now while it runs. */
  durationMs: number | null;
  /** Guest pause at switchover, measured by QEMU; null when not reported (or not a migration). */
  downtimeMs: number | null;
  /** The evacuation this move was part of. */
  maintenanceId: string | null;
  summary: string;
}

export const operationDurationMs = (op: Pick<Operation, "createdAt" | "finishedAt">, now: string): number | null => {
  const end = Date.parse(op.finishedAt ?? now);
  const start = Date.parse(op.createdAt);
  return Number.isFinite(end) && Number.isFinite(start) ? Math.max(0, end - start) : null;
};

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

export function moveRecord(op: Operation, now: string): MoveRecord | null {
  if (op.kind !== "migrate" && op.kind !== "storage-move") return null;
  const p = op.params;
  const migrate = op.kind === "migrate";
  const options = (migrate ? p.options : { bandwidthMiBps: p.bandwidthMiBps ?? null, disk: p.disk ?? null, mode: p.mode ?? null }) as Record<string, unknown> | undefined;
  return {
    id: op.id,
    kind: op.kind,
    instance: op.target.name,
    tenant: op.tenant,
    requestedBy: op.requestedBy,
    from: migrate ? (str(p.source) ?? op.host) : str(p.fromDatastore),
    to: migrate ? str(p.destination) : str(p.toDatastore),
    options: options ?? {},
    state: op.state,
    error: op.error,
    startedAt: op.createdAt,
    finishedAt: op.finishedAt,
    durationMs: operationDurationMs(op, now),
    downtimeMs: op.progress?.kind === "migrate" ? op.progress.downtimeMs : null,
    maintenanceId: str(p.maintenanceId),
    summary: op.summary,
  };
}

export interface MoveHistoryFilter {
  instance?: string;
  /** Moves from or to this host (migrations) or on it (storage moves). */
  host?: string;
  kind?: MoveRecord["kind"];
  result?: "succeeded" | "failed" | "cancelled" | "running";
  requestedBy?: string;
}

/** Newest first, filtered. */
export function moveHistory(ops: readonly Operation[], filter: MoveHistoryFilter, now: string): MoveRecord[] {
  return ops
    .filter((op) => !filter.host || op.host === filter.host || op.params.destination === filter.host)
    .map((op) => moveRecord(op, now))
    .filter((r): r is MoveRecord => r !== null)
    .filter(
      (r) =>
        (!filter.instance || r.instance === filter.instance) &&
        (!filter.kind || r.kind === filter.kind) &&
        (!filter.requestedBy || r.requestedBy === filter.requestedBy) &&
        (!filter.result || (filter.result === "running" ? r.state === "running" || r.state === "pending" : r.state === filter.result)),
    )
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id));
}
