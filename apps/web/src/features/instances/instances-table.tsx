"use client";
import type { InstanceView, Operation } from "@nimbus/domain";
import { createColumnHelper, type SortingState } from "@tanstack/react-table";
import Link from "next/link";
import type { ReactNode, RefObject } from "react";
import { useStableColumns } from "@/lib/paged-list";
import { DataTable, type SparseRows } from "@/components/table/data-table";
import { ActionMenu, type MenuItem } from "@/components/ui/menu";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { formatMiB } from "@/lib/format";
import { domainStatus, reportedStateHint } from "@/lib/status";

const col = createColumnHelper<InstanceView>();

export type PowerAction = "start" | "shutdown" | "reboot" | "destroy";

export interface InstanceActions {
  migrate?: (i: InstanceView) => void;
  power?: (i: InstanceView, action: PowerAction) => void;
  /** Opens the delete dialog (typing the name confirms). */
  remove?: (i: InstanceView) => void;
}

function menuItems(i: InstanceView, a: InstanceActions): MenuItem[] {
  const items: MenuItem[] = [];
  // Its host does not answer: nothing could reach the VM, and its state is not known.
  if (i.state === "unknown") return items;
  const running = i.state === "running";
  if (a.migrate && running) items.push({ label: "Live migrate…", onSelect: () => a.migrate!(i), testId: "action-migrate" });
  if (a.power) {
    if (!running) items.push({ label: "Start", onSelect: () => a.power!(i, "start"), testId: "action-start" });
    if (running) {
      items.push({ label: "Shut down", onSelect: () => a.power!(i, "shutdown"), testId: "action-shutdown" });
      items.push({ label: "Reboot", onSelect: () => a.power!(i, "reboot"), testId: "action-reboot" });
      items.push({ label: "Force off…", onSelect: () => a.power!(i, "destroy"), danger: true, testId: "action-destroy" });
    }
  }
  if (a.remove) items.push({ label: "Delete…", onSelect: () => a.remove!(i), danger: true, testId: "action-delete" });
  return items;
}

/**
 * Built once per table (actions read through a ref): tanstack's flexRender renders a cell function
 * as a component, so new functions on every render would remount every cell, and a row's open
 * menu would close under the user whenever the list re-rendered (a live change, a reload).
 */
function columns(actions: RefObject<InstanceActions>, linkHosts: boolean) {
  return [
    col.accessor("name", {
      header: "Instance",
      cell: (c) => (
        <div className="flex items-center gap-2">
          <Link href={`/instances/${encodeURIComponent(c.getValue())}`} className="font-medium text-fg hover:text-accent hover:underline">
            {c.getValue()}
          </Link>
          {c.row.original.role && (
            <span className="hidden sm:inline-flex">
              <Tag>{c.row.original.role}</Tag>
            </span>
          )}
        </div>
      ),
    }),
    col.accessor("host", {
      header: "Host",
      meta: { hideBelow: "sm" },
      cell: (c) =>
        linkHosts ? (
          <Link href={`/hosts/${encodeURIComponent(c.getValue())}`} className="hover:text-accent hover:underline">
            {c.getValue()}
          </Link>
        ) : (
          <span className="font-mono text-[11.5px] text-muted">{c.getValue()}</span>
        ),
    }),
    col.accessor((i) => i.tenant ?? "", {
      id: "tenant",
      header: "Tenant",
      meta: { hideBelow: "sm" },
      cell: (c) => c.getValue() || <span className="text-faint">infra</span>,
    }),
    col.accessor("state", { header: "State", cell: (c) => <StatusBadge status={domainStatus(c.getValue())} title={reportedStateHint(c.row.original)} /> }),
    col.accessor("vcpus", { header: "vCPU", meta: { align: "right", hideBelow: "md" } }),
    col.accessor("memoryMiB", { header: "RAM", meta: { align: "right", hideBelow: "md" }, cell: (c) => formatMiB(c.getValue()) }),
    col.accessor((i) => i.vlans[0] ?? -1, {
      id: "vlan",
      header: "VLAN",
      meta: { hideBelow: "md" },
      cell: (c) => (c.row.original.vlans.length ? c.row.original.vlans.join(", ") : <span className="text-faint">—</span>),
    }),
    col.accessor((i) => i.vni ?? -1, {
      id: "vni",
      header: "VNI",
      meta: { hideBelow: "lg" },
      cell: (c) => c.row.original.vni ?? <span className="text-faint">—</span>,
    }),
    col.accessor((i) => i.diskPaths[0] ?? "", {
      id: "disk",
      header: "Disk",
      meta: { hideBelow: "lg", className: "max-w-56 truncate" },
      cell: (c) => (
        <span className="font-mono text-[11.5px] text-muted" title={c.row.original.diskPaths.join("\n")}>
          {c.row.original.diskPaths.join(", ") || "—"}
        </span>
      ),
    }),
    col.display({
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: (c) => <ActionMenu label={`Actions for ${c.row.original.name}`} items={menuItems(c.row.original, actions.current)} />,
    }),
  ];
}

export function InstancesTable({
  instances,
  isLoading,
  error,
  onRetry,
  sorting,
  onSortingChange,
  actions = {},
  linkHosts = true,
  filtered,
  operationFor,
  renderOperation,
  maxHeight,
  hiddenColumns,
  manualSorting,
  onEndReached,
  footer,
  emptyHint,
  sparse,
}: {
  instances: InstanceView[] | undefined;
  isLoading?: boolean;
  error?: unknown;
  onRetry?: () => void;
  sorting: SortingState;
  onSortingChange: (s: SortingState) => void;
  actions?: InstanceActions;
  /** Tenant viewers get an opaque host token instead of a host name: no link. */
  linkHosts?: boolean;
  filtered?: boolean;
  /** The operation to show under a row (running, or just ended). */
  operationFor?: (i: InstanceView) => Operation | undefined;
  renderOperation?: (op: Operation) => ReactNode;
  maxHeight?: string;
  hiddenColumns?: string[];
  /** Rows come sorted by the server (the paged Instances page). */
  manualSorting?: boolean;
  /** Load the next page as the user scrolls near the end. */
  onEndReached?: () => void;
  footer?: ReactNode;
  emptyHint?: ReactNode;
  /** Rows paged by offset on the server (the Instances page): the count, the row at an index, the window in view. */
  sparse?: SparseRows<InstanceView>;
}) {
  const cols = useStableColumns(actions, (actionsRef) => columns(actionsRef, linkHosts), [linkHosts]);
  return (
    <DataTable
      testId="instances-table"
      hiddenColumns={hiddenColumns}
      data={instances}
      columns={cols}
      getRowId={(i) => `${i.host}/${i.name}`}
      rowTestId={(i) => `instance-row-${i.name}`}
      isLoading={isLoading}
      error={error}
      onRetry={onRetry}
      sorting={sorting}
      onSortingChange={onSortingChange}
      maxHeight={maxHeight}
      emptyTitle={filtered ? "No instances match" : "No instances yet"}
      emptyHint={emptyHint ?? (filtered ? "Clear the search or filters to see every instance." : undefined)}
      manualSorting={manualSorting}
      onEndReached={onEndReached}
      footer={footer}
      sparse={sparse}
      renderSubRow={(i) => {
        const op = operationFor?.(i);
        return op && renderOperation ? <div data-testid={`instance-op-${i.name}`}>{renderOperation(op)}</div> : null;
      }}
    />
  );
}
