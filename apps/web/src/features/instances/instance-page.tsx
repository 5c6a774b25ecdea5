"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { PageHeader, Panel } from "@/components/ui/panel";
import { StatusBadge } from "@/components/ui/status-badge";
import { ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { LiveOperation } from "@/features/operations/live-operation";
import { OperationsTable } from "@/features/operations/operations-table";
import { MovesTable } from "@/features/moves/moves-table";
import { MoveDiskDialog, type DiskToMove } from "@/features/storage/move-disk-dialog";
import { useNow } from "@/lib/clock";
import { operationHref } from "@/lib/hrefs";
import { rowOperationFor } from "@/lib/live-patch";
import { useCan } from "@/lib/session";
import { domainStatus, reportedStateHint } from "@/lib/status";
import { useTRPC } from "@/lib/trpc";
import { useUrlSort } from "@/lib/url-sort";
import { InstanceDetail } from "./instance-detail";
import { SnapshotsPanel } from "./snapshots-panel";
import { MetricsPanel } from "@/features/charts/metrics-panel";
import { TimelinePanel } from "@/features/timeline/timeline-panel";
import { useInstanceActions } from "./use-instance-actions";
import { ConsolePanel } from "@/features/console/console-panel";
import { useSession } from "@/lib/session";
import { useUrlParam } from "@/lib/url-state";
import { canOpenConsole } from "@nimbus/domain";

export function InstancePage({ name }: { name: string }) {
  const trpc = useTRPC();
  const detail = useQuery(trpc.instances.get.queryOptions({ name }));
  const now = useNow();
  const staff = useCan("read:fleet");
  const [sorting, setSorting] = useUrlSort([{ id: "createdAt", desc: true }]);
  const [movesSorting, setMovesSorting] = useState([{ id: "startedAt", desc: true }]);
  const { actions, dialogs } = useInstanceActions();
  const mayMoveDisks = useCan("workload:migrate");
  const [movingDisk, setMovingDisk] = useState<DiskToMove | null>(null);
  // Staff only: the history names hosts and datastores.
  const moves = useQuery({ ...trpc.instances.history.queryOptions({ name }), enabled: staff });
  const d = detail.data;
  const current = d ? rowOperationFor(d.operations, { type: "instance", name }, now, 5 * 60_000) : undefined;
  const running = d?.instance.state === "running";
  // Its host does not answer: no power action could reach it.
  const unknown = d?.instance.state === "unknown";
  const busy = current && (current.state === "running" || current.state === "pending");
  // The tab lives in the URL: a reload of the console stays on the console.
  const [tabParam, setTab] = useUrlParam("tab");
  const session = useSession();
  const mayConsole = !!session && !!d && canOpenConsole(session.user, d.instance.tenant);
  const tab = tabParam === "console" && mayConsole ? "console" : "overview";

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
            {d && <StatusBadge status={domainStatus(d.instance.state)} title={reportedStateHint(d.instance)} />}
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
              {actions.power && !running && !unknown && <Button onClick={() => actions.power!(d.instance, "start")}>Start</Button>}
              {actions.power && running && <Button onClick={() => actions.power!(d.instance, "shutdown")}>Shut down</Button>}
              {actions.power && running && <Button onClick={() => actions.power!(d.instance, "reboot")}>Reboot</Button>}
              {actions.power && running && (
                <Button variant="ghost" className="text-crit" onClick={() => actions.power!(d.instance, "destroy")}>
                  Force off…
                </Button>
              )}
              {actions.remove && !unknown && (
                <Button variant="ghost" className="text-crit" disabled={!!busy} onClick={() => actions.remove!(d.instance)} data-testid="delete-button">
                  Delete…
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
          {mayConsole && (
            <nav role="tablist" aria-label="Instance views" className="-mt-1 flex gap-1 border-b border-border">
              {(["overview", "console"] as const).map((t) => (
                <button
                  key={t}
                  role="tab"
                  type="button"
                  aria-selected={tab === t}
                  data-testid={`tab-${t}`}
                  onClick={() => setTab(t === "overview" ? "" : t)}
                  className={`-mb-px border-b-2 px-3 py-1.5 text-[13px] font-medium ${tab === t ? "border-accent text-fg" : "border-transparent text-muted hover:text-fg"}`}
                >
                  {t === "overview" ? "Overview" : "Console"}
                </button>
              ))}
            </nav>
          )}
          {tab === "console" ? (
            <ConsolePanel instance={name} running={running} />
          ) : (
          <>
          {current && (
            <Panel
              title="Current operation"
              className="border-accent/40"
              actions={
                <Link href={operationHref(current.id)} className="text-[12.5px] text-accent hover:underline" data-testid="current-operation-link">
                  Steps and log
                </Link>
              }
            >
              <LiveOperation initial={current} />
            </Panel>
          )}
          <InstanceDetail
            instance={d!.instance}
            domain={d!.domain}
            linkHosts={staff}
            diskAction={
              mayMoveDisks
                ? (disk) => (
                    <Button size="sm" variant="ghost" disabled={!!busy} onClick={() => setMovingDisk({ instance: name, disk: disk.target })} data-testid={`move-disk-${disk.target}`}>
                      Move…
                    </Button>
                  )
                : undefined
            }
          />
          <MetricsPanel kind="instance" name={name} />
          {staff && <TimelinePanel subject={{ kind: "instance", name }} />}
          <SnapshotsPanel instance={name} running={running} />
          {staff && (
            <Panel title="Moves" actions={<Link href={`/moves?instance=${encodeURIComponent(name)}`} className="text-[12.5px] text-accent hover:underline">All moves</Link>} bodyClass="p-0">
              <MovesTable
                moves={moves.data}
                now={now}
                isLoading={moves.isPending}
                error={moves.error}
                onRetry={() => void moves.refetch()}
                sorting={movesSorting}
                onSortingChange={setMovesSorting}
                hiddenColumns={["instance"]}
                maxHeight="24rem"
              />
            </Panel>
          )}
          <Panel title="Operation history" bodyClass="p-0">
            <OperationsTable operations={d!.operations} now={now} sorting={sorting} onSortingChange={setSorting} showTarget={false} maxHeight="none" />
          </Panel>
          </>
          )}
        </div>
      )}
      {dialogs}
      <MoveDiskDialog disk={movingDisk} onClose={() => setMovingDisk(null)} />
    </>
  );
}
