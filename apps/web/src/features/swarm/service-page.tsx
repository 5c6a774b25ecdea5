"use client";
import { canUpdateService, publishedPorts, type ServiceUpdateState } from "@nimbus/domain";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Facts, PageHeader, Panel } from "@/components/ui/panel";
import { StatusBadge } from "@/components/ui/status-badge";
import { EmptyState, ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { RelativeTime } from "@/components/ui/time";
import { LiveOperation } from "@/features/operations/live-operation";
import { PublishedPorts } from "./published-ports";
import { useNow } from "@/lib/clock";
import { rowOperationFor } from "@/lib/live-patch";
import { RECENT_OPERATIONS } from "@/lib/queries";
import { useSession } from "@/lib/session";
import type { Status } from "@/lib/status";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { useStartOperation } from "@/lib/use-operation";
import { useUrlSort } from "@/lib/url-sort";
import { ServiceLogs } from "./service-logs";
import { ServiceTasksTable, orderTasks } from "./service-tasks";
import { ServiceUpdateDialog } from "./service-update-dialog";

const updateStatus: Record<ServiceUpdateState, Status> = {
  idle: { tone: "neutral", label: "Never updated" },
  updating: { tone: "accent", label: "Updating" },
  paused: { tone: "crit", label: "Update paused" },
  completed: { tone: "ok", label: "Updated" },
  rollback_started: { tone: "accent", label: "Rolling back" },
  rollback_paused: { tone: "crit", label: "Rollback paused" },
  rollback_completed: { tone: "warn", label: "Rolled back" },
};

/**
 * One swarm service: its facts and last update, its tasks (live: the swarm overview the live
 * channel replaces), Update image / Roll back with the running operation inline, and its logs.
 */
export function ServicePage({ name }: { name: string }) {
  const trpc = useTRPC();
  const session = useSession();
  const swarm = useQuery(trpc.swarm.overview.queryOptions());
  const ops = useQuery(trpc.operations.list.queryOptions(RECENT_OPERATIONS));
  const now = useNow();
  const started = useStartOperation();
  const [sorting, setSorting] = useUrlSort([]);
  const [updating, setUpdating] = useState(false);
  const [confirmRollback, setConfirmRollback] = useState(false);
  const rollback = useAction(
    trpc.swarm.services.rollback.mutationOptions({
      onSuccess: (op) => {
        started(op);
        setConfirmRollback(false);
      },
    }),
  );

  if (swarm.isPending) return <PanelsSkeleton count={3} />;
  if (swarm.error) return <ErrorState error={swarm.error} onRetry={() => void swarm.refetch()} />;
  const svc = swarm.data.services.find((s) => s.name === name);
  if (!svc)
    return (
      <>
        <PageHeader title={name} />
        <EmptyState title="No such service">
          {swarm.data.managerHost ? `The swarm lists no service named ${name} that you can see.` : "No swarm manager answers right now, so services cannot be listed."}{" "}
          <Link href="/swarm" className="text-accent underline">
            Back to the swarm
          </Link>
        </EmptyState>
      </>
    );
  const staff = session?.user.role !== "tenant";
  const mayUpdate = !!session && canUpdateService(session.user, svc.tenant);
  const tasks = orderTasks(swarm.data.tasks.filter((t) => t.serviceId === svc.id));
  const op = rowOperationFor(ops.data, { type: "service", name: svc.name }, now);
  const busy = op && (op.state === "running" || op.state === "pending");
  const update = svc.update ?? null;
  const networks = swarm.data.networks.filter((n) => svc.networks?.includes(n.id));

  return (
    <>
      <PageHeader
        title={svc.name}
        description={
          <>
            <Link href="/swarm" className="text-accent underline">
              Swarm
            </Link>{" "}
            service{svc.stack ? ` in stack ${svc.stack}` : ""}
            {svc.tenant ? `, tenant ${svc.tenant}` : ""}.
          </>
        }
        actions={
          mayUpdate ? (
            <>
              <Button onClick={() => setUpdating(true)} disabled={!!busy || !swarm.data.managerHost} data-testid="service-update">
                Update image…
              </Button>
              <Button onClick={() => setConfirmRollback(true)} disabled={!!busy || !swarm.data.managerHost || update === null} title={update === null ? "never updated: nothing to roll back to" : undefined} data-testid="service-rollback">
                Roll back
              </Button>
            </>
          ) : null
        }
      />
      <div className="flex flex-col gap-4">
        {op && (
          <div className="rounded-lg border border-border bg-panel px-3 py-2">
            <LiveOperation initial={op} compact />
          </div>
        )}
        <Panel title="Service">
          <Facts
            items={[
              ["Image", <span key="i" className="break-all font-mono text-[12px]" data-testid="service-image">{svc.image}</span>],
              ["Replicas", <span key="r" className="tabular-nums" data-testid="service-replicas">{svc.replicasRunning}/{svc.replicasDesired} running ({svc.mode})</span>],
              [
                "Last update",
                update ? (
                  <span key="u" className="flex flex-wrap items-center gap-1.5" data-testid="service-update-state">
                    <StatusBadge status={updateStatus[update.state]} title={update.message} />
                    <RelativeTime iso={update.completedAt ?? update.startedAt} />
                    {update.message && <span className="basis-full text-[12px] text-muted">{update.message}</span>}
                  </span>
                ) : (
                  <span key="u" className="text-faint">never updated</span>
                ),
              ],
              ["Published", <PublishedPorts key="p" ports={publishedPorts(svc, swarm.data.tasks, swarm.data.nodes)} testId="service-ports" />],
              ...(staff ? ([["Networks", networks.length ? networks.map((n) => n.name).join(", ") : <span key="n" className="text-faint">—</span>]] as [string, React.ReactNode][]) : []),
            ]}
          />
        </Panel>
        <Panel title={`Tasks (${tasks.length})`} bodyClass="p-0">
          <ServiceTasksTable tasks={tasks} showNode={staff} sorting={sorting} onSortingChange={setSorting} />
        </Panel>
        <Panel title="Logs" bodyClass="p-0">
          {swarm.data.managerHost ? <ServiceLogs service={svc.name} showNode={staff} /> : <EmptyState title="Logs unavailable">No swarm manager answers; logs are read from a manager.</EmptyState>}
        </Panel>
      </div>
      <ServiceUpdateDialog service={svc} open={updating} onClose={() => setUpdating(false)} />
      <ConfirmDialog
        open={confirmRollback}
        title={`Roll back ${svc.name}?`}
        confirmLabel="Roll back"
        busy={rollback.isPending}
        onConfirm={() => rollback.mutate({ service: svc.name })}
        onCancel={() => {
          rollback.reset();
          setConfirmRollback(false);
        }}
      >
        docker puts back the service&apos;s previous version, one task at a time.
        {rollback.error && (
          <span role="alert" className="mt-2 block text-crit">
            {rollback.error.message}
          </span>
        )}
      </ConfirmDialog>
    </>
  );
}
