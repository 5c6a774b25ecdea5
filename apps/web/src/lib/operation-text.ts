import type { Operation } from "@nimbus/domain";
import { formatBytes, formatDuration, formatRate } from "./format";

/** The words for an operation in every place it appears: row, detail, toast. Pure. */

// Keyed by string so a new operation kind reads "Working…" until it gets its own verb.
const verbs: Record<string, string> = {
  migrate: "Migrating",
  scale: "Scaling",
  power: "Changing power",
  maintenance: "Evacuating",
  "storage-move": "Moving disk",
};
const verb = (op: Operation) => verbs[op.kind] ?? "Working";

const param = (op: Operation, key: string): string | null => {
  const v = op.params[key];
  return typeof v === "string" ? v : null;
};

// Tenants get operations without params and with a masked host: say "its host" then.
export const sourceOf = (op: Operation) => param(op, "source") ?? "its host";
export const destinationOf = (op: Operation) => param(op, "destination");

/** "Migrating… 42 %" / "Scaling 2/4" while it runs. */
export function operationHeadline(op: Operation): string {
  const p = op.progress;
  if (op.state === "pending") return `${verb(op)}… starting`;
  if (p?.kind === "migrate") return `${verb(op)}… ${Math.floor(p.percent)} %`;
  if (p?.kind === "scale") return `${verb(op)} ${p.running}/${p.desired}`;
  return `${verb(op)}…`;
}

/** The sentence a person needs when it ends: where the VM is and why. */
export function operationOutcome(op: Operation): string {
  const name = op.target.name;
  const src = sourceOf(op);
  const dst = destinationOf(op);
  const took = op.finishedAt ? formatDuration(Date.parse(op.finishedAt) - Date.parse(op.createdAt)) : null;
  if (op.kind === "migrate") {
    const downtime = op.progress?.kind === "migrate" && op.progress.downtimeMs !== null ? `, downtime ${formatDuration(op.progress.downtimeMs)}` : "";
    if (op.state === "succeeded") return `${name} migrated${dst ? ` to ${dst}` : ""}${took ? ` in ${took}` : ""}${downtime}`;
    if (op.state === "cancelled") return `Migration cancelled: ${name} still running on ${src}`;
    if (op.state === "failed") return `${name} still running on ${src}: ${op.error ?? "the migration failed"}`;
  }
  if (op.kind === "scale" && op.progress?.kind === "scale") {
    if (op.state === "succeeded") return `${name} scaled to ${op.progress.desired} replicas${took ? ` in ${took}` : ""}`;
    if (op.state === "failed") return `Scaling ${name} failed at ${op.progress.running}/${op.progress.desired}: ${op.error ?? "unknown error"}`;
    if (op.state === "cancelled") return `Scaling ${name} cancelled at ${op.progress.running}/${op.progress.desired}`;
  }
  if (op.state === "succeeded") return `${op.summary}: done`;
  if (op.state === "cancelled") return `${op.summary}: cancelled`;
  if (op.state === "failed") return `${op.summary}: ${op.error ?? "failed"}`;
  return operationHeadline(op);
}

/** The detail figures of a running migration, label → value, in reading order. */
export function migrationFigures(op: Operation): [string, string][] {
  const p = op.progress;
  if (p?.kind !== "migrate") return [];
  return [
    ["Phase", p.phase],
    ["Memory copied", `${formatBytes(p.memoryProcessedBytes)} of ${formatBytes(p.memoryTotalBytes)}`],
    ["Remaining", formatBytes(p.memoryRemainingBytes)],
    ["Bandwidth", formatRate(p.bandwidthBytesPerSec)],
    ["Dirty rate", formatRate(p.dirtyRateBytesPerSec)],
    ["Iteration", String(p.iteration)],
    ["Expected downtime", p.expectedDowntimeMs === null ? "—" : formatDuration(p.expectedDowntimeMs)],
    ...(p.downtimeMs !== null ? ([["Measured downtime", formatDuration(p.downtimeMs)]] as [string, string][]) : []),
  ];
}
