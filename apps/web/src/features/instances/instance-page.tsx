"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { Button } from "@/components/ui/button";
import { PageHeader, Panel } from "@/components/ui/panel";
import { StatusBadge } from "@/components/ui/status-badge";
import { ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { LiveOperation } from "@/features/operations/live-operation";
import { OperationsTable } from "@/features/operations/operations-table";
import { useNow } from "@/lib/clock";
import { rowOperationFor } from "@/lib/live-patch";
import { useCan } from "@/lib/session";
import { domainStatus } from "@/lib/status";
import { useTRPC } from "@/lib/trpc";
import { useUrlSort } from "@/lib/url-sort";
import { InstanceDetail } from "./instance-detail";
import { useInstanceActions } from "./use-instance-actions";

export function InstancePage({ name }: { name: string }) {
  const trpc = useTRPC();
  const detail = useQuery(trpc.instances.get.queryOptions({ name }));
  const now = useNow();
  const staff = useCan("read:fleet");
  const [sorting, setSorting] = useUrlSort([{ id: "createdAt", desc: true }]);
  const { actions, dialogs } = useInstanceActions();
  const d = detail.data;
  const current = d ? rowOperationFor(d.operations, { type: "instance", name }, now, 5 * 60_000) : undefined;
  const running = d?.instance.state === "running";
  const busy = current && (current.state === "running" || current.state === "pending");

  return (
    <>
      <PageHeader
        title={name}
        description={
          <span className="inline-flex items-center gap-2">
            <Link href="/instances" className="hover:text-accent">
              Instances
            </Link>
            <span aria-hidden>/</span>
            {d && <StatusBadge status={domainStatus(d.instance.state)} />}
          </span>
        }
        actions={
          d ? (
            <>
              {actions.migrate && running && (
                <Button variant="primary" disabled={!!busy} onClick={() => actions.migrate!(d.instance)} data-testid="migrate-button">
                  Live migrate…
                </Button>
              )}
              {actions.power && !running && <Button onClick={() => actions.power!(d.instance, "start")}>Start</Button>}
              {actions.power && running && <Button onClick={() => actions.power!(d.instance, "shutdown")}>Shut down</Button>}
              {actions.power && running && <Button onClick={() => actions.power!(d.instance, "reboot")}>Reboot</Button>}
              {actions.power && running && (
                <Button variant="ghost" className="text-crit" onClick={() => actions.power!(d.instance, "destroy")}>
                  Force off…
                </Button>
              )}
            </>
          ) : null
        }
      />
      {detail.isPending ? (
        <PanelsSkeleton />
      ) : detail.error ? (
        <ErrorState error={detail.error} onRetry={() => void detail.refetch()} />
      ) : (
        <div className="flex flex-col gap-4">
          {current && (
            <Panel title="Current operation" className="border-accent/40">
              <LiveOperation initial={current} />
            </Panel>
          )}
          <InstanceDetail instance={d!.instance} domain={d!.domain} linkHosts={staff} />
          <Panel title="Operation history" bodyClass="p-0">
            <OperationsTable operations={d!.operations} now={now} sorting={sorting} onSortingChange={setSorting} showTarget={false} maxHeight="none" />
          </Panel>
        </div>
      )}
      {dialogs}
    </>
  );
}
