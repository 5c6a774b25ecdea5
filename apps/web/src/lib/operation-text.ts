import type { MigrationProgress, Operation, OperationStep, StorageMoveProgress } from "@nimbus/domain";
import { formatBytes, formatDuration, formatRate } from "./format";

type StorageMovePhase = StorageMoveProgress["phase"];

/** The words for an operation in every place it appears: row, detail, toast. Pure. */

// Keyed by string so a new operation kind reads "Working…" until it gets its own verb.
const verbs: Record<string, string> = {
  migrate: "Migrating",
  scale: "Scaling",
  power: "Changing power",
  maintenance: "Evacuating",
  "storage-move": "Moving disk",
  create: "Creating",
  delete: "Deleting",
  "service-update": "Updating",
  "service-rollback": "Rolling back",
  "image-build": "Building image",
  "image-import": "Importing image",
};
const verb = (op: Operation) => verbs[op.kind] ?? "Working";

const param = (op: Operation, key: string): string | null => {
  const v = op.params[key];
  return typeof v === "string" ? v : null;
};

// Tenants get operations without params and with a masked host: say "its host" then.
export const sourceOf = (op: Operation) => param(op, "source") ?? "its host";
export const destinationOf = (op: Operation) => param(op, "destination");

/** Where a storage move is, in the words of someone watching it. */
const storagePhaseWords: Record<StorageMovePhase, string> = {
  preparing: "preparing",
  copying: "copying",
  verifying: "verifying the copy",
  switchover: "switching over",
  cleanup: "removing the old copy",
  done: "done",
};
export const storagePhaseWord = (phase: StorageMovePhase) => storagePhaseWords[phase];

/** "Migrating… 42 %" / "Scaling 2/4" / "Moving disk… copying 40 %" / "Evacuating… 2 of 5 moved" while it runs. */
export function operationHeadline(op: Operation): string {
  const p = op.progress;
  if (op.state === "pending") return `${verb(op)}… starting`;
  if (p?.kind === "migrate") return `${verb(op)}… ${Math.floor(p.percent)} %`;
  if (p?.kind === "scale") return `${verb(op)} ${p.running}/${p.desired}`;
  if (p?.kind === "service-update" || p?.kind === "service-rollback") return `${verb(op)}… ${p.updated}/${p.total} tasks on ${p.image}`;
  if (p?.kind === "storage-move") return `${verb(op)}… ${storagePhaseWord(p.phase)} ${Math.floor(p.percent)} %`;
  if (p?.kind === "maintenance") return `${verb(op)}… ${p.moved} of ${p.total} moved${p.blocked ? `, ${p.blocked} blocked` : ""}`;
  const at = currentStep(op.steps);
  if (at) return `${verb(op)}… ${at.step.label.toLowerCase()} (step ${at.index + 1} of ${op.steps.length})`;
  return `${verb(op)}…`;
}

/** The step a task runs now (or the next one due), with its position. */
export function currentStep(steps: readonly OperationStep[]): { step: OperationStep; index: number } | null {
  let index = steps.findIndex((s) => s.state === "running");
  if (index < 0) index = steps.findIndex((s) => s.state === "pending");
  return index < 0 ? null : { step: steps[index]!, index };
}

/** The guest's address a create reported once it booted. */
export const createdAddress = (op: Operation): string | null => (op.progress?.kind === "create" ? op.progress.address : null);

// Storage moves name datastores (export paths); tenants get them without params.
const fromDatastoreOf = (op: Operation) => param(op, "fromDatastore") ?? param(op, "sourcePath") ?? "its datastore";
const toDatastoreOf = (op: Operation) => param(op, "toDatastore");

