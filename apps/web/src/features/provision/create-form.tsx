import type { FormEvent, ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { Field, Input, Select, Textarea } from "@/components/ui/field";
import { Panel } from "@/components/ui/panel";
import { PreflightList } from "@/features/preflight/preflight-list";
import { cx } from "@/lib/cx";
import type { ErrorInfo } from "@/lib/errors";
import { formatBytes } from "@/lib/format";
import { SIZE_PRESETS, withPreset, withSizeField, type CreateFormValues, type FieldErrors, type QuotaRow } from "./create-values";
import { PlacementList, type PlacementView } from "./placement-view";
import { QuotaUsage } from "./quota-view";

export interface ImageOption {
  name: string;
  os: string;
  virtualSizeBytes: number;
  datastore: string;
}

export interface TenantOption {
  slug: string;
  name: string;
  vni: number | null;
  vlan: number | null;
}

export const CREATE_FORM_ID = "create-instance-form";

/**
 * The create form, drawn from plain props: the values as typed, the words of each field's
 * problem, the catalog and tenants to choose from, the server's placement (ranked hosts and why)
 * and the tenant's quota. Admins get a tenant choice, a bridge and a host to pin; tenants see
 * their own tenant and network, fixed.
 */
export function CreateInstanceForm({
  values,
  onChange,
  errors,
  images,
  tenants,
  bridges,
  hosts,
  placement,
  placementStale,
  placementError,
  onRetryPlacement,
  placementIncomplete,
  quotaRows,
  quotaRefusal,
  submitError,
  submitting,
  onSubmit,
  onCancel,
}: {
  values: CreateFormValues;
  onChange: (v: CreateFormValues) => void;
  errors: FieldErrors;
  images: ImageOption[] | undefined;
  /** Admins: every tenant; null for a tenant member, whose tenant is fixed. */
  tenants: TenantOption[] | null;
  /** Admins: the bridges of the fleet; null when the viewer may not pick one. */
  bridges: string[] | null;
  /** Admins: hypervisors to pin; null when the viewer may not pin. */
  hosts: string[] | null;
  placement: PlacementView | undefined;
  placementStale?: boolean;
  placementError?: unknown;
  onRetryPlacement?: () => void;
  placementIncomplete?: string | null;
  quotaRows: QuotaRow[] | undefined;
  quotaRefusal: string | null;
  submitError: ErrorInfo | null;
  submitting?: boolean;
  onSubmit: () => void;
  onCancel?: () => void;
}) {
  const set = <K extends keyof CreateFormValues>(key: K, value: CreateFormValues[K]) => onChange({ ...values, [key]: value });
  // Editing a number by hand makes the size custom (or the preset it now matches); the numbers stay as typed.
  const setSize = (key: "vcpus" | "memoryGiB" | "diskGiB", value: string) => onChange(withSizeField(values, key, value));
  const image = images?.find((i) => i.name === values.image);
  const tenant = tenants?.find((t) => t.slug === values.tenant);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit();
  };
  const adding = quotaRows && {
    instances: 1,
    vcpus: Number(values.vcpus) || 0,
    memoryMiB: Math.round((Number(values.memoryGiB) || 0) * 1024),
    diskGiB: Number(values.diskGiB) || 0,
  };
  const blocked = !!quotaRefusal || (!!placement && !placement.chosen && !placementStale);

  return (
    <form id={CREATE_FORM_ID} onSubmit={submit} noValidate className="grid grid-cols-1 items-start gap-4 lg:grid-cols-[minmax(0,1fr)_26rem]" data-testid="create-form">
      <div className="flex min-w-0 flex-col gap-4">
        <Section title="Instance" hint="The name is also the guest's host name.">
          <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
            <Field label="Name" htmlFor="c-name" error={errors.name}>
              <Input id="c-name" value={values.name} onChange={(e) => set("name", e.target.value)} placeholder="acme-web-3" autoComplete="off" spellCheck={false} aria-invalid={!!errors.name || undefined} autoFocus />
            </Field>
            <Field
              label="Image"
              htmlFor="c-image"
              error={errors.image}
              hint={image ? `${image.os}, ${formatBytes(image.virtualSizeBytes)} disk, on ${image.datastore}` : images?.length === 0 ? "No images yet: an admin imports or builds one first." : undefined}
            >
              <Select id="c-image" value={values.image} onChange={(e) => set("image", e.target.value)} aria-invalid={!!errors.image || undefined} disabled={!images}>
                <option value="">{images ? "Choose an image" : "Loading images…"}</option>
                {images?.map((i) => (
                  <option key={i.name} value={i.name}>
                    {i.name} ({i.os})
                  </option>
                ))}
              </Select>
            </Field>
          </div>
        </Section>

        <Section title="Size">
          <div role="radiogroup" aria-label="Size" className="grid grid-cols-2 gap-2 sm:grid-cols-5">
            {[...SIZE_PRESETS, { id: "custom" as const, label: "Custom", vcpus: null, memoryGiB: null, diskGiB: null }].map((p) => {
              const on = values.size === p.id;
              return (
                <label
                  key={p.id}
                  data-testid={`size-${p.id}`}
                  className={cx("flex cursor-pointer flex-col rounded-md border px-3 py-2 text-[12.5px]", on ? "border-accent bg-accent-soft/50" : "border-border hover:border-accent/60")}
                >
                  <input type="radio" name="size" value={p.id} checked={on} onChange={() => onChange(withPreset(values, p.id))} className="sr-only" />
                  <span className={cx("font-medium", on && "text-accent")}>{p.label}</span>
                  {p.vcpus === null ? (
                    <span className="text-[11.5px] text-muted">your own numbers</span>
                  ) : (
                    <span className="text-[11.5px] leading-4 tabular-nums text-muted">
                      {p.vcpus} vCPU · {p.memoryGiB} GiB
                      <br />
                      {p.diskGiB} GiB disk
                    </span>
                  )}
                </label>
              );
            })}
          </div>
          <div className="mt-3 grid grid-cols-3 gap-3">
            <Field label="vCPU" htmlFor="c-vcpus" error={errors.vcpus}>
              <Input id="c-vcpus" inputMode="numeric" value={values.vcpus} onChange={(e) => setSize("vcpus", e.target.value)} aria-invalid={!!errors.vcpus || undefined} />
            </Field>
            <Field label="RAM (GiB)" htmlFor="c-memory" error={errors.memoryGiB}>
              <Input id="c-memory" inputMode="decimal" value={values.memoryGiB} onChange={(e) => setSize("memoryGiB", e.target.value)} aria-invalid={!!errors.memoryGiB || undefined} />
            </Field>
            <Field label="Disk (GiB)" htmlFor="c-disk" error={errors.diskGiB} hint={image ? `at least ${Math.ceil(image.virtualSizeBytes / 1024 ** 3)} GiB for this image` : undefined}>
              <Input id="c-disk" inputMode="numeric" value={values.diskGiB} onChange={(e) => setSize("diskGiB", e.target.value)} aria-invalid={!!errors.diskGiB || undefined} />
            </Field>
          </div>
        </Section>

        <Section title="Tenant and network" hint="The instance joins its tenant's VLAN on the host's bridge, carried between hosts by the tenant's own VXLAN VNI (set by the tenant, not here).">
          <div className="grid grid-cols-2 gap-3 sm:grid-cols-4">
            <div className="col-span-2">
              {tenants ? (
                <Field label="Tenant" htmlFor="c-tenant" error={errors.tenant}>
                  <Select
                    id="c-tenant"
                    value={values.tenant}
                    aria-invalid={!!errors.tenant || undefined}
                    onChange={(e) => {
                      const t = tenants.find((x) => x.slug === e.target.value);
                      onChange({ ...values, tenant: e.target.value, vni: t?.vni?.toString() ?? "", vlan: t?.vlan?.toString() ?? values.vlan });
                    }}
                  >
                    <option value="">Choose a tenant</option>
                    {tenants.map((t) => (
                      <option key={t.slug} value={t.slug}>
                        {t.name === t.slug ? t.slug : `${t.name} (${t.slug})`}
                      </option>
                    ))}
                  </Select>
                </Field>
              ) : (
                <Field label="Tenant" error={errors.tenant}>
                  <p className="flex h-8 items-center font-medium" data-testid="fixed-tenant">
                    {values.tenant}
                  </p>
                </Field>
              )}
            </div>
            {/* Staff set the VLAN (a tenant whose instances give none yet); a member's network is its tenant's, filled in by the server. */}
            <Field label="VLAN" htmlFor={tenants ? "c-vlan" : undefined} error={errors.vlan}>
              {tenants ? (
                <Input id="c-vlan" inputMode="numeric" value={values.vlan} onChange={(e) => set("vlan", e.target.value)} aria-invalid={!!errors.vlan || undefined} />
              ) : (
                <p className="flex h-8 items-center tabular-nums" data-testid="network-vlan">
                  {values.vlan || "—"}
                </p>
              )}
            </Field>
            <Field label="VXLAN VNI" error={errors.vni ?? (tenants && values.tenant && tenant?.vni === null ? "this tenant has no VNI yet" : undefined)}>
              <p className="flex h-8 items-center tabular-nums" data-testid="network-vni">
                {values.vni || "—"}
              </p>
            </Field>
            {bridges && (
              <div className="col-span-2">
                <Field label="Bridge" htmlFor="c-bridge" error={errors.bridge} hint="Automatic: the host's bridge that already carries the VNI, else Open vSwitch first.">
                  <Select id="c-bridge" value={values.bridge} onChange={(e) => set("bridge", e.target.value)}>
                    <option value="">Automatic</option>
                    {bridges.map((b) => (
                      <option key={b} value={b}>
                        {b}
                      </option>
                    ))}
                  </Select>
                </Field>
              </div>
            )}
          </div>
        </Section>

        <Section title="Access and first boot">
          <div className="grid grid-cols-1 gap-3">
            <Field label="SSH public keys" htmlFor="c-keys" error={errors.sshKeys} hint="One per line, as in authorized_keys (ssh-ed25519 AAAA… you@laptop). Written for root.">
              <Textarea id="c-keys" rows={3} value={values.sshKeys} onChange={(e) => set("sshKeys", e.target.value)} spellCheck={false} className="font-mono text-[12px]" aria-invalid={!!errors.sshKeys || undefined} />
            </Field>
            <Field label="First-boot commands" htmlFor="c-firstboot" error={errors.firstBoot} hint="One shell command per line, run once as root when the guest first starts.">
              <Textarea
                id="c-firstboot"
                rows={3}
                value={values.firstBoot}
                onChange={(e) => set("firstBoot", e.target.value)}
                spellCheck={false}
                placeholder="apt-get install -y nginx"
                className="font-mono text-[12px]"
                aria-invalid={!!errors.firstBoot || undefined}
              />
            </Field>
          </div>
        </Section>
      </div>

      <div className="flex min-w-0 flex-col gap-4 lg:sticky lg:top-4">
        <Panel
          title="Placement"
          actions={
            hosts ? (
              <Select aria-label="Host" value={values.host} onChange={(e) => set("host", e.target.value)} className="h-7 text-[12.5px]" data-testid="pin-host">
                <option value="">Automatic</option>
                {hosts.map((h) => (
                  <option key={h} value={h}>
                    Pin to {h}
                  </option>
                ))}
              </Select>
            ) : undefined
          }
        >
          {errors.host && <p className="mb-2 text-[12px] text-crit">{errors.host}</p>}
          <PlacementList placement={placement} stale={placementStale} error={placementError} onRetry={onRetryPlacement} incomplete={placementIncomplete} pinned={values.host || undefined} />
        </Panel>
        <Panel title={values.tenant ? `Quota of ${values.tenant}` : "Quota"}>
          {quotaRows ? (
            <QuotaUsage rows={quotaRows} adding={adding ?? undefined} refusal={quotaRefusal} compact />
          ) : (
            <p className="text-[12.5px] text-muted">{values.tenant ? "Loading…" : "Choose a tenant to see its quota."}</p>
          )}
        </Panel>
        {submitError && (
          <div role="alert" className="rounded-lg border border-crit/40 bg-crit-soft/60 p-3 text-[13px]" data-testid="create-refusal">
            <p className="font-medium text-crit">The instance was not created: {submitError.message}</p>
            {submitError.checks && (
              <div className="mt-2">
                <PreflightList checks={submitError.checks} />
              </div>
            )}
          </div>
        )}
        {errors.form && <p role="alert" className="text-[12.5px] text-crit">{errors.form}</p>}
        <div className="flex justify-end gap-2">
          {onCancel && <Button onClick={onCancel}>Cancel</Button>}
          <Button type="submit" variant="primary" busy={submitting} disabled={blocked} data-testid="create-submit">
            Create instance
          </Button>
        </div>
      </div>
    </form>
  );
}

function Section({ title, hint, children }: { title: string; hint?: ReactNode; children: ReactNode }) {
  return (
    <section className="rounded-lg border border-border bg-panel">
      <div className="border-b border-border px-4 py-2.5">
        <h2 className="text-[13.5px] font-semibold">{title}</h2>
        {hint && <p className="mt-0.5 text-[12px] text-muted">{hint}</p>}
      </div>
      <div className="p-4">{children}</div>
    </section>
  );
}
