"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { PageHeader } from "@/components/ui/panel";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { InstancesTable } from "@/features/instances/instances-table";
import { useInstanceActions } from "@/features/instances/use-instance-actions";
import { LiveOperation } from "@/features/operations/live-operation";
import { useNow } from "@/lib/clock";
import { rowOperationFor } from "@/lib/live-patch";
import { notify } from "@/lib/notify";
import { RECENT_OPERATIONS } from "@/lib/queries";
import { useCan } from "@/lib/session";
import { connectionStatus } from "@/lib/status";
import { useTRPC } from "@/lib/trpc";
import { useUrlSort } from "@/lib/url-sort";
import { MaintenancePanel } from "@/features/maintenance/maintenance-panel";
import { maintenanceStatus } from "@/features/maintenance/maintenance-status";
import { useHostMaintenance, type HostMaintenance } from "@/features/maintenance/use-host-maintenance";
import type { MaintenanceView } from "@/lib/api-types";
import { HostDetail } from "./host-detail";
import { MetricsPanel } from "@/features/charts/metrics-panel";
import { TimelinePanel } from "@/features/timeline/timeline-panel";
import { useAction } from "@/lib/use-action";

export function HostPage({ name }: { name: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const detail = useQuery(trpc.hosts.get.queryOptions({ name }));
  const operations = useQuery(trpc.operations.list.queryOptions(RECENT_OPERATIONS));
  const now = useNow();
  const mayAcceptKey = useCan("host:keys");
  // The fingerprint shown when the dialog opened: the one the admin accepts, even if a live update
  // changes what the host offers meanwhile (the server then refuses it).
  const [confirmKey, setConfirmKey] = useState<string | null>(null);
  const [sorting, setSorting] = useUrlSort([{ id: "name", desc: false }]);
  const { actions, dialogs } = useInstanceActions();
  const maintenance = useHostMaintenance();
  const view = maintenance.viewOf(name);

  const acceptKey = useAction(
    trpc.hosts.acceptKey.mutationOptions({
      onSuccess: () => {
        setConfirmKey(null);
        notify.ok(`New host key of ${name} accepted; reconnecting`);
        void qc.invalidateQueries({ queryKey: trpc.hosts.get.queryKey({ name }) });
      },
      onError: (e) => notify.error(e, `Accept key of ${name}`),
    }),
  );
  const d = detail.data;
  const isHypervisor = !!d && (d.host.inventory.virt !== null || d.host.connection.capabilities.includes("virt"));
  // The evacuation of this host now, or the one that just ended (its outcome stays in view a while).
  const evacuation = rowOperationFor(operations.data, { type: "host", name }, now, 10 * 60_000);
  return (
    <>
      <PageHeader
        title={name}
        description={
          <span className="inline-flex flex-wrap items-center gap-2">
            <Link href="/hosts" className="hover:text-accent">
              Hosts
            </Link>
            <span aria-hidden>/</span>
            {d && <StatusBadge status={connectionStatus(d.summary.state)} />}
            {view && maintenanceStatus(view.state) ? <StatusBadge status={maintenanceStatus(view.state)!} /> : d?.summary.maintenance && <Tag>maintenance</Tag>}
          </span>
        }
        actions={d && isHypervisor ? <MaintenanceActions view={view} flagged={d.host.maintenance} maintenance={maintenance} host={name} /> : null}
      />
      {detail.isPending ? (
        <PanelsSkeleton />
      ) : detail.error ? (
        <ErrorState error={detail.error} onRetry={() => void detail.refetch()} />
      ) : (
        <div className="flex flex-col gap-4">
          {view && view.state !== "active" && (
            <MaintenancePanel view={view} evacuation={evacuation} renderEvacuation={(op) => <LiveOperation initial={op} />} />
          )}
          <HostDetail
            host={d!.host}
            summary={d!.summary}
            acceptKey={
              mayAcceptKey && d!.host.connection.state === "key-changed" && d!.host.connection.offeredKey ? (
                <Button variant="danger" onClick={() => setConfirmKey(d!.host.connection.offeredKey)} data-testid="accept-key">
                  Accept new key
                </Button>
              ) : undefined
            }
            instances={
              <InstancesTable
                instances={d!.instances}
                sorting={sorting}
                onSortingChange={setSorting}
                actions={actions}
                maxHeight="none"
                hiddenColumns={["host"]}
                operationFor={(i) => rowOperationFor(operations.data, { type: "instance", name: i.name }, now)}
                renderOperation={(op) => <LiveOperation initial={op} compact />}
              />
            }
          />
          <MetricsPanel kind="host" name={name} />
          <TimelinePanel subject={{ kind: "host", name }} />
        </div>
      )}
      <ConfirmDialog
        open={confirmKey !== null}
        title={`Accept the new host key of ${name}?`}
        confirmLabel="Accept key"
        danger
        busy={acceptKey.isPending}
        onCancel={() => setConfirmKey(null)}
        onConfirm={() => confirmKey && acceptKey.mutate({ name, fingerprint: confirmKey })}
      >
        <p>
          Nimbus will pin this key and reconnect; if {name} presents another one by then, nothing is accepted. Do this only if you know why the key changed
          (reinstall, new SSH host keys): compare the fingerprint with the one on the host (<code>ssh-keygen -lf</code> of its host key).
        </p>
        <p className="mt-2 text-muted">Fingerprint to accept</p>
        <p className="break-all font-mono text-[12px]" data-testid="accept-key-fingerprint">
          {confirmKey}
        </p>
      </ConfirmDialog>
      {dialogs}
      {maintenance.dialogs}
    </>
  );
}

/** Enter (dry run first), evacuate what is left, or exit; nothing while an evacuation runs (Abort is on it). */
function MaintenanceActions({ host, view, flagged, maintenance }: { host: string; view: MaintenanceView | undefined; flagged: boolean; maintenance: HostMaintenance }) {
  if (!maintenance.enter || !maintenance.exit || view?.state === "evacuating") return null;
  if (!flagged)
    return (
      <Button onClick={() => maintenance.enter!(host)} data-testid="maintenance-enter">
        Enter maintenance…
      </Button>
    );
  return (
    <>
      {view?.state === "not-empty" && (
        <Button onClick={() => maintenance.enter!(host)} data-testid="maintenance-evacuate">
          Evacuate…
        </Button>
      )}
      <Button busy={maintenance.exiting} onClick={() => maintenance.exit!(host)} data-testid="maintenance-exit">
        Exit maintenance
      </Button>
    </>
  );
}
