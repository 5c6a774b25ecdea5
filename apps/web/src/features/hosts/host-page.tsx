"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
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
import { HostDetail } from "./host-detail";

export function HostPage({ name }: { name: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const detail = useQuery(trpc.hosts.get.queryOptions({ name }));
  const operations = useQuery(trpc.operations.list.queryOptions(RECENT_OPERATIONS));
  const now = useNow();
  const mayAcceptKey = useCan("host:keys");
  const mayMaintain = useCan("host:maintenance");
  const [confirmKey, setConfirmKey] = useState(false);
  const [sorting, setSorting] = useUrlSort([{ id: "name", desc: false }]);
  const { actions, dialogs } = useInstanceActions();

  const acceptKey = useMutation(
    trpc.hosts.acceptKey.mutationOptions({
      onSuccess: () => {
        setConfirmKey(false);
        notify.ok(`New host key of ${name} accepted; reconnecting`);
        void qc.invalidateQueries({ queryKey: trpc.hosts.get.queryKey({ name }) });
      },
      onError: (e) => notify.error(e, `Accept key of ${name}`),
    }),
  );
  const maintenance = useMutation(
    trpc.hosts.setMaintenance.mutationOptions({
      onSuccess: (s) => {
        notify.ok(s.maintenance ? `${name} is in maintenance` : `${name} left maintenance`);
        void qc.invalidateQueries({ queryKey: trpc.hosts.get.queryKey({ name }) });
      },
      onError: (e) => notify.error(e, `Maintenance on ${name}`),
    }),
  );

  const d = detail.data;
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
            {d?.summary.maintenance && <Tag>maintenance</Tag>}
          </span>
        }
        actions={
          d && mayMaintain ? (
            <Button busy={maintenance.isPending} onClick={() => maintenance.mutate({ name, on: !d.host.maintenance })} data-testid="maintenance-toggle">
              {d.host.maintenance ? "Exit maintenance" : "Enter maintenance"}
            </Button>
          ) : null
        }
      />
      {detail.isPending ? (
        <PanelsSkeleton />
      ) : detail.error ? (
        <ErrorState error={detail.error} onRetry={() => void detail.refetch()} />
      ) : (
        <HostDetail
          host={d!.host}
          summary={d!.summary}
          acceptKey={
            mayAcceptKey && d!.host.connection.state === "key-changed" ? (
              <Button variant="danger" onClick={() => setConfirmKey(true)} data-testid="accept-key">
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
      )}
      <ConfirmDialog
        open={confirmKey}
        title={`Accept the new host key of ${name}?`}
        confirmLabel="Accept key"
        danger
        busy={acceptKey.isPending}
        onCancel={() => setConfirmKey(false)}
        onConfirm={() => acceptKey.mutate({ name })}
      >
        <p>Nimbus will pin the key that {name} offers now and reconnect. Do this only if you know why the key changed (reinstall, new SSH host keys).</p>
        <p className="mt-2 break-all font-mono text-[12px]">{d?.host.connection.offeredKey}</p>
      </ConfirmDialog>
      {dialogs}
    </>
  );
}
