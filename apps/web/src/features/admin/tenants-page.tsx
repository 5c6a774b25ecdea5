"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createColumnHelper } from "@tanstack/react-table";
import { useState, type FormEvent } from "react";
import { z } from "zod";
import { DataTable } from "@/components/table/data-table";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Checkbox, Field, Input } from "@/components/ui/field";
import { ActionMenu } from "@/components/ui/menu";
import { PageHeader } from "@/components/ui/panel";
import { StatusBadge } from "@/components/ui/status-badge";
import { RelativeTime } from "@/components/ui/time";
import { errorInfo, issueText } from "@/lib/errors";
import { notify } from "@/lib/notify";
import { useCan } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useUrlSort } from "@/lib/url-sort";
import { QuotaCell, QuotaDialog } from "./quota-dialog";
import type { TenantRow } from "./types";
import { useAction } from "@/lib/use-action";

const col = createColumnHelper<TenantRow & { members: number }>();

/** Mirrors admin.tenants.create; an empty VNI takes the lowest free one from the pool. */
const NewTenant = z.object({
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "lower-case letters, digits and '-', up to 32"),
  name: z.string().trim().min(1, "a name").max(80),
  vni: z.union([z.literal(""), z.coerce.number().int().min(1).max(16_777_215)]).transform((v) => (v === "" ? null : v)),
  allowPower: z.boolean(),
});

export function TenantsPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  // Staff read tenants; only admins create and edit them, and only they may list the members.
  const mayEdit = useCan("admin:users");
  const maySetQuota = useCan("tenant:quota");
  const [quotaOf, setQuotaOf] = useState<string | null>(null);
  const tenants = useQuery(trpc.admin.tenants.list.queryOptions());
  const users = useQuery({ ...trpc.admin.users.list.queryOptions(), enabled: mayEdit });
  const [sorting, setSorting] = useUrlSort([{ id: "slug", desc: false }]);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<TenantRow | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.admin.tenants.list.queryKey() });
  const create = useAction(
    trpc.admin.tenants.create.mutationOptions({
      onSuccess: (t) => {
        setCreating(false);
        notify.ok(`Tenant ${t.name} created with VNI ${t.vni ?? "none"}`);
        void refresh();
      },
    }),
  );
  const update = useAction(
    trpc.admin.tenants.update.mutationOptions({
      onSuccess: (t) => {
        setEditing(null);
        notify.ok(`Tenant ${t.name} saved`);
        void refresh();
      },
    }),
  );

  const rows = tenants.data?.map((t) => ({ ...t, members: users.data?.filter((u) => u.tenant === t.slug).length ?? 0 }));
  const columns = [
    col.accessor("slug", { header: "Tenant", cell: (c) => <span className="font-mono font-medium">{c.getValue()}</span> }),
    col.accessor("name", { header: "Name" }),
    col.accessor((t) => t.vni ?? -1, { id: "vni", header: "VXLAN VNI", meta: { align: "right" }, cell: (c) => c.row.original.vni ?? <span className="text-faint">—</span> }),
    ...(mayEdit ? [col.accessor("members", { header: "Members", meta: { align: "right" } })] : []),
    col.display({ id: "quota", header: "Quota (instances)", meta: { hideBelow: "sm" }, cell: (c) => <QuotaCell tenant={c.row.original.slug} /> }),
    col.accessor("allowPower", {
      header: "Power actions",
      cell: (c) => <StatusBadge status={c.getValue() ? { tone: "accent", label: "Members may" } : { tone: "neutral", label: "Staff only" }} />,
    }),
    col.accessor("createdAt", { header: "Created", meta: { hideBelow: "md" }, cell: (c) => <RelativeTime iso={c.getValue()} /> }),
    ...(mayEdit || maySetQuota
      ? [
          col.display({
            id: "actions",
            header: () => <span className="sr-only">Actions</span>,
            cell: (c) => (
              <ActionMenu
                label={`Actions for ${c.row.original.slug}`}
                items={[
                  ...(mayEdit ? [{ label: "Edit…", onSelect: () => setEditing(c.row.original) }] : []),
                  ...(maySetQuota ? [{ label: "Quota…", onSelect: () => setQuotaOf(c.row.original.slug), testId: "action-quota" }] : []),
                ]}
              />
            ),
          }),
        ]
      : []),
  ];

  return (
    <>
      <PageHeader
        title="Tenants"
        description="Each tenant gets its own VXLAN VNI and a quota; its members see only its instances, services and network, and create within the quota."
        actions={
          mayEdit ? (
            <Button variant="primary" onClick={() => setCreating(true)} data-testid="new-tenant">
              New tenant
            </Button>
          ) : undefined
        }
      />
      <DataTable
        testId="tenants-table"
        data={rows}
        columns={columns}
        getRowId={(t) => t.slug}
        isLoading={tenants.isPending}
        error={tenants.error}
        onRetry={() => void tenants.refetch()}
        sorting={sorting}
        onSortingChange={setSorting}
        emptyTitle="No tenants yet"
      />
      <QuotaDialog tenant={quotaOf} onClose={() => setQuotaOf(null)} />
      <TenantDialog
        key={creating ? "new" : (editing?.slug ?? "none")}
        open={creating || editing !== null}
        tenant={editing}
        busy={create.isPending || update.isPending}
        error={create.error ?? update.error}
        onCancel={() => {
          create.reset();
          update.reset();
          setCreating(false);
          setEditing(null);
        }}
        onCreate={(t) => create.mutate(t)}
        onUpdate={(t) => update.mutate(t)}
      />
    </>
  );
}

