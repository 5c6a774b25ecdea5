"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { ErrorState, Skeleton } from "@/components/ui/states";
import { UsageBar } from "@/components/ui/usage-bar";
import { errorInfo } from "@/lib/errors";
import { notify } from "@/lib/notify";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { QuotaForm, parseQuota, quotaValuesOf, type QuotaValues } from "./quota-form";

/** A tenants-table cell: instances used of the limit, with the fullest dimension as a bar. */
export function QuotaCell({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.tenants.quota.queryOptions({ tenant }));
  if (!q.data) return <span className="text-faint">—</span>;
  const inst = q.data.rows.find((r) => r.dimension === "instances");
  const fullest = q.data.rows.reduce<number | null>((m, r) => (r.percent === null ? m : Math.max(m ?? 0, r.percent)), null);
  return (
    <span className="inline-flex items-center gap-3" data-testid={`quota-cell-${tenant}`}>
      <span className="tabular-nums">
        {inst?.used ?? 0} / {inst?.limit ?? "∞"}
      </span>
      {fullest !== null && <UsageBar pct={fullest} detail={`${tenant}: fullest quota at ${fullest} %`} width="w-16" />}
    </span>
  );
}

/** Admins set a tenant's quota; the dialog shows its usage beside the limits. */
export function QuotaDialog({ tenant, onClose }: { tenant: string | null; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const current = useQuery({ ...trpc.tenants.quota.queryOptions({ tenant: tenant ?? "" }), enabled: tenant !== null, staleTime: 0 });
  const save = useAction(
    trpc.tenants.setQuota.mutationOptions({
      onSuccess: (_r, v) => {
        notify.ok(`Quota of ${v.tenant} saved`);
        void qc.invalidateQueries({ queryKey: trpc.tenants.quota.pathKey() });
        onClose();
      },
    }),
  );
  return (
    <Dialog
      open={tenant !== null}
      onOpenChange={(o) => !o && (save.reset(), onClose())}
      title={tenant ? `Quota of ${tenant}` : "Quota"}
      description="What the tenant's members may create: instances, vCPU, memory and disk, counted over everything they have defined."
      testId="quota-dialog"
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" form="quota-form" variant="primary" busy={save.isPending} disabled={!current.data} data-testid="save-quota">
            Save quota
          </Button>
        </>
      }
    >
      {current.error ? (
        <ErrorState error={current.error} onRetry={() => void current.refetch()} compact />
      ) : current.data && tenant ? (
        <QuotaEditor
          key={tenant}
          initial={quotaValuesOf(current.data.quota)}
          rows={current.data.rows}
          error={save.error ? errorInfo(save.error).message : null}
          onSave={(quota) => save.mutate({ tenant, quota })}
        />
      ) : (
        <Skeleton className="h-32 w-full" />
      )}
    </Dialog>
  );
}

function QuotaEditor({
  initial,
  rows,
  error,
  onSave,
}: {
  initial: QuotaValues;
  rows: Parameters<typeof QuotaForm>[0]["rows"];
  error: string | null;
  onSave: (q: NonNullable<ReturnType<typeof parseQuota>["quota"]>) => void;
}) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState<ReturnType<typeof parseQuota>["errors"]>(null);
  return (
    <>
      <QuotaForm
        values={values}
        onChange={setValues}
        errors={errors ?? {}}
        rows={rows}
        onSubmit={() => {
          const parsed = parseQuota(values);
          setErrors(parsed.errors);
          if (parsed.quota) onSave(parsed.quota);
        }}
      />
      {error && (
        <p role="alert" className="mt-3 rounded-md bg-crit-soft px-3 py-2 text-[13px] text-crit">
          {error}
        </p>
      )}
    </>
  );
}