/** "kvm1 → kvm2" for a migration, "/instance → /instance2" for a disk move; null when unknown. */
export function operationRoute(op: Operation): string | null {
  if (op.kind === "migrate" && destinationOf(op)) return `${sourceOf(op)} → ${destinationOf(op)}`;
  if (op.kind === "storage-move" && toDatastoreOf(op)) return `${fromDatastoreOf(op)} → ${toDatastoreOf(op)}`;
  return null;
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
  if ((op.kind === "service-update" || op.kind === "service-rollback") && (op.state === "succeeded" || op.state === "failed" || op.state === "cancelled")) {
    const image = op.progress && "image" in op.progress ? op.progress.image : null;
    if (op.state === "succeeded") return `${name} ${op.kind === "service-rollback" ? "rolled back to" : "now runs"} ${image ?? "its new image"}${took ? ` (${took})` : ""}`;
    // A cancel's error says what docker did (an update rolled back, a rollback left to finish).
    if (op.state === "cancelled") return op.error ? op.error.charAt(0).toUpperCase() + op.error.slice(1) : `${op.kind === "service-rollback" ? "Rollback" : "Update"} of ${name} cancelled`;
    return `${op.kind === "service-rollback" ? "Rollback" : "Update"} of ${name} failed: ${op.error ?? "unknown error"}`;
  }
  if (op.kind === "storage-move") {
    const disk = param(op, "disk") ?? "the disk";
    if (op.state === "succeeded") return `${disk} of ${name} moved to ${toDatastoreOf(op) ?? "its new datastore"}${took ? ` in ${took}` : ""}`;
    if (op.state === "cancelled") return `Disk move cancelled: ${disk} of ${name} stays on ${fromDatastoreOf(op)}`;
    if (op.state === "failed") return `${disk} of ${name} stays on ${fromDatastoreOf(op)}: ${op.error ?? "the copy failed"}`;
  }
  if (op.kind === "maintenance" && op.progress?.kind === "maintenance") {
    const p = op.progress;
    // The server writes what is left on the host and what to do next when it did not end well.
    if (op.state === "succeeded") return `${name} is empty: ${p.moved} VM${p.moved === 1 ? "" : "s"} moved${took ? ` in ${took}` : ""}; it stays in maintenance until you exit it`;
    if (op.state === "cancelled" || op.state === "failed") return `Evacuation of ${name} ${op.state === "cancelled" ? "aborted" : "incomplete"}: ${op.error ?? `${p.moved} of ${p.total} moved`}`;
  }
  if (op.kind === "create") {
    const address = createdAddress(op);
    const undone = op.progress?.kind === "create" && op.progress.undone.length ? `; cleaned up: ${op.progress.undone.join(", ")}` : "";
    if (op.state === "succeeded") return `${name} is running${address ? ` at ${address}` : ""}${took ? `, created in ${took}` : ""}`;
    if (op.state === "cancelled") return `Create of ${name} cancelled${op.error?.includes("undone:") ? `: ${op.error}` : undone || "; nothing was left behind"}`;
    // The server's error already says what was undone ("…; undone: removed …"): not twice.
    if (op.state === "failed") return `${name} was not created: ${op.error ?? "the create failed"}${op.error?.includes("undone:") ? "" : undone}`;
  }
  if (op.kind === "delete") {
    const kept = op.progress?.kind === "delete" && op.progress.kept.length ? `; kept (not on a datastore): ${op.progress.kept.join(", ")}` : "";
    if (op.state === "succeeded") return `${name} deleted${took ? ` in ${took}` : ""}${kept}`;
    if (op.state === "failed") return `Delete of ${name} failed: ${op.error ?? "unknown error"}`;
  }
  if (op.kind === "image-build") {
    const cached = op.progress?.kind === "image-build" && op.progress.cached ? " (the server's cached build, nothing rebuilt)" : "";
    if (op.state === "succeeded") return `Image ${name} is ready${took ? `, built in ${took}` : ""}${cached}`;
    if (op.state === "cancelled") return `Build of ${name} cancelled; nothing was published`;
    if (op.state === "failed") return `Image ${name} was not built: ${op.error ?? "the build failed"}`;
  }
  if (op.kind === "image-import") {
    if (op.state === "succeeded") return `Image ${name} imported${took ? ` in ${took}` : ""}`;
    if (op.state === "cancelled") return `Import of ${name} cancelled; nothing was published`;
    if (op.state === "failed") return `Image ${name} was not imported: ${op.error ?? "the import failed"}`;
  }
  if (op.state === "succeeded") return `${op.summary}: done`;
  if (op.state === "cancelled") return `${op.summary}: cancelled`;
  if (op.state === "failed") return `${op.summary}: ${op.error ?? "failed"}`;
  return operationHeadline(op);
}

/**
 * What a running migration has moved, pass by pass. The first pass copies the memory once; each
 * later one re-sends the pages the VM wrote meanwhile, so the bytes sent outgrow the memory
 * ("4.1 GiB of 4.0 GiB" read as a bug): say "all 4.0 GiB, then 0.1 GiB of changes" instead.
 */
