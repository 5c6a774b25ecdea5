"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState } from "react";
import { PageHeader } from "@/components/ui/panel";
import { NoAccess } from "@/components/ui/no-access";
import { errorInfo } from "@/lib/errors";
import { operationHref } from "@/lib/hrefs";
import { notify, watchOperation } from "@/lib/notify";
import { useCan, useMayProvision, useSession } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { useDebounced } from "@/lib/use-debounced";
import { CreateInstanceForm, type ImageOption, type TenantOption } from "./create-form";
import { emptyValues, quotaProblem, tenantNetworkOf, validate, type CreateFormValues, type FieldErrors } from "./create-values";

/** Instances of a tenant read to find its VLAN; online hypervisors offered to pin a create to. */
const TENANT_SAMPLE = 100;
const HOST_CHOICES = 500;

/** Placement is asked again once the form has been still this long. */
const PLACEMENT_DEBOUNCE_MS = 400;
/** A tenant's VLAN and VNI are filled in by the server; these only make the first request well-formed. */
const PLACEHOLDER_VLAN = 1;
const PLACEHOLDER_VNI = 1;

/**
 * The create page: the catalog, the tenants (staff) or the viewer's own tenant, the server's
 * placement for what is typed (debounced; the last answer stays while the next one runs) and the
 * tenant's quota. A valid form is sent to instances.create; the user lands on the operation.
 */
export function CreateInstancePage() {
  const may = useMayProvision();
  if (!may) return <NoAccess />;
  return <CreateInstance />;
}

