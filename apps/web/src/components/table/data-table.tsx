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
import { useVirtualizer } from "@tanstack/react-virtual";
import { Fragment, useCallback, useEffect, useLayoutEffect, useRef, useState, type ReactNode, type RefObject } from "react";
import { cx } from "@/lib/cx";
import type { RowWindow } from "@/lib/sparse-pages";
import { ErrorState, Skeleton, EmptyState } from "@/components/ui/states";

/** Scrolls `ref` back to the top when `resetKey` changes: another filter or sort, whose rows start at the top. */
export function useScrollTopOnReset(ref: RefObject<HTMLElement | null>, resetKey: string | undefined) {
  const resetRef = useRef(resetKey);
  useEffect(() => {
    if (resetRef.current === resetKey) return;
    resetRef.current = resetKey;
    if (ref.current) ref.current.scrollTop = 0;
  }, [ref, resetKey]);
}

/** Per-column presentation hints, read from `columnDef.meta`. */
export interface ColumnMeta {
  align?: "right";
  className?: string;
  /**
   * Hidden below this breakpoint to keep phones legible. A table's name, state and primary
   * action never are: at 390 px they must stay in view without scrolling sideways.
   */
  hideBelow?: "sm" | "md" | "lg" | "xl" | "2xl";
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
  /** The rows arrive sorted (by the server): headers only report the wanted order. */
  manualSorting?: boolean;
  /** More rows exist than were given: called as the user scrolls near the end (once per length). */
  onEndReached?: () => void;
  /** A line under the rows (e.g. "loading more…"). */
  footer?: ReactNode;
  /**
   * Rows the server pages by offset (`data` unused): the table is sized to `total` from the
   * start, rows not loaded yet are placeholders, and the window in view is reported as it moves
   * so the container loads the pages under it. A new `resetKey` (filter, sort) scrolls to the top.
   */
  sparse?: SparseRows<T>;
}

export interface SparseRows<T> {
  total: number;
  rowAt: (index: number) => T | undefined;
  onWindowChange: (window: RowWindow) => void;
  resetKey?: string;
}

/**
 * Beyond this many rows only those in view (and a margin) are in the DOM: 20,000 rows scroll as
 * smoothly as 20. Below it every row is rendered, as tests and small lists expect.
 */
export const VIRTUALIZE_AFTER = 100;
/** A dense row's height before one is measured (then the first plain row's height is the estimate). */
const ROW_ESTIMATE = 37;