function memoryCopied(p: MigrationProgress): string {
  if (p.iteration <= 1 || p.memoryProcessedBytes < p.memoryTotalBytes) return `${formatBytes(p.memoryProcessedBytes)} of ${formatBytes(p.memoryTotalBytes)}`;
  return `all ${formatBytes(p.memoryTotalBytes)}, then ${formatBytes(p.memoryProcessedBytes - p.memoryTotalBytes)} of changes`;
}

/** Where a migration is, in the words of someone watching it. */
const migrationPhaseWords: Record<MigrationProgress["phase"], string> = {
  preparing: "preparing",
  copying: "copying memory",
  switchover: "switching over (the VM is paused)",
  finishing: "finishing on the destination",
  done: "done",
};

const passWords = (iteration: number) => (iteration === 0 ? "—" : iteration === 1 ? "1, first copy of the memory" : `${iteration}, re-sending pages the VM changed`);

/** The detail figures of a running migration, label → value, in reading order. */
export function migrationFigures(op: Operation): [string, string][] {
  const p = op.progress;
  if (p?.kind !== "migrate") return [];
  return [
    ["Phase", migrationPhaseWords[p.phase]],
    ["Pass", passWords(p.iteration)],
    ["Memory copied", memoryCopied(p)],
    ["Left to send", formatBytes(p.memoryRemainingBytes)],
    ["Bandwidth", formatRate(p.bandwidthBytesPerSec)],
    ["Dirty rate", formatRate(p.dirtyRateBytesPerSec)],
    // An estimate of the pause at the end, not of the time left: say so.
    ["Downtime at switch-over", p.expectedDowntimeMs === null ? "—" : `≈ ${formatDuration(p.expectedDowntimeMs)}`],
    ...(p.downtimeMs !== null ? ([["Measured downtime", formatDuration(p.downtimeMs)]] as [string, string][]) : []),
  ];
}

/** The detail figures of a running disk move, label → value. */
export function storageMoveFigures(op: Operation): [string, string][] {
  const p = op.progress;
  if (p?.kind !== "storage-move") return [];
  const limit = typeof op.params.bandwidthMiBps === "number" ? `limit ${op.params.bandwidthMiBps} MiB/s` : "no limit";
  return [
    ["Phase", storagePhaseWord(p.phase)],
    ["Mode", p.mode === "live" ? "live block copy" : "offline copy"],
    ["Copied", `${formatBytes(p.bytesCopied)} of ${formatBytes(p.bytesTotal)}`],
    ["Bandwidth", `${p.phase === "copying" ? formatRate(p.bandwidthBytesPerSec) : "—"} (${limit})`],
  ];
}

/** Figures for whichever long work this is (none for scaling and evacuations, which show their own). */
export const operationFigures = (op: Operation): [string, string][] => (op.kind === "storage-move" ? storageMoveFigures(op) : migrationFigures(op));

export type PhaseMark = "done" | "current" | "pending" | "stopped";

/**
 * The phases of work that reports phases instead of steps (a migration, a disk move), each marked
 * done, current or pending; the phase it stopped in when it failed or was cancelled. Null for
 * work without phases.
 */
export function operationPhases(op: Operation): { label: string; mark: PhaseMark }[] | null {
  const p = op.progress;
  const order =
    op.kind === "migrate"
      ? (["preparing", "copying", "switchover", "finishing"] as const)
      : op.kind === "storage-move"
        ? (["preparing", "copying", "verifying", "switchover", "cleanup"] as const)
        : null;
  if (!order) return null;
  const words = (phase: string) => (op.kind === "migrate" ? migrationPhaseWords[phase as MigrationProgress["phase"]] : storagePhaseWord(phase as StorageMovePhase));
  const phase = p?.kind === "migrate" || p?.kind === "storage-move" ? p.phase : null;
  const at = op.state === "succeeded" || phase === "done" ? order.length : phase ? (order as readonly string[]).indexOf(phase) : op.state === "pending" ? -1 : 0;
  const ended = op.state === "failed" || op.state === "cancelled";
  return order.map((ph, i) => ({
    label: words(ph),
    mark: i < at ? "done" : i === at ? (ended ? "stopped" : "current") : "pending",
  }));
}
