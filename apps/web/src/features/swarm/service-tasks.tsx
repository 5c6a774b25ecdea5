"use client";
import type { SwarmTask } from "@nimbus/domain";
import { createColumnHelper, type SortingState } from "@tanstack/react-table";
import { DataTable } from "@/components/table/data-table";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { RelativeTime } from "@/components/ui/time";
import type { Status } from "@/lib/status";

/** docker's task states as a tone and a word (the word is docker's own). */
export function taskStatus(state: string): Status {
  const label = state ? state[0]!.toUpperCase() + state.slice(1) : "Unknown";
  if (state === "running" || state === "complete") return { tone: "ok", label };
  if (["failed", "rejected", "orphaned"].includes(state)) return { tone: "crit", label };
  if (["new", "pending", "assigned", "accepted", "preparing", "ready", "starting"].includes(state)) return { tone: "accent", label };
  if (state === "shutdown" || state === "remove") return { tone: "neutral", label };
  return { tone: "unknown", label };
}

/** The task as docker names it: SERVICE.SLOT, or SERVICE on a global service. */
export const taskName = (t: SwarmTask) => (t.slot !== null ? `${t.serviceName}.${t.slot}` : t.serviceName);

/** Current tasks first (meant to run), then the history; newest first within each. */
export function orderTasks(tasks: readonly SwarmTask[]): SwarmTask[] {
  const current = (t: SwarmTask) => (t.desiredState === "running" || t.desiredState === "ready" || t.desiredState === "accepted" ? 0 : 1);
  return [...tasks].sort((a, b) => current(a) - current(b) || (b.since ?? "").localeCompare(a.since ?? "") || (a.slot ?? 0) - (b.slot ?? 0));
}

const col = createColumnHelper<SwarmTask>();

function columns(showNode: boolean) {
  return [
    col.accessor((t) => taskName(t), { id: "task", header: "Task", cell: (c) => <span className="font-mono text-[12px]">{c.getValue()}</span> }),
    col.accessor("state", {
      header: "State",
      cell: (c) => <StatusBadge status={taskStatus(c.getValue())} title={c.row.original.error} />,
    }),
    col.accessor("desiredState", { header: "Desired", meta: { hideBelow: "sm" }, cell: (c) => <Tag>{c.getValue()}</Tag> }),
    ...(showNode ? [col.accessor((t) => t.node ?? "", { id: "node", header: "Node", cell: (c) => c.getValue() || <span className="text-faint">—</span> })] : []),
    col.accessor((t) => t.image ?? "", { id: "image", header: "Image", meta: { hideBelow: "lg", className: "max-w-48 truncate" }, cell: (c) => <span className="font-mono text-[11.5px] text-muted">{c.getValue()}</span> }),
    col.accessor((t) => t.error ?? "", {
      id: "error",
      header: "Error",
      meta: { hideBelow: "md", className: "max-w-72" },
      cell: (c) => (c.getValue() ? <span className="break-words text-[12px] text-crit">{c.getValue()}</span> : <span className="text-faint">—</span>),
    }),
    col.accessor((t) => t.since ?? "", { id: "since", header: "Since", cell: (c) => <RelativeTime iso={c.row.original.since} /> }),
  ];
}

/** A service's tasks: the ones meant to run and docker's short history; updated live with the swarm overview. */
export function ServiceTasksTable({ tasks, showNode, sorting, onSortingChange }: { tasks: SwarmTask[]; showNode: boolean; sorting: SortingState; onSortingChange: (s: SortingState) => void }) {
  return (
    <DataTable
      testId="service-tasks"
      data={tasks}
      columns={columns(showNode)}
      getRowId={(t) => t.id}
      rowTestId={(t) => `task-row-${t.id}`}
      sorting={sorting}
      onSortingChange={onSortingChange}
      emptyTitle="No tasks"
      emptyHint="docker lists no task of this service: it may be scaled to 0."
      maxHeight="none"
    />
  );
}
