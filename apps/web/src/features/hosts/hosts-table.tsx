"use client";
import type { HostSummary, Operation } from "@nimbus/domain";
import { createColumnHelper, type SortingState } from "@tanstack/react-table";
import Link from "next/link";
import type { ReactNode } from "react";
import { DataTable, type SparseRows } from "@/components/table/data-table";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { UsageBar } from "@/components/ui/usage-bar";
import { ActionMenu, type MenuItem } from "@/components/ui/menu";
import { formatBytes, formatMiB, percentOf } from "@/lib/format";
import { maintenanceStatus } from "@/features/maintenance/maintenance-status";
import type { MaintenanceView } from "@/lib/api-types";
import { ConnectionCell } from "./connection-cell";

const col = createColumnHelper<HostSummary>();
const stateRank: Record<HostSummary["state"], number> = {
  "key-changed": 0, unreachable: 1, "auth-failed": 2, "protocol-mismatch": 3, "agent-missing": 4, connecting: 5, online: 6,
};

export interface HostActions {
  /** Opens the dry-run plan of an evacuation. */
  enterMaintenance?: (host: HostSummary) => void;
  exitMaintenance?: (host: HostSummary) => void;
}

function columns(actions: HostActions, maintenanceOf: (h: HostSummary) => MaintenanceView | undefined) {
  return [
    col.accessor("name", {
      header: "Host",
      cell: (c) => (
        <div>
          <Link href={`/hosts/${encodeURIComponent(c.getValue())}`} className="font-medium text-fg hover:text-accent hover:underline">
            {c.getValue()}
          </Link>
          <div className="font-mono text-[11px] text-faint">{c.row.original.address}</div>
        </div>
      ),
    }),
    col.accessor((h) => h.roles.join(","), {
      id: "roles",
      header: "Roles",
      meta: { hideBelow: "lg" },
      cell: (c) => (
        <div className="flex gap-1">
          {c.row.original.roles.map((r) => (
            <Tag key={r}>{r}</Tag>
          ))}
        </div>
      ),
    }),
    col.accessor((h) => stateRank[h.state], {
      id: "state",
      header: "Connection",
      cell: (c) => <ConnectionCell host={c.row.original} />,
    }),
    col.accessor((h) => h.cpuUsagePct ?? -1, {
      id: "cpu",
      header: "CPU",
      meta: { hideBelow: "md" },
      cell: (c) => {
        const h = c.row.original;
        return <UsageBar pct={h.cpuUsagePct} detail={h.cpuCount ? `${h.cpuCount} CPUs` : undefined} width="w-16" />;
      },
    }),
    col.accessor((h) => percentOf(h.memoryUsedMiB, h.memoryTotalMiB) ?? -1, {
      id: "memory",
      header: "Memory",
      meta: { hideBelow: "md" },
      cell: (c) => {
        const h = c.row.original;
        return <UsageBar pct={percentOf(h.memoryUsedMiB, h.memoryTotalMiB)} detail={`${formatMiB(h.memoryUsedMiB)} of ${formatMiB(h.memoryTotalMiB)}`} width="w-16" />;
      },
    }),
    col.accessor((h) => percentOf(h.diskUsedBytes, h.diskTotalBytes) ?? -1, {
      id: "disk",
      header: "Disk",
      meta: { hideBelow: "lg" },
      cell: (c) => {
        const h = c.row.original;
        return <UsageBar pct={percentOf(h.diskUsedBytes, h.diskTotalBytes)} detail={`${formatBytes(h.diskUsedBytes)} of ${formatBytes(h.diskTotalBytes)}`} width="w-16" />;
      },
    }),
    col.accessor("vmsRunning", {
      header: "VMs",
      meta: { align: "right" },
      cell: (c) => (c.row.original.vmsTotal ? `${c.getValue()} / ${c.row.original.vmsTotal}` : <span className="text-faint">—</span>),
    }),
    col.accessor((h) => maintenanceOf(h)?.state ?? (h.maintenance ? "in-maintenance" : "active"), {
      id: "maintenance",
      header: "Maint.",
      meta: { hideBelow: "sm" },
      cell: (c) => {
        const view = maintenanceOf(c.row.original);
        const status = view ? maintenanceStatus(view.state) : c.row.original.maintenance ? maintenanceStatus("in-maintenance") : null;
        return status ? (
          <span data-testid={`host-maintenance-${c.row.original.name}`} data-state={view?.state} title={view?.message}>
            <StatusBadge status={status} />
          </span>
        ) : null;
      },
    }),
    col.display({
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: (c) => {
        const h = c.row.original;
        const items: MenuItem[] = [];
        const evacuating = maintenanceOf(h)?.state === "evacuating";
        // Only hypervisors run VMs to evacuate; while one is evacuated, Abort is on its progress line.
        if (h.roles.includes("hypervisor") && !evacuating) {
          if (!h.maintenance && actions.enterMaintenance) items.push({ label: "Enter maintenance…", onSelect: () => actions.enterMaintenance!(h), testId: "host-maintenance-enter" });
          if (h.maintenance && actions.exitMaintenance) items.push({ label: "Exit maintenance", onSelect: () => actions.exitMaintenance!(h), testId: "host-maintenance-exit" });
        }
        return <ActionMenu label={`Actions for ${h.name}`} items={items} />;
      },
    }),
  ];
}

export function HostsTable({
  hosts,
  isLoading,
  error,
  onRetry,
  sorting,
  onSortingChange,
  actions = {},
  filtered,
  maintenanceOf = () => undefined,
  operationFor,
  renderOperation,
  manualSorting,
  onEndReached,
  sparse,
}: {
  hosts: HostSummary[] | undefined;
  isLoading?: boolean;
  error?: unknown;
  onRetry?: () => void;
  sorting: SortingState;
  onSortingChange: (s: SortingState) => void;
  actions?: HostActions;
  filtered?: boolean;
  /** Where each host stands with maintenance (maintenance.list). */
  maintenanceOf?: (h: HostSummary) => MaintenanceView | undefined;
  /** The operation to show under a row (an evacuation running, or just ended). */
  operationFor?: (h: HostSummary) => Operation | undefined;
  renderOperation?: (op: Operation) => ReactNode;
  /** Rows come sorted by the server (the paged Hosts page). */
  manualSorting?: boolean;
  /** Load the next page as the user scrolls near the end. */
  onEndReached?: () => void;
  /** Rows paged by offset on the server: the count, the row at an index, the window in view (`data` unused). */
  sparse?: SparseRows<HostSummary>;
}) {
  return (
    <DataTable
      testId="hosts-table"
      manualSorting={manualSorting}
      onEndReached={onEndReached}
      sparse={sparse}
      data={hosts}
      columns={columns(actions, maintenanceOf)}
      getRowId={(h) => h.name}
      rowTestId={(h) => `host-row-${h.name}`}
      isLoading={isLoading}
      error={error}
      onRetry={onRetry}
      sorting={sorting}
      onSortingChange={onSortingChange}
      emptyTitle={filtered ? "No hosts match" : "No hosts yet"}
      emptyHint={filtered ? "Clear the search or filters to see every host." : "Add hosts to the fleet config file, or start the embedded lab."}
      renderSubRow={(h) => {
        const op = operationFor?.(h);
        return op && renderOperation ? <div data-testid={`host-op-${h.name}`}>{renderOperation(op)}</div> : null;
      }}
    />
  );
}
