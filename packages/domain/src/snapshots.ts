import { z } from "zod";
import { DomainState, SNAPSHOT_DESCRIPTION_MAX, Snapshot, SnapshotsAllowed } from "./inventory.js";
import { DomainName, SnapshotName } from "./names.js";

export { SNAPSHOT_DESCRIPTION_MAX, Snapshot, SnapshotsAllowed } from "./inventory.js";

/**
 * Instance snapshots: libvirt's internal snapshots (disk and, for a running VM, memory in the
 * qcow2 file itself). Names are identifiers like every name that reaches a tool's arguments.
 */
/** Snapshots listed per instance: far above any real use (qcow2 slows down long before). */
export const SNAPSHOTS_MAX = 1024;

/** A description a person typed: one line of printable text, bounded. */
export const SnapshotDescription = z
  .string()
  .max(SNAPSHOT_DESCRIPTION_MAX, `a description is at most ${SNAPSHOT_DESCRIPTION_MAX} characters`)
  .regex(/^\P{Cc}*$/u, "a description is one line of text");


/** A disk as the rule needs it: its target and its format (libvirt's `<driver type=…>`, null when not set). */
export interface SnapshotDisk {
  target: string;
  format: string | null;
}

/**
 * Internal snapshots live inside qcow2 files: a raw disk (or one whose format is not stated,
 * which libvirt treats as raw) cannot hold one, and libvirt would refuse half-way. Refused up
 * front with the disks named.
 */
export function snapshotsAllowed(disks: readonly SnapshotDisk[]): SnapshotsAllowed {
  const other = disks.filter((d) => d.format !== "qcow2");
  if (other.length === 0) return { ok: true };
  const named = other.map((d) => `${d.target} is ${d.format ?? "raw (no format set)"}`).join(", ");
  return { ok: false, reason: `snapshots need qcow2 disks (they are stored inside the disk file); ${named}` };
}

/** libvirt's snapshot states as the VM states they record ("disk-snapshot" has no memory: the VM counts as off). */
export function snapshotState(libvirtState: string): DomainState {
  if (libvirtState === "disk-snapshot" || libvirtState === "shutdown") return "shutoff";
  if (libvirtState === "pmsuspended") return "suspended";
  const parsed = DomainState.safeParse(libvirtState);
  return parsed.success ? parsed.data : "other";
}

export const SnapshotTarget = z.object({ domain: DomainName, name: SnapshotName });
export const SnapshotCreateParams = SnapshotTarget.extend({ description: SnapshotDescription.default("") });
export type SnapshotTarget = z.infer<typeof SnapshotTarget>;
export type SnapshotCreateParams = z.infer<typeof SnapshotCreateParams>;
export const SnapshotListResult = z.object({ allowed: SnapshotsAllowed, snapshots: z.array(Snapshot).max(SNAPSHOTS_MAX) });
export type SnapshotListResult = z.infer<typeof SnapshotListResult>;
