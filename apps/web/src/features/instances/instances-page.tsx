"use client";
import { useQuery } from "@tanstack/react-query";
import { INSTANCE_SORTS, type InstancePage, type InstanceSort, type InstanceView } from "@nimbus/domain";
import { useCallback, useMemo } from "react";
import { usePerPage, useSparsePages } from "@/lib/use-sparse-pages";
import { useDebounced } from "@/lib/use-debounced";
import Link from "next/link";
import { PageHeader } from "@/components/ui/panel";
import { SearchInput, Select } from "@/components/ui/field";
import { Toolbar, countLabel } from "@/components/ui/toolbar";
import { LiveOperation } from "@/features/operations/live-operation";
import { useNow } from "@/lib/clock";
import { rowOperationFor } from "@/lib/live-patch";
import { RECENT_OPERATIONS } from "@/lib/queries";
import { useCan, useMayProvision, useSession } from "@/lib/session";
import { TenantQuotaPanel } from "@/features/provision/tenant-quota-panel";
import { useTRPC } from "@/lib/trpc";
import { useUrlParam } from "@/lib/url-state";
import { useUrlSort } from "@/lib/url-sort";
import { InstancesTable } from "./instances-table";
import { useInstanceActions } from "./use-instance-actions";

/** Rows per request, by offset, under the window in view: a screenful several times over, a small body each. */
export const INSTANCE_PAGE = 200;

export function InstancesPage() {
  const trpc = useTRPC();
  const operations = useQuery(trpc.operations.list.queryOptions(RECENT_OPERATIONS));
  const now = useNow();
  const staff = useCan("read:fleet");
  const [q, setQ] = useUrlParam("q");
  const [state, setState] = useUrlParam("state");
  const [host, setHost] = useUrlParam("host");
  const [tenant, setTenant] = useUrlParam("tenant");
  const [sorting, setSorting] = useUrlSort([{ id: "name", desc: false }]);
  const perPage = usePerPage(INSTANCE_PAGE);
  const { actions, dialogs } = useInstanceActions();
  const mayCreate = useMayProvision();
  const ownTenant = useSession()?.user.tenant ?? null;

  // Filtered, sorted and paged by the server; the pages under the rows in view load, wherever the scroll is.
  const sortId = sorting[0]?.id ?? "name";
  const query = useMemo(
    () => ({
      q: q.trim(),
      state,
      host,
      tenant,
      sort: (INSTANCE_SORTS as readonly string[]).includes(sortId) ? (sortId as InstanceSort) : "name",
      desc: sorting[0]?.desc ?? false,
    }),
    [q, state, host, tenant, sortId, sorting],
  );
  const settled = useDebounced(query, 200);
  const optionsFor = useCallback((offset: number) => trpc.instances.page.queryOptions({ ...settled, offset, limit: perPage }), [trpc, settled, perPage]);
  const instances = useSparsePages<InstanceView, InstancePage>({
    size: perPage,
    optionsFor,
    pathKey: trpc.instances.page.pathKey(),
    resetKey: JSON.stringify([settled, perPage]),
  });
  const first = instances.first;
  const filtered = !!(q || state || host || tenant);

  return (
    <>
      <PageHeader
        title="Instances"
        description="Virtual machines on every hypervisor. Disks live on shared NFS, so running VMs can move between hosts."
        actions={
          mayCreate ? (
            <Link
              href="/instances/new"
              data-testid="new-instance"
              className="inline-flex h-8 items-center rounded-md border border-transparent bg-accent px-3 text-[13px] font-medium text-accent-fg hover:opacity-90"
            >
              New instance
            </Link>
          ) : undefined
        }
      />
      {!staff && ownTenant && <TenantQuotaPanel tenant={ownTenant} />}
      <Toolbar count={first ? countLabel(first.total, first.all, "instances") : ""}>
        <SearchInput value={q} onChange={setQ} placeholder="Search name, IP, MAC, VLAN, disk" />
        <Select aria-label="State" value={state} onChange={(e) => setState(e.target.value)}>
          <option value="">Any state</option>
          <option value="running">Running</option>
          <option value="shutoff">Shut off</option>
          <option value="paused">Paused</option>
          <option value="crashed">Crashed</option>
        </Select>
        {staff && (first?.hosts || host) && (
          <Select aria-label="Host" value={host} onChange={(e) => setHost(e.target.value)}>
            <option value="">Any host</option>
            {(first?.hosts ?? [host]).map((h) => (
              <option key={h} value={h}>
                {h}
              </option>
            ))}
          </Select>
        )}
        {staff && (
          <Select aria-label="Tenant" value={tenant} onChange={(e) => setTenant(e.target.value)}>
            <option value="">Any tenant</option>
            {(first?.tenants ?? []).map((t) => (
              <option key={t} value={t}>
                {t === "-" ? "Infrastructure" : t}
              </option>
            ))}
          </Select>
        )}
      </Toolbar>
      <InstancesTable
        instances={undefined}
        sparse={
          instances.total === undefined
            ? undefined
            : { total: instances.total, rowAt: instances.rowAt, onWindowChange: instances.onWindowChange, resetKey: JSON.stringify([settled, perPage]) }
        }
        isLoading={instances.isPending}
        error={instances.error}
        onRetry={instances.refetch}
        sorting={sorting}
        onSortingChange={setSorting}
        manualSorting
        actions={actions}
        linkHosts={staff}
        // Tenants get an opaque token instead of a host name, and datastore paths are
        // infrastructure: neither is shown to them.
        hiddenColumns={staff ? undefined : ["host", "disk"]}
        filtered={filtered}
        operationFor={(i) => rowOperationFor(operations.data, { type: "instance", name: i.name }, now)}
        renderOperation={(op) => <LiveOperation initial={op} compact />}
      />
      {dialogs}
    </>
  );
}
