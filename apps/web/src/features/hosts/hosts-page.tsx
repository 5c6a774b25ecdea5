"use client";
import { useQuery } from "@tanstack/react-query";
import { HOST_SORTS, type HostPage, type HostSort, type HostSummary } from "@nimbus/domain";
import { useCallback, useMemo } from "react";
import { usePerPage, useSparsePages } from "@/lib/use-sparse-pages";
import { PageHeader } from "@/components/ui/panel";
import { SearchInput, Select } from "@/components/ui/field";
import { Toolbar, countLabel } from "@/components/ui/toolbar";
import { useHostMaintenance } from "@/features/maintenance/use-host-maintenance";
import { LiveOperation } from "@/features/operations/live-operation";
import { useNow } from "@/lib/clock";
import { RECENT_OPERATIONS } from "@/lib/queries";
import { useTRPC } from "@/lib/trpc";
import { useUrlParam } from "@/lib/url-state";
import { useUrlSort } from "@/lib/url-sort";
import { rowOperationFor } from "@/lib/live-patch";
import { HostsTable } from "./hosts-table";

/** Hosts per request, by offset, under the window in view. */
export const HOST_PAGE = 200;

export function HostsPage() {
  const trpc = useTRPC();
  const [q, setQ] = useUrlParam("q");
  const [state, setState] = useUrlParam("state");
  const [role, setRole] = useUrlParam("role");
  const [sorting, setSorting] = useUrlSort([{ id: "name", desc: false }]);

  const maintenance = useHostMaintenance();
  const operations = useQuery(trpc.operations.list.queryOptions(RECENT_OPERATIONS));
  const now = useNow();

  // Filtered, sorted and paged by the server; the pages under the rows in view load, wherever the scroll is.
  const sortId = sorting[0]?.id === "vmsRunning" ? "vms" : (sorting[0]?.id ?? "name");
  const input = useMemo(
    () => ({
      q: q.trim(),
      state: (["online", "problem", "maintenance"].includes(state) ? state : "") as "" | "online" | "problem" | "maintenance",
      role: (["hypervisor", "storage", "swarm"].includes(role) ? role : "") as "" | "hypervisor" | "storage" | "swarm",
      sort: (HOST_SORTS as readonly string[]).includes(sortId) ? (sortId as HostSort) : "name",
      desc: sorting[0]?.desc ?? false,
    }),
    [q, state, role, sortId, sorting],
  );
  const perPage = usePerPage(HOST_PAGE);
  const optionsFor = useCallback((offset: number) => trpc.hosts.page.queryOptions({ ...input, offset, limit: perPage }), [trpc, input, perPage]);
  const resetKey = JSON.stringify([input, perPage]);
  const hosts = useSparsePages<HostSummary, HostPage>({ size: perPage, optionsFor, pathKey: trpc.hosts.page.pathKey(), resetKey });
  const first = hosts.first;
  const filtered = !!(q || state || role);

  return (
    <>
      <PageHeader title="Hosts" description="Every machine Nimbus reaches over SSH: hypervisors, storage servers and swarm VMs." />
      <Toolbar count={first ? countLabel(first.total, first.all, "hosts") : ""}>
        <SearchInput value={q} onChange={setQ} placeholder="Search name, address, message" />
        <Select aria-label="Connection" value={state} onChange={(e) => setState(e.target.value)}>
          <option value="">Any connection</option>
          <option value="online">Online</option>
          <option value="problem">With a problem</option>
          <option value="maintenance">In maintenance</option>
        </Select>
        <Select aria-label="Role" value={role} onChange={(e) => setRole(e.target.value)}>
          <option value="">Any role</option>
          <option value="hypervisor">Hypervisor</option>
          <option value="storage">Storage</option>
          <option value="swarm">Swarm</option>
        </Select>
      </Toolbar>
      <HostsTable
        hosts={undefined}
        sparse={hosts.total === undefined ? undefined : { total: hosts.total, rowAt: hosts.rowAt, onWindowChange: hosts.onWindowChange, resetKey }}
        isLoading={hosts.isPending}
        error={hosts.error}
        onRetry={hosts.refetch}
        sorting={sorting}
        onSortingChange={setSorting}
        manualSorting
        filtered={filtered}
        actions={{ enterMaintenance: maintenance.enter && ((h) => maintenance.enter!(h.name)), exitMaintenance: maintenance.exit && ((h) => maintenance.exit!(h.name)) }}
        maintenanceOf={(h) => maintenance.viewOf(h.name)}
        operationFor={(h) => rowOperationFor(operations.data, { type: "host", name: h.name }, now)}
        renderOperation={(op) => <LiveOperation initial={op} compact />}
      />
      {maintenance.dialogs}
    </>
  );
}