const hide: Record<NonNullable<ColumnMeta["hideBelow"]>, string> = { sm: "hidden sm:table-cell", md: "hidden md:table-cell", lg: "hidden lg:table-cell", xl: "hidden xl:table-cell", "2xl": "hidden 2xl:table-cell" };

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
  manualSorting,
  onEndReached,
  footer,
  sparse,
}: DataTableProps<T>) {
  const scrollRef = useRef<HTMLDivElement>(null);
  // Sparse: as many rows as the server counts, whether loaded or not.
  const count = sparse ? sparse.total : (data?.length ?? 0);
  const virtual = count > VIRTUALIZE_AFTER;
  const rowsRef = useRef<Row<T>[]>([]);
  // Rows not measured yet (20,000 of them) are sized like the rows that were: End lands on the
  // last row, and a placeholder is as tall as the row that replaces it.
  const [estimate, setEstimate] = useState(ROW_ESTIMATE);
  // Sparse rows are keyed by position (a key per loaded row would ask every page for every index).
  const isSparse = !!sparse;
  const getItemKey = useCallback((i: number) => (isSparse ? i : (rowsRef.current[i]?.id ?? i)), [isSparse]);
  const virtualizer = useVirtualizer({
    count: virtual ? count : 0,
    getScrollElement: () => scrollRef.current,
    estimateSize: useCallback(() => estimate, [estimate]),
    overscan: 15,
    // Before the container is measured (first paint), assume a screenful rather than nothing.
    initialRect: { width: 1200, height: 900 },
    getItemKey,
  });
  // Sparse: the positions to draw (the window, or every row of a short list), and the loaded rows among them.
  const sparseWindow = sparse ? (virtual ? virtualizer.getVirtualItems().map((v) => v.index) : Array.from({ length: count }, (_, i) => i)) : null;
  const sparseAt = sparseWindow ? sparseWindow.map((i) => sparse!.rowAt(i)) : null;
  // The loaded rows in view, the same array while they are the same rows: a new array would
  // rebuild the row model and (through tanstack's page-index reset) render the table again, forever.
  const sparseRows = useRef<T[]>([]);
  if (sparseAt) {
    const loaded = sparseAt.filter((r): r is T => r !== undefined);
    const prev = sparseRows.current;
    if (loaded.length !== prev.length || loaded.some((r, k) => r !== prev[k])) sparseRows.current = loaded;
  }
  const table = useReactTable({
    data: sparseAt ? sparseRows.current : (data ?? []),
    // No pages or expansion here: nothing to reset when the rows change.
    autoResetPageIndex: false,
    autoResetExpanded: false,
    columns,
    getRowId,
    state: { sorting, columnVisibility: Object.fromEntries((hiddenColumns ?? []).map((id) => [id, false])) },
    onSortingChange: (updater) => onSortingChange(typeof updater === "function" ? updater(sorting) : updater),
    getCoreRowModel: getCoreRowModel(),
    manualSorting,
    getSortedRowModel: manualSorting ? undefined : getSortedRowModel(),
  });
  const columnCount = table.getVisibleLeafColumns().length;
  const meta = (c: { columnDef: { meta?: unknown } }) => (c.columnDef.meta ?? {}) as ColumnMeta;
  const rows = table.getRowModel().rows;
  rowsRef.current = rows;
  const windowRows = virtual ? virtualizer.getVirtualItems() : [];
  const lastInView = virtual ? (windowRows.at(-1)?.index ?? 0) : rows.length - 1;
  const firstInView = virtual ? (windowRows[0]?.index ?? 0) : 0;
  useLayoutEffect(() => {
    if (!virtual) return;
    // A plain row (no operation line under it): its height is every unmeasured row's.
    const plain = [...(scrollRef.current?.querySelectorAll("tbody[data-index]") ?? [])].find((b) => b.children.length === 1 && b.firstElementChild?.getAttribute("data-testid") !== "row-placeholder");
    const h = plain ? Math.round(plain.getBoundingClientRect().height) : 0;
    if (h > 0 && h !== estimate) setEstimate(h);
  });
  useEffect(() => {
    if (estimate !== ROW_ESTIMATE) virtualizer.measure();
  }, [estimate, virtualizer]);
  const onWindowChange = sparse?.onWindowChange;
  useEffect(() => {
    if (onWindowChange) onWindowChange({ start: firstInView, end: virtual ? lastInView : count - 1 });
  }, [onWindowChange, firstInView, lastInView, virtual, count]);
  useScrollTopOnReset(scrollRef, sparse?.resetKey);
  const endRef = useRef(-1);
  const asking = onEndReached !== undefined;
  useEffect(() => {
    // The page withholds onEndReached while it fetches; a fetch that ended without new rows (a
    // refetch after a live change cancels a next-page fetch) must be asked for again.
    if (!asking) endRef.current = -1;
  }, [asking]);
  useEffect(() => {
    // Near the end of what is loaded: ask for more, once for each length reached.
    if (!onEndReached || rows.length === 0 || lastInView < rows.length - 30 || endRef.current === rows.length) return;
    endRef.current = rows.length;
    onEndReached();
  }, [onEndReached, lastInView, rows.length]);

  if (error && !data && !sparse) return <ErrorState error={error} onRetry={onRetry} />;

  const renderRow = (row: Row<T>) => {
    const sub = renderSubRow?.(row.original);
    return (
      <>
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
      </>
    );
  };
  // A row not loaded yet: calm skeleton cells at a row's height (nothing moves when it arrives).
  const placeholder = (index: number) => (
    <tr data-testid="row-placeholder" data-row-index={index} aria-hidden style={{ height: estimate }}>
      {table.getVisibleLeafColumns().map((c) => (
        <td key={c.id} className={cx("border-b border-border px-2 align-middle sm:px-3", meta(c).hideBelow && hide[meta(c).hideBelow!])}>
          <Skeleton className="w-3/4 opacity-60" />
        </td>
      ))}
    </tr>
  );
  const byId = sparse ? new Map(rows.map((r) => [r.id, r])) : null;
  const renderAt = (index: number, k: number) => {
    const item = sparseAt![k];
    const row = item === undefined ? undefined : byId!.get(getRowId(item));
    return row ? renderRow(row) : placeholder(index);
  };
  const spacer = (height: number, key: string) =>
    height > 0 ? (
      <tbody key={key} aria-hidden>
        <tr style={{ height }}>
          <td colSpan={columnCount} />
        </tr>
      </tbody>
    ) : null;

  return (
    <div ref={scrollRef} data-testid={testId} className="overflow-auto rounded-lg border border-border bg-panel" style={{ maxHeight }}>
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
        {virtual ? (
          <>
            {spacer(windowRows[0]?.start ?? 0, "before")}
            {windowRows.map((v, k) => (
              // One tbody per row (valid HTML): a row and its operation line are measured together.
              <tbody key={v.key} data-index={v.index} ref={virtualizer.measureElement}>
                {sparse ? renderAt(v.index, k) : renderRow(rows[v.index]!)}
              </tbody>
            ))}
            {spacer(virtualizer.getTotalSize() - (windowRows.at(-1)?.end ?? 0), "after")}
          </>
        ) : (
          <tbody>
            {isLoading && !data && !sparse
              ? Array.from({ length: 6 }, (_, i) => (
                  <tr key={i} aria-hidden>
                    {table.getVisibleLeafColumns().map((c) => (
                      <td key={c.id} className={cx("border-b border-border px-2 py-2.5 sm:px-3", meta(c).hideBelow && hide[meta(c).hideBelow!])}>
                        <Skeleton className="w-3/4" />
                      </td>
                    ))}
                  </tr>
                ))
              : sparseWindow
                ? sparseWindow.map((index, k) => <Fragment key={index}>{renderAt(index, k)}</Fragment>)
                : rows.map((row) => <Fragment key={row.id}>{renderRow(row)}</Fragment>)}
          </tbody>
        )}
      </table>
      {!isLoading && (sparse ? count === 0 : data && rows.length === 0) && <EmptyState title={emptyTitle}>{emptyHint}</EmptyState>}
      {footer}
      {error && (data || sparse) ? (
        <div className="border-t border-border p-2">
          <ErrorState error={error} onRetry={onRetry} compact />
        </div>
      ) : null}
    </div>
  );
}
