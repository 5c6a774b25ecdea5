"use client";
import type { SwarmService } from "@nimbus/domain";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { PageHeader, Panel } from "@/components/ui/panel";
import { SearchInput } from "@/components/ui/field";
import { ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { LiveOperation } from "@/features/operations/live-operation";
import { useNow } from "@/lib/clock";
import { rowOperationFor } from "@/lib/live-patch";
import { notify } from "@/lib/notify";
import { RECENT_OPERATIONS } from "@/lib/queries";
import { useCan } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useUrlParam } from "@/lib/url-state";
import { useUrlSort } from "@/lib/url-sort";
import { JoinTokensButton } from "./join-tokens";
import { ScaleDialog } from "./scale-dialog";
import { SwarmNodesTable, SwarmServicesTable } from "./swarm-tables";
import { ObjectCharts } from "@/features/charts/object-charts";
import { AddWorkerButton, CreateSwarmButton, RotateTokensButton, useNodeActions } from "./nodes-actions";
import { AutoscalePanel } from "./autoscale-panel";
import { NodeOperations } from "./nodes-operations";
import { OverlayNetworksTable, PortFindingsPanelBody } from "./service-networks";
import { useAction } from "@/lib/use-action";

export function SwarmPage() {
  const trpc = useTRPC();
  const swarm = useQuery(trpc.swarm.overview.queryOptions());
  const ops = useQuery(trpc.operations.list.queryOptions(RECENT_OPERATIONS));
  const now = useNow();
  const mayScale = useCan("workload:scale");
  const staff = useCan("read:fleet");
  const mayRevealTokens = useCan("swarm:tokens");
  const mayCreate = useCan("workload:create");
  const nodeActions = useNodeActions(mayCreate, mayRevealTokens);
  const [q, setQ] = useUrlParam("q");
  const [nodeSort, setNodeSort] = useUrlSort([{ id: "hostname", desc: false }]);
  const [serviceSort, setServiceSort] = useState([{ id: "name", desc: false }]);
  const [scaling, setScaling] = useState<SwarmService | null>(null);
  const availability = useAction(
    trpc.swarm.setAvailability.mutationOptions({
      onSuccess: (_r, v) => notify.ok(`${v.node}: availability set to ${v.availability}`),
      onError: (e, v) => notify.error(e, `Availability of ${v.node}`),
    }),
  );

  const s = swarm.data;
  const services = s?.services.filter((x) => !q || `${x.name} ${x.stack ?? ""} ${x.tenant ?? ""} ${x.image}`.toLowerCase().includes(q.toLowerCase()));

  return (
    <>
      <PageHeader
        title="Swarm"
        description={s?.managerHost ? `Docker Swarm on VMs; cluster ${s.clusterId ?? "?"}, answered by ${s.managerHost}.` : "Docker Swarm on VMs."}
        actions={
          <>
            {mayCreate && s?.managerHost && <AddWorkerButton nodes={s.nodes} />}
            {mayCreate && s && !s.managerHost && <CreateSwarmButton bridges={["br0"]} />}
            {mayRevealTokens && s?.managerHost && <RotateTokensButton />}
            {mayRevealTokens && s?.managerHost ? <JoinTokensButton managerAddress={s.nodes.find((n) => n.leader)?.address ?? null} /> : null}
          </>
        }
      />
      {swarm.isPending ? (
        <PanelsSkeleton count={2} />
      ) : swarm.error ? (
        <ErrorState error={swarm.error} onRetry={() => void swarm.refetch()} />
      ) : (
        <div className="flex flex-col gap-4">
          {!s!.managerHost && staff && (
            <div role="alert" className="rounded-lg border border-warn/40 bg-warn-soft p-3 text-[13px]" data-testid="no-swarm">
              <span className="font-semibold text-warn">No swarm manager answers.</span> If a swarm runs, its managers are down: nodes and services show again once one is online.
              {mayCreate ? " If there is none yet, Create swarm builds its first manager." : ""}
            </div>
          )}
          {staff && (
            <Panel title={`Nodes (${s!.nodes.length})`} bodyClass="p-0">
              <SwarmNodesTable
                nodes={s!.nodes}
                sorting={nodeSort}
                onSortingChange={setNodeSort}
                setAvailability={mayScale ? (n, a) => availability.mutate({ node: n.hostname, availability: a }) : undefined}
                nodeActions={nodeActions.itemsFor}
              />
              <NodeOperations operations={ops.data} />
            </Panel>
          )}
          <Panel title={`Services (${s!.services.length})`} actions={<SearchInput value={q} onChange={setQ} placeholder="Filter services" />} bodyClass="p-0">
            <SwarmServicesTable
              services={services ?? []}
              tasks={s!.tasks}
              nodes={s!.nodes}
              sorting={serviceSort}
              onSortingChange={setServiceSort}
              onScale={mayScale ? setScaling : undefined}
              filtered={!!q}
              operationFor={(svc) => rowOperationFor(ops.data, { type: "service", name: svc.name }, now)}
              renderOperation={(op) => <LiveOperation initial={op} compact />}
            />
          </Panel>
          {staff && s!.services.length > 0 && <ObjectCharts kind="service" names={s!.services.map((x) => x.name)} title="Replicas" param="chart" />}
          {staff && s!.managerHost && <AutoscalePanel services={s!.services} />}
          {staff && s!.managerHost && (
            <Panel title={`Ports between nodes${s!.portFindings.length ? ` (${s!.portFindings.length} blocked)` : ""}`} id="swarm-ports">
              <PortFindingsPanelBody findings={s!.portFindings} nodes={s!.nodes.length} />
            </Panel>
          )}
          {staff && s!.managerHost && (
            <Panel title={`Overlay networks (${s!.networks.length})`} bodyClass="p-0" id="swarm-networks">
              <OverlayNetworksTable networks={s!.networks} />
            </Panel>
          )}
        </div>
      )}
      <ScaleDialog service={scaling} onClose={() => setScaling(null)} />
      {nodeActions.dialogs}
    </>
  );
}
