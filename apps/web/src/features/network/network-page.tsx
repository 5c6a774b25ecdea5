"use client";
import type { AppRouter } from "@nimbus/api";
import type { MapFilter } from "@nimbus/domain";
import type { inferRouterOutputs } from "@trpc/server";
import { mapGraph } from "@nimbus/domain";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useCallback, useMemo } from "react";
import { PageHeader, Panel } from "@/components/ui/panel";
import { SearchInput, Select } from "@/components/ui/field";
import { StatusBadge } from "@/components/ui/status-badge";
import { EmptyState, ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { Toolbar, countLabel } from "@/components/ui/toolbar";
import { cx } from "@/lib/cx";
import { connectionStatus } from "@/lib/status";
import { useCan } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useUrlParam } from "@/lib/url-state";
import { BridgesView } from "./bridges-view";
import { ClusterTables } from "./cluster-tables";
import { FindingsList } from "./findings-list";
import { MapDetails } from "./map/map-details";
import { NetworkMap, withoutBareHosts } from "./map/network-map";

const VIEWS = [
  { id: "map", label: "Map" },
  { id: "tables", label: "VLANs, VNIs, tenants" },
  { id: "findings", label: "Findings" },
  { id: "bridges", label: "Bridges per host", staff: true },
] as const;

export function NetworkPage() {
  const staff = useCan("read:fleet");
  const [view, setView] = useUrlParam("view");
  const current = VIEWS.find((v) => v.id === view && (!("staff" in v) || staff))?.id ?? "map";
  const trpc = useTRPC();
  const topology = useQuery(trpc.network.topology.queryOptions());
  const findingCount = topology.data?.findings.length ?? 0;

  return (
    <>
      <PageHeader title="Network" description="Which tenant's VNI and VLANs reach which hosts, through which bridges and tunnels, to which VMs — and what is broken." />
      <nav aria-label="Network views" className="mb-4 flex flex-wrap gap-1 border-b border-border">
        {VIEWS.filter((v) => !("staff" in v) || staff).map((v) => (
          <button
            key={v.id}
            type="button"
            onClick={() => setView(v.id === "map" ? "" : v.id)}
            aria-current={current === v.id ? "page" : undefined}
            className={cx("-mb-px border-b-2 px-3 py-2 text-[13px]", current === v.id ? "border-accent font-medium text-fg" : "border-transparent text-muted hover:text-fg")}
          >
            {v.label}
            {v.id === "findings" && findingCount > 0 && <span className="ml-1.5 rounded-full bg-crit-soft px-1.5 text-[11px] font-semibold text-crit">{findingCount}</span>}
          </button>
        ))}
      </nav>
      {current === "bridges" ? (
        <BridgesPerHost />
      ) : topology.isPending ? (
        <PanelsSkeleton count={2} />
      ) : topology.error ? (
        <ErrorState error={topology.error} onRetry={() => void topology.refetch()} />
      ) : current === "tables" ? (
        <ClusterTables vlans={topology.data.tables.vlans} vnis={topology.data.tables.vnis} tenants={topology.data.tables.tenants} />
      ) : current === "findings" ? (
        <FindingsList findings={topology.data.findings} />
      ) : (
        <MapView topology={topology.data.topology} findings={topology.data.findings} linkHosts={staff} />
      )}
    </>
  );
}

type TopologyData = inferRouterOutputs<AppRouter>["network"]["topology"];

