import { Quota, type QuotaDimension } from "@nimbus/domain";
import type { FormEvent } from "react";
import { Field, Input } from "@/components/ui/field";
import { QuotaUsage } from "@/features/provision/quota-view";
import type { QuotaRow } from "@/features/provision/create-values";
import { issueText } from "@/lib/errors";

export type QuotaValues = Record<QuotaDimension, string>;

const fields: { key: QuotaDimension; label: string; unit: string }[] = [
  { key: "instances", label: "Instances", unit: "" },
  { key: "vcpus", label: "vCPU", unit: "" },
  { key: "memoryMiB", label: "Memory", unit: "GiB" },
  { key: "diskGiB", label: "Disk", unit: "GiB" },
];

/** The form shows memory in GiB; the quota counts MiB. Empty means unlimited. */
export const quotaValuesOf = (q: Quota): QuotaValues => ({
  instances: q.instances?.toString() ?? "",
  vcpus: q.vcpus?.toString() ?? "",
  memoryMiB: q.memoryMiB === null ? "" : String(q.memoryMiB / 1024),
  diskGiB: q.diskGiB?.toString() ?? "",
});

export function parseQuota(v: QuotaValues): { quota: Quota; errors: null } | { quota: null; errors: Partial<Record<QuotaDimension, string>> } {
  const n = (s: string, scale = 1) => (s.trim() === "" ? null : Number.isFinite(Number(s)) ? Math.round(Number(s) * scale) : s);
  const parsed = Quota.safeParse({ instances: n(v.instances), vcpus: n(v.vcpus), memoryMiB: n(v.memoryMiB, 1024), diskGiB: n(v.diskGiB) });
  if (parsed.success) return { quota: parsed.data, errors: null };
  const errors: Partial<Record<QuotaDimension, string>> = {};
  for (const i of parsed.error.issues) {
    const key = i.path[0] as QuotaDimension;
    errors[key] ??= issueText(i).replace(/memory \(MiB\)/, "memory").replace(/(\d+)$/, (m) => (key === "memoryMiB" ? `${Number(m) / 1024} GiB` : m));
  }
  return { quota: null, errors };
}

/** A tenant's quota: what it uses now, and a limit per dimension (empty: unlimited). */
export function QuotaForm({
  values,
  onChange,
  errors,
  rows,
  onSubmit,
}: {
  values: QuotaValues;
  onChange: (v: QuotaValues) => void;
  errors: Partial<Record<QuotaDimension, string>>;
  rows: QuotaRow[] | undefined;
  onSubmit: () => void;
}) {
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit();
  };
  return (
    <form id="quota-form" onSubmit={submit} className="flex flex-col gap-4" noValidate>
      {rows && (
        <div>
          <p className="mb-1.5 text-[12.5px] font-medium">In use now</p>
          <QuotaUsage rows={rows} compact />
        </div>
      )}
      <div className="grid grid-cols-2 gap-3">
        {fields.map((f) => (
          <Field key={f.key} label={f.unit ? `${f.label} (${f.unit})` : f.label} htmlFor={`q-${f.key}`} error={errors[f.key]}>
            <Input
              id={`q-${f.key}`}
              inputMode="numeric"
              placeholder="unlimited"
              value={values[f.key]}
              onChange={(e) => onChange({ ...values, [f.key]: e.target.value })}
              data-testid={`quota-input-${f.key}`}
            />
          </Field>
        ))}
      </div>
      <p className="text-[12px] text-muted">Empty means unlimited. A lower limit than what is in use stops new creates; nothing running is touched.</p>
    </form>
  );
}
