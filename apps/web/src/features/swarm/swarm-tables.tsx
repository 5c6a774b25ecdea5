"use client";
import { publishedPorts, type Operation, type SwarmNode, type SwarmService, type SwarmTask } from "@nimbus/domain";
import { createColumnHelper, type SortingState } from "@tanstack/react-table";
import Link from "next/link";
import type { ReactNode } from "react";
import { DataTable } from "@/components/table/data-table";
import { Button } from "@/components/ui/button";
import { ActionMenu, type MenuItem } from "@/components/ui/menu";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { RelativeTime } from "@/components/ui/time";
import { ProgressBar } from "@/components/ui/usage-bar";
import { swarmAvailabilityStatus, swarmNodeStatus } from "@/lib/status";
import { PublishedPorts } from "./published-ports";

/** What the Published column reads to say which nodes answer a host-mode port. */
type PortSources = { tasks: readonly SwarmTask[]; nodes: readonly SwarmNode[] };

const nodeCol = createColumnHelper<SwarmNode>();
export type Availability = SwarmNode["availability"];

function nodeColumns(setAvailability?: (n: SwarmNode, a: Availability) => void, nodeActions?: (n: SwarmNode) => MenuItem[]) {
  return [
    nodeCol.accessor("hostname", {
      header: "Node",
      cell: (c) => (
        <span className="flex items-center gap-2 font-medium">
          {c.getValue()}
          {c.row.original.leader && (
            <span className="hidden sm:inline-flex">
              <Tag title="Raft leader">leader</Tag>
            </span>
          )}
        </span>
      ),
    }),
    nodeCol.accessor("role", { header: "Role", meta: { hideBelow: "sm" }, cell: (c) => <Tag>{c.getValue()}</Tag> }),
    nodeCol.accessor("status", { header: "Status", cell: (c) => <StatusBadge status={swarmNodeStatus(c.getValue())} /> }),
    nodeCol.accessor("availability", { header: "Availability", cell: (c) => <StatusBadge status={swarmAvailabilityStatus(c.getValue())} /> }),
    nodeCol.accessor((n) => n.engineVersion ?? "", { id: "engine", header: "Engine", meta: { hideBelow: "md" } }),
    nodeCol.accessor((n) => n.address ?? "", { id: "address", header: "Address", meta: { hideBelow: "md" }, cell: (c) => <span className="font-mono text-[12px]">{c.getValue()}</span> }),
    nodeCol.display({
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: (c) => {
        const n = c.row.original;
        const options: Availability[] = ["active", "pause", "drain"];
        const items: MenuItem[] = [
          ...(setAvailability
            ? options
                .filter((a) => a !== n.availability)
                .map((a) => ({ label: a === "drain" ? "Drain (move tasks away)" : a === "pause" ? "Pause (no new tasks)" : "Activate", onSelect: () => setAvailability(n, a), testId: `node-${a}` }))
            : []),
          ...(nodeActions?.(n) ?? []),
        ];
        return items.length ? <ActionMenu label={`Availability of ${n.hostname}`} items={items} /> : null;
      },
    }),
  ];
}

export function SwarmNodesTable({
  nodes,
  sorting,
  onSortingChange,
  setAvailability,
  nodeActions,
}: {
  nodes: SwarmNode[];
  sorting: SortingState;
  onSortingChange: (s: SortingState) => void;
  setAvailability?: (n: SwarmNode, a: Availability) => void;
  /** More items of the row's menu (remove worker, promote/demote: nodes-actions.tsx). */
  nodeActions?: (n: SwarmNode) => MenuItem[];
}) {
  return (
    <DataTable
      testId="swarm-nodes"
      data={nodes}
      columns={nodeColumns(setAvailability, nodeActions)}
      getRowId={(n) => n.id}
      rowTestId={(n) => `node-row-${n.hostname}`}
      sorting={sorting}
      onSortingChange={onSortingChange}
      emptyTitle="No swarm nodes"
      emptyHint="No manager answered: the swarm may be down, or this view is limited to your tenant."
      maxHeight="none"
    />
  );
}

const svcCol = createColumnHelper<SwarmService>();

