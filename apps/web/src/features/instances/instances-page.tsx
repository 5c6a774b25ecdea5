"use client";
import { useQuery } from "@tanstack/react-query";
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
import { distinct, filterInstances } from "./instance-filters";
import { InstancesTable } from "./instances-table";
import { useInstanceActions } from "./use-instance-actions";

export function InstancesPage() {
  const trpc = useTRPC();
  const instances = useQuery(trpc.instances.list.queryOptions());
  const operations = useQuery(trpc.operations.list.queryOptions(RECENT_OPERATIONS));
  const now = useNow();
  const staff = useCan("read:fleet");
  const [q, setQ] = useUrlParam("q");
  const [state, setState] = useUrlParam("state");
  const [host, setHost] = useUrlParam("host");
  const [tenant, setTenant] = useUrlParam("tenant");
  const [sorting, setSorting] = useUrlSort([{ id: "name", desc: false }]);
  const { actions, dialogs } = useInstanceActions();
  const mayCreate = useMayProvision();
  const ownTenant = useSession()?.user.tenant ?? null;

  const all = instances.data;
  const shown = all ? filterInstances(all, { q, state, host, tenant }) : undefined;

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
      <Toolbar count={countLabel(shown?.length, all?.length, "instances")}>
        <SearchInput value={q} onChange={setQ} placeholder="Search name, IP, MAC, VLAN, disk" />
        <Select aria-label="State" value={state} onChange={(e) => setState(e.target.value)}>
          <option value="">Any state</option>
          <option value="running">Running</option>
          <option value="shutoff">Shut off</option>
          <option value="paused">Paused</option>
          <option value="crashed">Crashed</option>
        </Select>
        {staff && (
          <Select aria-label="Host" value={host} onChange={(e) => setHost(e.target.value)}>
            <option value="">Any host</option>
            {distinct(all?.map((i) => i.host) ?? []).map((h) => (
              <option key={h} value={h}>
                {h}
              </option>
            ))}
          </Select>
        )}
        {staff && (
          <Select aria-label="Tenant" value={tenant} onChange={(e) => setTenant(e.target.value)}>
            <option value="">Any tenant</option>
            {distinct(all?.map((i) => i.tenant) ?? []).map((t) => (
              <option key={t} value={t}>
                {t === "-" ? "Infrastructure" : t}
              </option>
            ))}
          </Select>
        )}
      </Toolbar>
      <InstancesTable
        instances={shown}
        isLoading={instances.isPending}
        error={instances.error}
        onRetry={() => void instances.refetch()}
        sorting={sorting}
        onSortingChange={setSorting}
        actions={actions}
        linkHosts={staff}
        // Tenants get an opaque token instead of a host name, and datastore paths are
        // infrastructure: neither is shown to them.
        hiddenColumns={staff ? undefined : ["host", "disk"]}
        filtered={!!(q || state || host || tenant)}
        operationFor={(i) => rowOperationFor(operations.data, { type: "instance", name: i.name }, now)}
        renderOperation={(op) => <LiveOperation initial={op} compact />}
      />
      {dialogs}
    </>
  );
}
