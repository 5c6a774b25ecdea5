"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { PageHeader, Panel } from "@/components/ui/panel";
import { SearchInput } from "@/components/ui/field";
import { StatusBadge } from "@/components/ui/status-badge";
import { EmptyState, ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { Toolbar, countLabel } from "@/components/ui/toolbar";
import { connectionStatus } from "@/lib/status";
import { useTRPC } from "@/lib/trpc";
import { useUrlParam } from "@/lib/url-state";
import { BridgesView } from "./bridges-view";
import { tunnelsByVni } from "./ports";
import { VniTable } from "./vni-table";

export function NetworkPage() {
  const trpc = useTRPC();
  const network = useQuery(trpc.network.overview.queryOptions());
  const tenants = useQuery(trpc.admin.tenants.list.queryOptions());
  const [q, setQ] = useUrlParam("host");

  const tenantOfVni = new Map((tenants.data ?? []).filter((t) => t.vni !== null).map((t) => [t.vni!, t.name]));
  const matching = network.data?.filter((v) => !q || v.host.toLowerCase().includes(q.toLowerCase()));
  // Hosts without bridges (storage servers, swarm VMs) fold into one line instead of empty panels.
  const views = matching?.filter((v) => v.bridges.length > 0);
  const bare = matching?.filter((v) => v.bridges.length === 0) ?? [];

  return (
    <>
      <PageHeader title="Network" description="Bridges and ports on every host, and the per-tenant VXLAN tunnels between them." />
      {network.isPending ? (
        <PanelsSkeleton />
      ) : network.error ? (
        <ErrorState error={network.error} onRetry={() => void network.refetch()} />
      ) : (
        <div className="flex flex-col gap-4">
          <Panel title="VXLAN tunnels per VNI">
            <VniTable rows={tunnelsByVni(network.data)} tenantOfVni={tenantOfVni} />
          </Panel>
          <Toolbar count={countLabel(matching?.length, network.data.length, "hosts")}>
            <SearchInput value={q} onChange={setQ} placeholder="Filter hosts" />
          </Toolbar>
          {matching?.length === 0 && (
            <Panel>
              <EmptyState title={q ? "No hosts match" : "No host reports its network yet"} />
            </Panel>
          )}
          {views?.map((v) => (
            <Panel
              key={v.host}
              id={`host-${v.host}`}
              title={
                <div className="flex items-center gap-2">
                  <Link href={`/hosts/${encodeURIComponent(v.host)}`} className="text-[13.5px] font-semibold hover:text-accent hover:underline">
                    {v.host}
                  </Link>
                  <StatusBadge status={connectionStatus(v.state)} />
                </div>
              }
            >
              <BridgesView bridges={v.bridges} />
            </Panel>
          ))}
          {bare.length > 0 && (
            <p className="text-[12.5px] text-muted">
              No bridges on{" "}
              {bare.map((v, i) => (
                <span key={v.host}>
                  {i > 0 && ", "}
                  <Link href={`/hosts/${encodeURIComponent(v.host)}`} className="text-fg hover:text-accent hover:underline">
                    {v.host}
                  </Link>
                </span>
              ))}
              .
            </p>
          )}
        </div>
      )}
    </>
  );
}
