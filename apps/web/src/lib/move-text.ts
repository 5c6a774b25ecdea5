import type { MoveRecord } from "@nimbus/domain";

const num = (v: unknown): number | null => (typeof v === "number" ? v : null);

/** The options a move ran with, as a short line ("limit 100 MiB/s · auto-converge"). Pure. */
export function moveOptionsText(r: Pick<MoveRecord, "kind" | "options">): string {
  const o = r.options;
  const bandwidth = num(o.bandwidthMiBps);
  const limit = bandwidth !== null ? `limit ${bandwidth} MiB/s` : "no bandwidth limit";
  if (r.kind === "storage-move") {
    return [typeof o.disk === "string" ? o.disk : null, o.mode === "live" ? "live copy" : o.mode === "offline" ? "offline copy" : null, limit].filter(Boolean).join(" · ");
  }
  const downtime = num(o.maxDowntimeMs);
  const parts = [bandwidth !== null ? limit : null, downtime !== null ? `max downtime ${downtime} ms` : null, o.autoConverge ? "auto-converge" : null, o.postCopy ? "post-copy" : null];
  return parts.filter(Boolean).join(" · ") || "defaults";
}

export const moveKindLabel = (kind: MoveRecord["kind"]) => (kind === "migrate" ? "migration" : "disk move");