function MapView({ topology, findings, linkHosts }: { topology: TopologyData["topology"]; findings: TopologyData["findings"]; linkHosts: boolean }) {
  const [tenant, setTenant] = useUrlParam("tenant");
  const [vni, setVni] = useUrlParam("vni");
  const [vlan, setVlan] = useUrlParam("vlan");
  const [open, setOpen] = useUrlParam("open");
  const [sel, setSel] = useUrlParam("sel");
  const filter = useMemo<MapFilter>(
    () => ({ tenant: tenant || undefined, vni: vni ? Number(vni) : undefined, vlan: vlan ? Number(vlan) : undefined }),
    [tenant, vni, vlan],
  );
  const expanded = useMemo(() => new Set(open ? open.split(",") : []), [open]);
  const toggle = useCallback(
    (id: string) => {
      const next = new Set(expanded);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      setOpen([...next].join(","));
    },
    [expanded, setOpen],
  );
  const full = useMemo(() => mapGraph(topology, { filter, expanded, findings }), [topology, filter, expanded, findings]);
  const graph = useMemo(() => withoutBareHosts(full), [full]);
  const offMap = full.nodes.filter((n) => n.kind === "host" && !graph.nodes.includes(n)).map((n) => n.label);
  const tenants = topology.tenants;
  const vnis = [...new Set(topology.tunnels.map((t) => t.vni))].sort((a, b) => a - b);
  const vlans = [...new Set(topology.hosts.flatMap((h) => h.vms.flatMap((v) => v.nics.flatMap((n) => (n.vlan === null ? [] : [n.vlan])))))].sort((a, b) => a - b);

  return (
    <div className="flex flex-col gap-3">
      <Toolbar count={`${graph.nodes.filter((n) => n.kind === "host").length} hosts · ${graph.edges.filter((e) => e.kind === "tunnel").length} tunnels`}>
        <Select aria-label="Tenant" value={tenant} onChange={(e) => setTenant(e.target.value)}>
          <option value="">All tenants</option>
          {tenants.map((t) => (
            <option key={t.slug} value={t.slug}>
              {t.name}
            </option>
          ))}
        </Select>
        <Select aria-label="VNI" value={vni} onChange={(e) => setVni(e.target.value)}>
          <option value="">All VNIs</option>
          {vnis.map((v) => (
            <option key={v} value={v}>
              VNI {v}
            </option>
          ))}
        </Select>
        <Select aria-label="VLAN" value={vlan} onChange={(e) => setVlan(e.target.value)}>
          <option value="">All VLANs</option>
          {vlans.map((v) => (
            <option key={v} value={v}>
              VLAN {v}
            </option>
          ))}
        </Select>
      </Toolbar>
      <div className="flex flex-col gap-3 lg:flex-row">
        {/* A definite height at every width: as a flex-1 item of the stacked (column) layout below
            1024 px its height came from a 0 basis, and React Flow's 100 % pane measured 0. */}
        <div className="h-[calc(100dvh-250px)] min-h-96 w-full overflow-hidden rounded-lg border border-border bg-panel lg:w-auto lg:min-w-0 lg:flex-1" data-testid="network-map">
          <NetworkMap graph={graph} selected={sel || null} onSelect={(id) => setSel(id ?? "")} onToggle={toggle} />
        </div>
        {sel && (
          <Panel className="lg:w-80 lg:shrink-0" title="Details" actions={<button type="button" className="text-[12px] text-muted hover:text-fg" onClick={() => setSel("")}>Close</button>}>
            <MapDetails graph={graph} findings={findings} selected={sel} linkHosts={linkHosts} />
          </Panel>
        )}
      </div>
      {offMap.length > 0 && <p className="text-[12px] text-muted">Not on the map (no bridges, VMs or tunnels): {offMap.join(", ")}.</p>}
    </div>
  );
}

function BridgesPerHost() {
  const trpc = useTRPC();
  const network = useQuery(trpc.network.overview.queryOptions());
  const [q, setQ] = useUrlParam("host");
  const matching = network.data?.filter((v) => !q || v.host.toLowerCase().includes(q.toLowerCase()));
  // Hosts without bridges (storage servers, swarm VMs) fold into one line instead of empty panels.
  const views = matching?.filter((v) => v.bridges.length > 0);
  const bare = matching?.filter((v) => v.bridges.length === 0) ?? [];
  if (network.isPending) return <PanelsSkeleton />;
  if (network.error) return <ErrorState error={network.error} onRetry={() => void network.refetch()} />;
  return (
    <div className="flex flex-col gap-4">
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
  );
}