function CreateInstance() {
  const trpc = useTRPC();
  const router = useRouter();
  const session = useSession();
  // Staff create for any tenant, pick a bridge and pin a host; a tenant member for its own only.
  const staff = useCan("workload:create");
  const ownTenant = session?.user.tenant ?? "";

  const images = useQuery(trpc.images.list.queryOptions());
  const tenants = useQuery({ ...trpc.admin.tenants.list.queryOptions(), enabled: staff });
  const network = useQuery({ ...trpc.network.overview.queryOptions(), enabled: staff });
  // A pinned host is one of the online hypervisors: one bounded page, not the fleet's list.
  const hostList = useQuery({ ...trpc.hosts.page.queryOptions({ role: "hypervisor", state: "online", limit: HOST_CHOICES }), enabled: staff });

  const [values, setValues] = useState<CreateFormValues>(() => emptyValues(staff ? "" : ownTenant));
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);

  // The VLAN a tenant's instances use, from a sample of that tenant's own (the one chosen, or the
  // member's own), asked of the server: never the fleet's instance list.
  const sampleTenant = staff ? values.tenant : ownTenant;
  const sample = useQuery({ ...trpc.instances.page.queryOptions({ tenant: sampleTenant, limit: TENANT_SAMPLE }), enabled: !!sampleTenant });
  const sampled = sample.data && sampleTenant ? tenantNetworkOf(sample.data.items, sampleTenant) : null;
  const networkOf = (tenant: string) => (tenant === sampleTenant && sampled ? sampled : { vlan: null, vni: null });
  // Staff picked a tenant whose VLAN was not known yet: fill it in once the sample answers, unless typed.
  const suggestedVlan = staff && sampled?.vlan != null ? String(sampled.vlan) : "";
  useEffect(() => {
    if (suggestedVlan && !values.vlan) setValues((v) => (v.vlan ? v : { ...v, vlan: suggestedVlan }));
  }, [suggestedVlan, values.vlan]);
  const tenantOptions: TenantOption[] | null = staff
    ? (tenants.data?.map((t) => ({ slug: t.slug, name: t.name, vni: t.vni, vlan: networkOf(t.slug).vlan })) ?? [])
    : null;
  const imageOptions: ImageOption[] | undefined = images.data?.flatMap((d) => d.images.map((i) => ({ name: i.name, os: i.os, virtualSizeBytes: i.virtualSizeBytes, datastore: i.datastore })));
  const bridges = staff ? [...new Set(network.data?.flatMap((n) => n.bridges.map((b) => b.name)) ?? [])].sort() : null;
  const hosts = staff ? (hostList.data?.items.map((h) => h.name) ?? []) : null;

  // A tenant member's network is its tenant's: the server fills it in (placement says which);
  // until it answers, what the tenant's instances use, else placeholders that only make the
  // first request well-formed.
  const known = !staff && ownTenant ? networkOf(ownTenant) : null;
  const check = validate(known ? { ...values, vlan: String(known.vlan ?? PLACEHOLDER_VLAN), vni: String(known.vni ?? PLACEHOLDER_VNI) } : values);
  const request = check.ok ? check.request : null;
  // Compared as text: each render parses a new object, equal or not.
  const requestKey = request ? JSON.stringify(request) : null;
  const settledKey = useDebounced(requestKey, PLACEMENT_DEBOUNCE_MS);
  const settled = useMemo(() => (settledKey ? (JSON.parse(settledKey) as NonNullable<typeof request>) : null), [settledKey]);
  const placement = useQuery({
    ...trpc.instances.placement.queryOptions(settled!),
    enabled: settled !== null,
    placeholderData: keepPreviousData,
    // A snapshot of the fleet: asked again when the form changes, not kept for later.
    staleTime: 0,
    gcTime: 0,
  });
  const answered = placement.data;
  const form: CreateFormValues = known
    ? { ...values, vlan: String(answered?.network.vlan ?? known.vlan ?? ""), vni: String(answered?.network.vni ?? known.vni ?? "") }
    : values;
  const quota = useQuery({ ...trpc.tenants.quota.queryOptions(staff ? { tenant: values.tenant } : {}), enabled: !staff || values.tenant !== "" });
  const rows = quota.data?.rows;
  const refusal = quotaProblem(form.tenant, rows, request) ?? (answered && request && answered.tenant === form.tenant ? answered.quotaProblem : null);

  const create = useAction(
    trpc.instances.create.mutationOptions({
      onSuccess: (r, v) => {
        watchOperation(r.operationId);
        notify.started({ id: r.operationId, summary: `Create ${v.name}` });
        router.push(operationHref(r.operationId));
      },
    }),
  );

  const change = (next: CreateFormValues) => {
    const changed = (Object.keys(next) as (keyof CreateFormValues)[]).filter((k) => next[k] !== form[k]);
    setTouched((t) => (changed.every((k) => t.has(k)) ? t : new Set([...t, ...changed])));
    create.reset();
    setValues(next);
  };
  // Problems show once a field was edited, or all of them after a submit.
  const errors: FieldErrors = useMemo(
    () => (submitted ? check.errors : Object.fromEntries(Object.entries(check.errors).filter(([k]) => touched.has(k)))),
    [submitted, check.errors, touched],
  );

  const missing = check.ok ? null : "Fill in the form to see which host it goes to and why.";
  const stale = placement.isPlaceholderData || placement.isFetching || (requestKey !== null && settledKey !== requestKey);

  return (
    <>
      <PageHeader
        title="New instance"
        description={
          <span className="inline-flex items-center gap-2">
            <Link href="/instances" className="hover:text-accent">
              Instances
            </Link>
            <span aria-hidden>/</span>
            <span className="hidden sm:inline">Built from an image on shared storage, placed on the hypervisor that fits best, on its tenant&apos;s network.</span>
            <span className="sm:hidden">New</span>
          </span>
        }
      />
      <CreateInstanceForm
        values={form}
        onChange={change}
        errors={errors}
        images={imageOptions}
        tenants={tenantOptions}
        bridges={bridges}
        hosts={hosts}
        placement={request ? answered : undefined}
        placementStale={stale}
        placementError={placement.error}
        onRetryPlacement={() => void placement.refetch()}
        placementIncomplete={missing}
        quotaRows={rows}
        quotaRefusal={refusal}
        submitError={create.error ? errorInfo(create.error) : null}
        submitting={create.isPending}
        onSubmit={() => {
          setSubmitted(true);
          if (request) create.mutate(known && answered ? { ...request, network: { ...request.network, vlan: answered.network.vlan, vni: answered.network.vni } } : request);
        }}
        onCancel={() => router.push("/instances")}
      />
    </>
  );
}