function TenantDialog({
  open,
  tenant,
  busy,
  error,
  onCancel,
  onCreate,
  onUpdate,
}: {
  open: boolean;
  tenant: TenantRow | null;
  busy: boolean;
  error: unknown;
  onCancel: () => void;
  onCreate: (t: { slug: string; name: string; vni: number | null; allowPower: boolean }) => void;
  onUpdate: (t: { slug: string; name: string; allowPower: boolean }) => void;
}) {
  const [slug, setSlug] = useState(tenant?.slug ?? "");
  const [name, setName] = useState(tenant?.name ?? "");
  const [vni, setVni] = useState("");
  const [allowPower, setAllowPower] = useState(tenant?.allowPower ?? false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (tenant) return onUpdate({ slug: tenant.slug, name: name.trim(), allowPower });
    const parsed = NewTenant.safeParse({ slug, name, vni: vni.trim(), allowPower });
    if (!parsed.success) return setErrors(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), issueText(i)])));
    setErrors({});
    onCreate(parsed.data);
  };
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => !o && onCancel()}
      title={tenant ? `Edit ${tenant.slug}` : "New tenant"}
      testId="tenant-dialog"
      footer={
        <>
          <Button onClick={onCancel}>Cancel</Button>
          <Button type="submit" form="tenant-form" variant="primary" busy={busy} data-testid="save-tenant">
            {tenant ? "Save" : "Create tenant"}
          </Button>
        </>
      }
    >
      <form id="tenant-form" onSubmit={submit} className="flex flex-col gap-3">
        {!tenant && (
          <Field label="Identifier" htmlFor="t-slug" error={errors.slug} hint="Used in labels on VMs and services; cannot change later.">
            <Input id="t-slug" value={slug} onChange={(e) => setSlug(e.target.value)} autoFocus />
          </Field>
        )}
        <Field label="Name" htmlFor="t-name" error={errors.name}>
          <Input id="t-name" value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        {!tenant && (
          <Field label="VXLAN VNI" htmlFor="t-vni" error={errors.vni} hint="Empty: the lowest free VNI from the pool.">
            <Input id="t-vni" inputMode="numeric" placeholder="next free" value={vni} onChange={(e) => setVni(e.target.value)} />
          </Field>
        )}
        <Checkbox label="Members may start, stop and reboot their instances" checked={allowPower} onChange={(e) => setAllowPower(e.target.checked)} />
        {error ? (
          <p role="alert" className="rounded-md bg-crit-soft px-3 py-2 text-[13px] text-crit">
            {errorInfo(error).message}
          </p>
        ) : null}
      </form>
    </Dialog>
  );
}
