"use client";
import {
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  useReactTable,
  type ColumnDef,
  type Row,
  type SortingState,
} from "@tanstack/react-table";
import { Fragment, type ReactNode } from "react";
import { cx } from "@/lib/cx";
import { ErrorState, Skeleton, EmptyState } from "@/components/ui/states";

/** Per-column presentation hints, read from `columnDef.meta`. */
export interface ColumnMeta {
  align?: "right";
  className?: string;
  /**
   * Hidden below this breakpoint to keep phones legible. A table's name, state and primary
   * action never are: at 390 px they must stay in view without scrolling sideways.
   */
  hideBelow?: "sm" | "md" | "lg" | "xl";
}

export interface DataTableProps<T> {
  data: T[] | undefined;
  columns: ColumnDef<T, any>[];
  getRowId: (row: T) => string;
  isLoading?: boolean;
  error?: unknown;
  onRetry?: () => void;
  /** Shown when there are no rows at all, or none left after filtering. */
  emptyTitle: string;
  emptyHint?: ReactNode;
  sorting: SortingState;
  onSortingChange: (s: SortingState) => void;
  /** A full-width line under a row (operation progress). */
  renderSubRow?: (row: T) => ReactNode;
  rowTestId?: (row: T) => string;
  testId?: string;
  maxHeight?: string;
  /** Column ids not to show here (e.g. "host" on a host's own page). */
  hiddenColumns?: string[];
}

const hide: Record<NonNullable<ColumnMeta["hideBelow"]>, string> = { sm: "hidden sm:table-cell", md: "hidden md:table-cell", lg: "hidden lg:table-cell", xl: "hidden xl:table-cell" };

/**
 * The one table: sortable headers that stay in view, dense rows with tabular numbers, and the
 * loading (skeleton rows), empty and error states every list needs. Filtering happens before
 * the rows arrive here, from the URL, in the container.
 */
export function DataTable<T>({
  data,
  columns,
  getRowId,
  isLoading,
  error,
  onRetry,
  emptyTitle,
  emptyHint,
  sorting,
  onSortingChange,
  renderSubRow,
  rowTestId,
  testId,
  maxHeight = "calc(100vh - 190px)",
  hiddenColumns,
}: DataTableProps<T>) {
  const table = useReactTable({
    data: data ?? [],
    columns,
    getRowId,
    state: { sorting, columnVisibility: Object.fromEntries((hiddenColumns ?? []).map((id) => [id, false])) },
    onSortingChange: (updater) => onSortingChange(typeof updater === "function" ? updater(sorting) : updater),
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  const columnCount = table.getVisibleLeafColumns().length;
  const meta = (c: { columnDef: { meta?: unknown } }) => (c.columnDef.meta ?? {}) as ColumnMeta;

  if (error && !data) return <ErrorState error={error} onRetry={onRetry} />;

  return (
    <div data-testid={testId} className="overflow-auto rounded-lg border border-border bg-panel" style={{ maxHeight }}>
      <table className="w-full border-separate border-spacing-0 text-[12.5px]">
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const m = meta(header.column);
                const sorted = header.column.getIsSorted();
                const canSort = header.column.getCanSort();
                return (
                  <th
                    key={header.id}
                    scope="col"
                    aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}
                    className={cx(
                      "sticky top-0 z-10 whitespace-nowrap border-b border-border bg-panel-2 px-2 py-2 text-left align-middle sm:px-3 text-[11.5px] font-semibold uppercase tracking-wide text-muted",
                      m.align === "right" && "text-right",
                      m.hideBelow && hide[m.hideBelow],
                    )}
                  >
                    {header.isPlaceholder ? null : canSort ? (
                      <button
                        type="button"
                        onClick={header.column.getToggleSortingHandler()}
                        className={cx("inline-flex items-center gap-1 uppercase hover:text-fg", m.align === "right" && "flex-row-reverse")}
                      >
                        {flexRender(header.column.columnDef.header, header.getContext())}
                        <span aria-hidden className="w-2 text-[10px]">
                          {sorted === "asc" ? "▲" : sorted === "desc" ? "▼" : ""}
                        </span>
                      </button>
                    ) : (
                      flexRender(header.column.columnDef.header, header.getContext())
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {isLoading && !data
            ? Array.from({ length: 6 }, (_, i) => (
                <tr key={i} aria-hidden>
                  {table.getVisibleLeafColumns().map((c) => (
                    <td key={c.id} className={cx("border-b border-border px-2 py-2.5 sm:px-3", meta(c).hideBelow && hide[meta(c).hideBelow!])}>
                      <Skeleton className="w-3/4" />
                    </td>
                  ))}
                </tr>
              ))
            : table.getRowModel().rows.map((row: Row<T>) => {
                const sub = renderSubRow?.(row.original);
                return (
                  <Fragment key={row.id}>
                    <tr data-testid={rowTestId?.(row.original)} className="group hover:bg-panel-2/60">
                      {row.getVisibleCells().map((cell) => {
                        const m = meta(cell.column);
                        return (
                          <td
                            key={cell.id}
                            className={cx(
                              "whitespace-nowrap px-2 py-2 align-middle tabular-nums sm:px-3",
                              !sub && "border-b border-border",
                              m.align === "right" && "text-right",
                              m.hideBelow && hide[m.hideBelow],
                              m.className,
                            )}
                          >
                            {flexRender(cell.column.columnDef.cell, cell.getContext())}
                          </td>
                        );
                      })}
                    </tr>
                    {sub && (
                      <tr className="group">
                        <td colSpan={columnCount} className="border-b border-border px-2 pb-2.5 pt-0 sm:px-3">
                          {sub}
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
        </tbody>
      </table>
      {!isLoading && data && table.getRowModel().rows.length === 0 && <EmptyState title={emptyTitle}>{emptyHint}</EmptyState>}
      {error && data ? (
        <div className="border-t border-border p-2">
          <ErrorState error={error} onRetry={onRetry} compact />
        </div>
      ) : null}
    </div>
  );
}
