"use client";
import type { MoveRecord } from "@nimbus/domain";
import { createColumnHelper, type SortingState } from "@tanstack/react-table";
import Link from "next/link";
import type { ReactNode, RefObject } from "react";
import { serverSortable, useStableColumns } from "@/lib/paged-list";
import { DataTable, type SparseRows } from "@/components/table/data-table";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { RelativeTime } from "@/components/ui/time";
import { formatDuration } from "@/lib/format";
import { moveKindLabel, moveOptionsText } from "@/lib/move-text";
import { operationStatus } from "@/lib/status";

const col = createColumnHelper<MoveRecord>();
const running = (r: MoveRecord) => r.state === "running" || r.state === "pending";

/** Built once per table (the clock through a ref): new cell functions each tick would remount every cell. */
function columns(now: RefObject<number>, sortable: readonly string[] | undefined) {
  const all = [
    col.accessor("startedAt", { header: "Started", cell: (c) => <RelativeTime iso={c.getValue()} /> }),
    col.accessor("kind", {
      header: "Kind",
      meta: { hideBelow: "sm" },
      cell: (c) => (
        <span className="flex items-center gap-1">
          <Tag>{moveKindLabel(c.getValue())}</Tag>
          {c.row.original.maintenanceId && <Tag title="Part of a host evacuation (enter maintenance)">evacuation</Tag>}
        </span>
      ),
    }),
    col.accessor("instance", {
      header: "Instance",
      cell: (c) => (
        <Link href={`/instances/${encodeURIComponent(c.getValue())}`} className="font-medium text-fg hover:text-accent hover:underline">
          {c.getValue()}
        </Link>
      ),
    }),
    col.accessor((r) => `${r.from ?? ""} → ${r.to ?? ""}`, {
      id: "route",
      header: "From → to",
      meta: { hideBelow: "sm" },
      cell: (c) => (
        <span className={c.row.original.kind === "storage-move" ? "font-mono text-[11.5px]" : undefined}>
          {c.row.original.from ?? "?"} <span className="text-muted">→</span> {c.row.original.to ?? "?"}
        </span>
      ),
    }),
    col.accessor((r) => moveOptionsText(r), {
      id: "options",
      header: "Options",
      enableSorting: false,
      meta: { hideBelow: "xl", className: "max-w-64 truncate text-muted" },
    }),
    col.accessor("requestedBy", { header: "By", meta: { hideBelow: "lg" } }),
    col.accessor((r) => (running(r) ? Math.max(0, now.current - Date.parse(r.startedAt)) : (r.durationMs ?? -1)), {
      id: "duration",
      header: "Took",
      meta: { align: "right", hideBelow: "md" },
      cell: (c) => formatDuration(c.getValue() < 0 ? null : c.getValue()),
    }),
    col.accessor((r) => r.downtimeMs ?? -1, {
      id: "downtime",
      header: "Downtime",
      meta: { align: "right", hideBelow: "md" },
      cell: (c) => (c.row.original.kind === "storage-move" ? <span className="text-faint" title="A disk move does not pause the VM">none</span> : formatDuration(c.row.original.downtimeMs)),
    }),
    col.accessor("state", {
      header: "Result",
      meta: { className: "max-w-[10rem] truncate sm:max-w-[22rem]" },
      cell: (c) => {
        const r = c.row.original;
        return (
          <span className="flex min-w-0 items-center gap-2" title={r.error ?? undefined}>
            <StatusBadge status={operationStatus(r.state)} />
            {r.error && <span className={r.state === "failed" ? "truncate text-crit" : "truncate text-warn"}>{r.error}</span>}
          </span>
        );
      },
    }),
  ];
  return serverSortable(all, sortable);
}

/** Moves of VMs between hosts and of disks between datastores: who, from, to, options, how long, downtime, result. */
export function MovesTable({
  moves,
  now,
  isLoading,
  error,
  onRetry,
  sorting,
  onSortingChange,
  filtered,
  hiddenColumns,
  maxHeight,
  renderRunning,
  sortable,
  onEndReached,
  footer,
  sparse,
}: {
  moves: MoveRecord[] | undefined;
  now: number;
  isLoading?: boolean;
  error?: unknown;
  onRetry?: () => void;
  sorting: SortingState;
  onSortingChange: (s: SortingState) => void;
  filtered?: boolean;
  hiddenColumns?: string[];
  maxHeight?: string;
  /** Live progress under a move that is still running. */
  renderRunning?: (move: MoveRecord) => ReactNode;
  /** Rows come sorted by the server, by these columns only (the paged Moves page). */
  sortable?: readonly string[];
  onEndReached?: () => void;
  footer?: ReactNode;
  /** Rows paged by offset on the server: the count, the row at an index, the window in view (`data` unused). */
  sparse?: SparseRows<MoveRecord>;
}) {
  const cols = useStableColumns(now, (nowRef) => columns(nowRef, sortable), [sortable?.join()]);
  return (
    <DataTable
      testId="moves-table"
      data={moves}
      columns={cols}
      manualSorting={!!sortable}
      onEndReached={onEndReached}
      footer={footer}
      sparse={sparse}
      getRowId={(r) => r.id}
      rowTestId={(r) => `move-row-${r.id}`}
      isLoading={isLoading}
      error={error}
      onRetry={onRetry}
      sorting={sorting}
      onSortingChange={onSortingChange}
      hiddenColumns={hiddenColumns}
      maxHeight={maxHeight}
      emptyTitle={filtered ? "No moves match" : "No moves yet"}
      emptyHint={filtered ? "Clear the filters to see every move." : "Live migrations and disk moves are listed here once they start."}
      renderSubRow={(r) => (running(r) && renderRunning ? renderRunning(r) : null)}
    />
  );
}
