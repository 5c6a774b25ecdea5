"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import type { MaintenanceView } from "@/lib/api-types";
import { notify } from "@/lib/notify";
import { useCan } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { MaintenanceDialog } from "./maintenance-dialog";
import { useAction } from "@/lib/use-action";

export interface HostMaintenance {
  /** Where the host stands (active, evacuating, in maintenance, not empty), from maintenance.list. */
  viewOf: (host: string) => MaintenanceView | undefined;
  /** Opens the dry-run plan; absent for viewers who may not put hosts into maintenance. */
  enter?: (host: string) => void;
  exit?: (host: string) => void;
  exiting: boolean;
  dialogs: ReactNode;
}

/** Maintenance for the Hosts list and a host's page alike, so both behave the same. */
export function useHostMaintenance(): HostMaintenance {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const may = useCan("host:maintenance");
  const views = useQuery(trpc.maintenance.list.queryOptions());
  const [planning, setPlanning] = useState<string | null>(null);
  const exit = useAction(
    trpc.maintenance.exit.mutationOptions({
      onSuccess: (view) => {
        qc.setQueryData(trpc.maintenance.list.queryKey(), (list) => list?.map((v) => (v.host === view.host ? view : v)));
        void qc.invalidateQueries({ queryKey: trpc.hosts.get.queryKey({ name: view.host }) });
        notify.ok(`${view.host} left maintenance: it takes new VMs again`);
      },
      onError: (e, v) => notify.error(e, `Exit maintenance on ${v.host}`),
    }),
  );
  return {
    viewOf: (host) => views.data?.find((v) => v.host === host),
    enter: may ? setPlanning : undefined,
    exit: may ? (host) => exit.mutate({ host }) : undefined,
    exiting: exit.isPending,
    dialogs: <MaintenanceDialog host={planning} onClose={() => setPlanning(null)} />,
  };
}
