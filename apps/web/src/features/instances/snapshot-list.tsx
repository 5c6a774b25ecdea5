import type { Snapshot, SnapshotListResult } from "@nimbus/domain";
import { Button } from "@/components/ui/button";
import { PlainTable, phoneHiddenCell, plainCell } from "@/components/ui/plain-table";
import { EmptyState } from "@/components/ui/states";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { RelativeTime } from "@/components/ui/time";
import { domainStatus } from "@/lib/status";

/**
 * An instance's snapshots from plain props: name (the current one tagged), when, the VM's state
 * then, description; Revert and Delete when the viewer may act. A VM whose disks cannot hold a
 * snapshot says why instead.
 */
export function SnapshotList({
  data,
  onRevert,
  onDelete,
  sending,
}: {
  data: SnapshotListResult;
  onRevert?: (s: Snapshot) => void;
  onDelete?: (s: Snapshot) => void;
  /** This snapshot's revert or delete is out. */
  sending?: (s: Snapshot) => boolean;
}) {
  const acts = onRevert || onDelete;
  return (
    <>
      {!data.allowed.ok && (
        <p className="border-b border-border bg-warn-soft px-3 py-2 text-[12.5px]" data-testid="snapshots-refused">
          Snapshots are not available for this instance: {data.allowed.reason}.
        </p>
      )}
      {data.snapshots.length === 0 ? (
        <EmptyState title="No snapshots">{data.allowed.ok ? "Take one before a risky change; you can revert to it later." : null}</EmptyState>
      ) : (
        <PlainTable head={["Name", "Created", "VM state", "Description", ...(acts ? [""] : [])]} phoneHidden={[3]} testId="snapshots-table">
          {data.snapshots.map((s) => (
            <tr key={s.name} data-testid={`snapshot-${s.name}`}>
              <td className={`${plainCell} font-mono`}>
                <span className="inline-flex flex-wrap items-center gap-1.5">
                  {s.name}
                  {s.current && <Tag title="The snapshot the VM was last taken at or reverted to">current</Tag>}
                </span>
              </td>
              <td className={plainCell}>
                <RelativeTime iso={s.createdAt} />
              </td>
              <td className={plainCell}>
                <StatusBadge status={domainStatus(s.state)} />
              </td>
              <td className={`${plainCell} ${phoneHiddenCell} break-words text-muted`}>{s.description || "—"}</td>
              {acts && (
                <td className={plainCell}>
                  {/* Stacked on phones, so both fit beside the state without a sideways scroll. */}
                  <div className="flex flex-col items-end gap-1 sm:flex-row sm:justify-end">
                    {onRevert && (
                      <Button size="sm" variant="ghost" busy={sending?.(s)} onClick={() => onRevert(s)} data-testid={`revert-${s.name}`}>
                        Revert…
                      </Button>
                    )}
                    {onDelete && (
                      <Button size="sm" variant="ghost" className="text-crit" onClick={() => onDelete(s)} data-testid={`delete-snapshot-${s.name}`}>
                        Delete…
                      </Button>
                    )}
                  </div>
                </td>
              )}
            </tr>
          ))}
        </PlainTable>
      )}
    </>
  );
}