function serviceColumns(onScale?: (s: SwarmService) => void, swarm?: PortSources) {
  return [
    svcCol.accessor("name", {
      header: "Service",
      cell: (c) => (
        <div>
          <Link href={`/swarm/services/${encodeURIComponent(c.getValue())}`} className="font-medium hover:underline" data-testid={`service-link-${c.getValue()}`}>
            {c.getValue()}
          </Link>
          {c.row.original.stack && <span className="ml-1.5 hidden text-[11.5px] text-muted sm:inline">stack {c.row.original.stack}</span>}
        </div>
      ),
    }),
    svcCol.accessor((s) => s.tenant ?? "", { id: "tenant", header: "Tenant", meta: { hideBelow: "sm" }, cell: (c) => c.getValue() || <span className="text-faint">infra</span> }),
    svcCol.accessor((s) => (s.replicasDesired ? s.replicasRunning / s.replicasDesired : 1), {
      id: "replicas",
      header: "Replicas",
      cell: (c) => {
        const s = c.row.original;
        const converged = s.replicasRunning === s.replicasDesired;
        return (
          <div className="flex w-28 items-center gap-2 sm:w-40">
            <span className={`w-12 tabular-nums ${converged ? "" : "font-semibold text-warn"}`} data-testid={`replicas-${s.name}`}>
              {s.replicasRunning}/{s.replicasDesired}
            </span>
            <div className="flex-1">
              <ProgressBar
                pct={s.replicasDesired ? Math.min(100, (100 * s.replicasRunning) / s.replicasDesired) : 100}
                tone={converged ? "ok" : "warn"}
                label={`${s.name}: ${s.replicasRunning} of ${s.replicasDesired} replicas running`}
              />
            </div>
          </div>
        );
      },
    }),
    svcCol.accessor("mode", { header: "Mode", meta: { hideBelow: "lg" }, cell: (c) => <Tag>{c.getValue()}</Tag> }),
    svcCol.accessor("image", { header: "Image", meta: { hideBelow: "lg", className: "max-w-56 truncate" }, cell: (c) => <span className="font-mono text-[11.5px] text-muted">{c.getValue()}</span> }),
    svcCol.accessor((s) => s.ports.map((p) => p.published).join(","), {
      id: "ports",
      header: "Published",
      meta: { hideBelow: "md" },
      cell: (c) => <PublishedPorts ports={publishedPorts(c.row.original, swarm?.tasks ?? [], swarm?.nodes ?? [])} testId={`ports-${c.row.original.name}`} />,
    }),
    svcCol.accessor((s) => s.updatedAt ?? "", { id: "updated", header: "Updated", meta: { hideBelow: "lg" }, cell: (c) => <RelativeTime iso={c.row.original.updatedAt} /> }),
    svcCol.display({
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: (c) =>
        onScale && c.row.original.mode === "replicated" ? (
          <Button size="sm" onClick={() => onScale(c.row.original)} data-testid={`scale-${c.row.original.name}`}>
            Scale
          </Button>
        ) : null,
    }),
  ];
}

export function SwarmServicesTable({
  services,
  sorting,
  onSortingChange,
  onScale,
  operationFor,
  renderOperation,
  filtered,
  tasks,
  nodes,
}: {
  services: SwarmService[];
  /** The manager's tasks and nodes: the nodes answering a host-mode port (a tenant's tasks carry no node). */
  tasks?: readonly SwarmTask[];
  nodes?: readonly SwarmNode[];
  sorting: SortingState;
  onSortingChange: (s: SortingState) => void;
  onScale?: (s: SwarmService) => void;
  operationFor?: (s: SwarmService) => Operation | undefined;
  renderOperation?: (op: Operation) => ReactNode;
  filtered?: boolean;
}) {
  return (
    <DataTable
      testId="swarm-services"
      data={services}
      columns={serviceColumns(onScale, { tasks: tasks ?? [], nodes: nodes ?? [] })}
      getRowId={(s) => s.id}
      rowTestId={(s) => `service-row-${s.name}`}
      sorting={sorting}
      onSortingChange={onSortingChange}
      emptyTitle={filtered ? "No services match" : "No services"}
      maxHeight="none"
      renderSubRow={(s) => {
        const op = operationFor?.(s);
        return op && renderOperation ? renderOperation(op) : null;
      }}
    />
  );
}
