"use client";
import type { Operation } from "@nimbus/domain";
import { createColumnHelper, type SortingState } from "@tanstack/react-table";
import Link from "next/link";
import type { ReactNode, RefObject } from "react";
import { serverSortable, useStableColumns } from "@/lib/paged-list";
import { DataTable, type SparseRows } from "@/components/table/data-table";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { RelativeTime } from "@/components/ui/time";
import { formatDuration } from "@/lib/format";
import { operationHref, targetHref } from "@/lib/hrefs";
import { operationOutcome } from "@/lib/operation-text";
import { operationStatus } from "@/lib/status";

const col = createColumnHelper<Operation>();
const isFinal = (s: Operation["state"]) => s === "succeeded" || s === "failed" || s === "cancelled";


/**
 * Built once per table (the clock read through a ref): flexRender renders a cell function as a
 * component, so new functions on every tick would remount every cell of the list.
 */
function columns(now: RefObject<number>, showTarget: boolean, sortable: readonly string[] | undefined) {
  const all = [
    col.accessor("summary", {
      header: "Operation",
      meta: { className: "max-w-[12rem] truncate sm:max-w-[28rem]" },
      cell: (c) => (
        <span className="flex items-center gap-2">
          <span className="hidden sm:inline-flex">
            <Tag>{c.row.original.kind}</Tag>
          </span>
          <Link href={operationHref(c.row.original.id)} title={c.getValue()} className="truncate hover:text-accent hover:underline" data-testid="operation-link">
            {c.getValue()}
          </Link>
        </span>
      ),
    }),
    ...(showTarget
      ? [
          col.accessor((o) => `${o.target.type}/${o.target.name}`, {
            id: "target",
            header: "Target",
            meta: { hideBelow: "md" },
            cell: (c) => (
              <Link href={targetHref(c.row.original.target)} className="hover:text-accent hover:underline">
                {c.row.original.target.name}
              </Link>
            ),
          }),
        ]
      : []),
    col.accessor("state", { header: "State", cell: (c) => <StatusBadge status={operationStatus(c.getValue())} /> }),
    col.accessor("requestedBy", { header: "By", meta: { hideBelow: "lg" } }),
    col.accessor("createdAt", { header: "Started", meta: { hideBelow: "sm" }, cell: (c) => <RelativeTime iso={c.getValue()} /> }),
    // Clamped: a running operation created a moment after this browser's clock last ticked is not negative.
    col.accessor((o) => Math.max(0, (o.finishedAt ? Date.parse(o.finishedAt) : now.current) - Date.parse(o.createdAt)), {
      id: "duration",
      header: "Took",
      meta: { align: "right", hideBelow: "sm" },
      cell: (c) => formatDuration(c.getValue()),
    }),
    col.accessor((o) => (isFinal(o.state) && o.state !== "succeeded" ? operationOutcome(o) : ""), {
      id: "result",
      header: "Result",
      enableSorting: false,
      meta: { hideBelow: "lg", className: "max-w-[26rem] truncate" },
      cell: (c) => {
        const o = c.row.original;
        if (!isFinal(o.state)) return null;
        const text = operationOutcome(o);
        return (
          <span title={text} className={o.state === "failed" ? "text-crit" : o.state === "cancelled" ? "text-warn" : "text-muted"}>
            {text}
          </span>
        );
      },
    }),
  ];
  return serverSortable(all, sortable);
}

/** Operations, newest first; running ones get their live progress under the row. */
export function OperationsTable({
  operations,
  now,
  isLoading,
  error,
  onRetry,
  sorting,
  onSortingChange,
  renderRunning,
  showTarget = true,
  filtered,
  maxHeight,
  sortable,
  onEndReached,
  footer,
  sparse,
}: {
  operations: Operation[] | undefined;
  now: number;
  isLoading?: boolean;
  error?: unknown;
  onRetry?: () => void;
  sorting: SortingState;
  onSortingChange: (s: SortingState) => void;
  renderRunning?: (op: Operation) => ReactNode;
  showTarget?: boolean;
  filtered?: boolean;
  maxHeight?: string;
  /** Rows come sorted by the server, by these columns only (the paged Operations page). */
  sortable?: readonly string[];
  onEndReached?: () => void;
  footer?: ReactNode;
  /** Rows paged by offset on the server: the count, the row at an index, the window in view (`data` unused). */
  sparse?: SparseRows<Operation>;
}) {
  const cols = useStableColumns(now, (nowRef) => columns(nowRef, showTarget, sortable), [showTarget, sortable?.join()]);
  return (
    <DataTable
      testId="operations-table"
      data={operations}
      columns={cols}
      manualSorting={!!sortable}
      onEndReached={onEndReached}
      footer={footer}
      sparse={sparse}
      getRowId={(o) => o.id}
      rowTestId={(o) => `operation-row-${o.id}`}
      isLoading={isLoading}
      error={error}
      onRetry={onRetry}
      sorting={sorting}
      onSortingChange={onSortingChange}
      maxHeight={maxHeight}
      emptyTitle={filtered ? "No operations match" : "No operations yet"}
      emptyHint={filtered ? undefined : "Migrations and scaling show up here as they run."}
      renderSubRow={(o) => (!isFinal(o.state) && renderRunning ? renderRunning(o) : null)}
    />
  );
}
