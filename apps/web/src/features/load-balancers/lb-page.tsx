"use client";
import type { LoadBalancerView, Operation } from "@nimbus/domain";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { PageHeader } from "@/components/ui/panel";
import { ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { LiveOperation } from "@/features/operations/live-operation";
import { useNow } from "@/lib/clock";
import { errorInfo } from "@/lib/errors";
import { notify, watchOperation } from "@/lib/notify";
import { RECENT_OPERATIONS } from "@/lib/queries";
import { useCan } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { LbDialog } from "./lb-dialog";
import { LoadBalancersView } from "./lb-view";

const KEEP_ENDED_MS = 5 * 60_000;

/** The Load balancers page: every HAProxy Nimbus manages with its backends; admins and operators create, edit, apply again and delete. */
export function LoadBalancersPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const now = useNow();
  const mayManage = useCan("lb:manage");
  const lbs = useQuery(trpc.loadBalancers.list.queryOptions());
  const ops = useQuery(trpc.operations.list.queryOptions(RECENT_OPERATIONS));
  const [editing, setEditing] = useState<LoadBalancerView | "new" | null>(null);
  const [deleting, setDeleting] = useState<LoadBalancerView | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.loadBalancers.list.queryKey() });
  const started = (op: Operation) => {
    watchOperation(op.id);
    notify.started(op);
    void refresh();
  };
  const reapply = useAction(trpc.loadBalancers.reapply.mutationOptions({ onSuccess: started, onError: (e) => notify.error(e, "Apply failed") }));
  const remove = useAction(
    trpc.loadBalancers.delete.mutationOptions({
      onSuccess: (_r, v) => {
        notify.ok(`Load balancer ${v.name} deleted: HAProxy stopped on its edge host`);
        setDeleting(null);
        void refresh();
      },
    }),
  );
  // The latest lb-apply of each load balancer, while it runs and for a few minutes after.
  const latest = new Map<string, Operation>();
  for (const op of ops.data ?? [])
    if (op.kind === "lb-apply" && (!op.finishedAt || now - Date.parse(op.finishedAt) < KEEP_ENDED_MS)) {
      const seen = latest.get(op.target.name);
      if (!seen || seen.createdAt < op.createdAt) latest.set(op.target.name, op);
    }

  return (
    <>
      <PageHeader
        title="Load balancers"
        description="HAProxy on edge hosts in front of swarm services: round robin, health checks with rise and fall, reloads that keep connections."
        actions={
          mayManage ? (
            <Button variant="primary" onClick={() => setEditing("new")} data-testid="lb-create-open">
              New load balancer…
            </Button>
          ) : null
        }
      />
      {lbs.isPending ? (
        <PanelsSkeleton count={1} />
      ) : lbs.error ? (
        <ErrorState error={lbs.error} onRetry={() => void lbs.refetch()} />
      ) : (
        <LoadBalancersView
          lbs={lbs.data}
          now={now}
          actions={
            mayManage
              ? (lb) => (
                  <div className="flex shrink-0 gap-1.5">
                    <Button size="sm" onClick={() => setEditing(lb)} data-testid={`lb-edit-${lb.spec.name}`}>
                      Edit…
                    </Button>
                    <Button
                      size="sm"
                      busy={reapply.isPending && reapply.variables?.name === lb.spec.name}
                      disabled={latest.get(lb.spec.name)?.state === "running"}
                      title="Write, validate and reload with the servers the inventory lists now"
                      onClick={() => reapply.mutate({ name: lb.spec.name })}
                      data-testid={`lb-apply-${lb.spec.name}`}
                    >
                      Apply again
                    </Button>
                    <Button size="sm" variant="ghost" onClick={() => setDeleting(lb)} data-testid={`lb-delete-${lb.spec.name}`}>
                      Delete
                    </Button>
                  </div>
                )
              : undefined
          }
          below={(lb) => {
            const op = latest.get(lb.spec.name);
            return op ? (
              <div className="border-t border-border px-4 py-3" data-testid={`lb-operation-${lb.spec.name}`}>
                <LiveOperation initial={op} compact />
              </div>
            ) : null;
          }}
        />
      )}
      {editing !== null && (
        <LbDialog
          existing={editing === "new" ? null : editing.spec}
          onClose={() => setEditing(null)}
          onStarted={(op) => {
            started(op);
            setEditing(null);
          }}
        />
      )}
      <ConfirmDialog
        open={deleting !== null}
        title={deleting ? `Delete load balancer ${deleting.spec.name}?` : "Delete load balancer"}
        confirmLabel="Delete load balancer"
        danger
        busy={remove.isPending}
        onConfirm={() => deleting && remove.mutate({ name: deleting.spec.name })}
        onCancel={() => (remove.reset(), setDeleting(null))}
      >
        {deleting && (
          <>
            <p>
              HAProxy on {deleting.spec.edgeHost} stops and its configuration is removed: port {deleting.spec.bind.port} no longer answers.
            </p>
            {remove.error && (
              <p role="alert" className="mt-3 rounded-md bg-crit-soft px-3 py-2 text-crit">
                {errorInfo(remove.error).message}
              </p>
            )}
          </>
        )}
      </ConfirmDialog>
    </>
  );
}
