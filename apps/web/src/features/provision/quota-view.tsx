import type { QuotaDimension } from "@nimbus/domain";
import { UsageBar } from "@/components/ui/usage-bar";
import { cx } from "@/lib/cx";
import { formatMiB } from "@/lib/format";
import type { QuotaRow } from "./create-values";

const labels: Record<QuotaDimension, string> = { instances: "Instances", vcpus: "vCPU", memoryMiB: "Memory", diskGiB: "Disk" };
const amount: Record<QuotaDimension, (n: number) => string> = {
  instances: (n) => String(n),
  vcpus: (n) => String(n),
  memoryMiB: (n) => formatMiB(n),
  diskGiB: (n) => `${n} GiB`,
};

/** Usage against each limit ("3 of 8 vCPU"), with what a pending request would add, and the refusal when over. */
export function QuotaUsage({
  rows,
  adding,
  refusal,
  compact,
}: {
  rows: readonly QuotaRow[];
  /** What the request being written would add, per dimension. */
  adding?: Partial<Record<QuotaDimension, number>>;
  refusal?: string | null;
  compact?: boolean;
}) {
  return (
    <div className="flex flex-col gap-2" data-testid="quota-usage">
      <dl className={cx("grid gap-x-8 gap-y-1.5 text-[12.5px]", compact ? "grid-cols-1" : "grid-cols-1 md:grid-cols-2")}>
        {rows.map((r) => {
          const add = adding?.[r.dimension] ?? 0;
          const after = r.used + add;
          const over = r.limit !== null && after > r.limit;
          return (
            <div key={r.dimension} data-testid={`quota-${r.dimension}`} data-over={over || undefined} className="grid grid-cols-[4.5rem_minmax(0,1fr)_auto] items-center gap-x-3">
              <dt className="text-muted">{labels[r.dimension]}</dt>
              <dd className={cx("min-w-0 tabular-nums", over && "font-medium text-crit", r.limit === null && "col-span-2")}>
                {amount[r.dimension](r.used)}
                {add > 0 && <span className={over ? "text-crit" : "text-accent"}> +{amount[r.dimension](add)}</span>}
                <span className="text-muted"> of {r.limit === null ? "unlimited" : amount[r.dimension](r.limit)}</span>
              </dd>
              {r.limit !== null && (
                <dd>
                  <UsageBar pct={r.limit === 0 ? 100 : (100 * after) / r.limit} detail={`${labels[r.dimension]}: ${amount[r.dimension](after)} of ${amount[r.dimension](r.limit)}`} width="w-16" />
                </dd>
              )}
            </div>
          );
        })}
      </dl>
      {refusal && (
        <p role="alert" data-testid="quota-refusal" className="rounded-md border border-crit/40 bg-crit-soft/60 px-3 py-2 text-[12.5px] text-crit">
          {refusal.charAt(0).toUpperCase() + refusal.slice(1)}
        </p>
      )}
    </div>
  );
}
