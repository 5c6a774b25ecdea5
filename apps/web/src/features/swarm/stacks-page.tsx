"use client";
import { stacksOf, type StackView } from "@nimbus/domain";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useMemo, useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { SearchInput } from "@/components/ui/field";
import { PageHeader, Panel } from "@/components/ui/panel";
import { ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { LiveOperation } from "@/features/operations/live-operation";
import { useNow } from "@/lib/clock";
import { rowOperationFor } from "@/lib/live-patch";
import { notify } from "@/lib/notify";
import { RECENT_OPERATIONS } from "@/lib/queries";
import { useCan, useSession } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { useStartOperation } from "@/lib/use-operation";
import { useUrlParam } from "@/lib/url-state";
import { DeployStackDialog } from "./stacks-deploy-dialog";
import { StackList } from "./stacks-view";

/**
 * Stacks on the swarm: drawn from the swarm overview the live channel keeps current (stacksOf,
 * the server's own grouping), so replicas move as tasks start without any polling. Tenants see
 * and manage their own; staff with swarm:stacks any.
 */
export function StacksPage() {
  const trpc = useTRPC();
  const swarm = useQuery(trpc.swarm.overview.queryOptions());
  const ops = useQuery(trpc.operations.list.queryOptions(RECENT_OPERATIONS));
  const now = useNow();
  const session = useSession();
  const staffMay = useCan("swarm:stacks");
  const tenantMember = session?.user.role === "tenant";
  const mayManage = staffMay || (tenantMember && !!session?.user.tenant);
  const [q, setQ] = useUrlParam("q");
  const [deploying, setDeploying] = useState(false);
  const [removing, setRemoving] = useState<StackView | null>(null);
  const started = useStartOperation();
  const remove = useAction(
    trpc.stacks.remove.mutationOptions({
      onSuccess: (op) => {
        started(op);
        setRemoving(null);
      },
      onError: (e, v) => notify.error(e, `Remove ${v.name}`),
    }),
  );

  const stacks = useMemo(() => stacksOf(swarm.data), [swarm.data]);
  // A deploy whose services do not exist yet still shows, with its steps.
  const fresh = (ops.data ?? []).filter((o) => o.kind === "stack-deploy" && (o.state === "running" || o.state === "pending") && !stacks.some((s) => s.name === o.target.name));
  const shown = stacks.filter((s) => !q || `${s.name} ${s.tenant ?? ""} ${s.services.map((x) => `${x.name} ${x.image}`).join(" ")}`.toLowerCase().includes(q.toLowerCase()));

  return (
    <>
      <PageHeader
        title="Stacks"
        description={
          <>
            Compose files deployed across the swarm. <Link href="/swarm" className="text-accent underline">Nodes and services</Link>
          </>
        }
        actions={
          <>
            <SearchInput value={q} onChange={setQ} placeholder="Filter stacks" />
            {mayManage && (
              <Button variant="primary" onClick={() => setDeploying(true)} disabled={!swarm.data?.managerHost && !tenantMember} data-testid="stack-deploy-open">
                Deploy stack…
              </Button>
            )}
          </>
        }
      />
      {swarm.isPending ? (
        <PanelsSkeleton count={2} />
      ) : swarm.error ? (
        <ErrorState error={swarm.error} onRetry={() => void swarm.refetch()} />
      ) : (
        <div className="flex flex-col gap-4">
          {fresh.map((op) => (
            <Panel key={op.id} title={<span className="font-mono text-[13.5px] font-semibold">{op.target.name}</span>}>
              <LiveOperation initial={op} compact />
            </Panel>
          ))}
          <StackList
            stacks={shown}
            showTenant={!tenantMember}
            filtered={!!q}
            operationFor={(s) => {
              const op = rowOperationFor(ops.data, { type: "stack", name: s.name }, now);
              return op ? <LiveOperation initial={op} compact /> : null;
            }}
            onRemove={mayManage ? setRemoving : undefined}
          />
        </div>
      )}
      <DeployStackDialog open={deploying} onClose={() => setDeploying(false)} />
      <ConfirmDialog
        open={removing !== null}
        title={`Remove stack ${removing?.name ?? ""}?`}
        confirmLabel="Remove stack"
        danger
        busy={remove.isPending}
        onConfirm={() => removing && remove.mutate({ name: removing.name })}
        onCancel={() => setRemoving(null)}
      >
        <p className="text-[13px]">
          docker stack rm stops and removes its {removing?.services.length ?? 0} service{removing?.services.length === 1 ? "" : "s"} ({removing?.services.map((s) => s.short).join(", ")}) and their networks. Volumes stay.
        </p>
      </ConfirmDialog>
    </>
  );
}
