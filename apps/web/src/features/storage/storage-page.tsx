"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { PageHeader, Panel } from "@/components/ui/panel";
import { ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { LiveOperation } from "@/features/operations/live-operation";
import { useNow } from "@/lib/clock";
import { RECENT_OPERATIONS } from "@/lib/queries";
import { useCan } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { ImagesPanel } from "./images-panel";
import { MoveDiskDialog, type DiskToMove } from "./move-disk-dialog";
import { StorageSuggestions } from "./storage-suggestions";
import { StorageView } from "./storage-view";
import { ObjectCharts } from "@/features/charts/object-charts";

const KEEP_ENDED_MS = 5 * 60_000;

export function StoragePage() {
  const trpc = useTRPC();
  const storage = useQuery(trpc.storage.overview.queryOptions());
  const capacity = useQuery(trpc.datastores.capacity.queryOptions({}));
  const ops = useQuery(trpc.operations.list.queryOptions(RECENT_OPERATIONS));
  const now = useNow();
  const mayMove = useCan("workload:migrate");
  const [moving, setMoving] = useState<DiskToMove | null>(null);
  // Disk moves running now, and those that ended a few minutes ago (their outcome stays in view).
  const diskMoves = (ops.data ?? []).filter(
    (o) => o.kind === "storage-move" && (!o.finishedAt || now - Date.parse(o.finishedAt) < KEEP_ENDED_MS),
  );

  return (
    <>
      <PageHeader title="Storage" description="The clustered NFS pair behind a floating VIP that holds every VM disk." />
      {storage.isPending ? (
        <PanelsSkeleton />
      ) : storage.error ? (
        <ErrorState error={storage.error} onRetry={() => void storage.refetch()} />
      ) : (
        <div className="flex flex-col gap-4">
          {capacity.error ? (
            <ErrorState error={capacity.error} onRetry={() => void capacity.refetch()} compact />
          ) : capacity.data?.suggestions.length ? (
            <Panel title="Over the threshold: disks to move" id="capacity" className="border-warn/50">
              <StorageSuggestions
                capacity={capacity.data}
                moveButton={
                  mayMove
                    ? (m) => (
                        <Button size="sm" onClick={() => setMoving({ instance: m.instance, disk: m.disk, datastore: m.to })} data-testid={`move-suggested-${m.instance}-${m.disk}`}>
                          Move…
                        </Button>
                      )
                    : undefined
                }
              />
            </Panel>
          ) : null}
          {diskMoves.length > 0 && (
            <Panel title="Disk moves" bodyClass="p-0">
              <ul className="divide-y divide-border" data-testid="disk-moves">
                {diskMoves.map((op) => (
                  <li key={op.id} className="flex flex-col gap-1.5 px-4 py-3" data-testid={`disk-move-${op.target.name}`}>
                    <span className="text-[12.5px] font-medium">{op.summary}</span>
                    <LiveOperation initial={op} />
                  </li>
                ))}
              </ul>
            </Panel>
          )}
          <StorageView storage={storage.data} datastoresNote={capacity.data && !capacity.data.suggestions.length ? <StorageSuggestions capacity={capacity.data} /> : null} />
          <ImagesPanel datastores={storage.data.datastores.map((d) => d.path)} />
          <ObjectCharts kind="datastore" names={storage.data.datastores.map((d) => d.path)} title="Usage" param="chart" />
        </div>
      )}
      <MoveDiskDialog disk={moving} onClose={() => setMoving(null)} />
    </>
  );
}
