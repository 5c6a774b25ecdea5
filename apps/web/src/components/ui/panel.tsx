import type { ReactNode } from "react";
import { cx } from "@/lib/cx";

export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <header className="mb-4 flex flex-wrap items-end justify-between gap-3">
      <div className="min-w-0">
        <h1 className="text-[19px] font-semibold tracking-tight">{title}</h1>
        {description && <p className="mt-0.5 text-[13px] text-muted">{description}</p>}
      </div>
      {actions && <div className="flex flex-wrap items-center gap-2">{actions}</div>}
    </header>
  );
}

export function Panel({ title, actions, children, className, bodyClass, id }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string; bodyClass?: string; id?: string }) {
  return (
    <section id={id} className={cx("rounded-lg border border-border bg-panel", className)}>
      {(title || actions) && (
        <div className="flex items-center justify-between gap-2 border-b border-border px-4 py-2.5">
          {typeof title === "string" ? <h2 className="text-[13.5px] font-semibold">{title}</h2> : title}
          {actions}
        </div>
      )}
      <div className={bodyClass ?? "p-4"}>{children}</div>
    </section>
  );
}

/** Label/value pairs (facts of a host, figures of a migration). */
export function Facts({ items, columns = 2 }: { items: [string, ReactNode][]; columns?: 1 | 2 | 3 }) {
  return (
    <dl className={cx("grid gap-x-6 gap-y-2 text-[13px]", columns === 1 ? "grid-cols-1" : columns === 2 ? "grid-cols-1 sm:grid-cols-2" : "grid-cols-2 lg:grid-cols-3")}>
      {items.map(([label, value]) => (
        <div key={label} className="flex min-w-0 justify-between gap-3 border-b border-border/60 pb-1.5 sm:block sm:border-0 sm:pb-0">
          <dt className="text-[12px] text-muted">{label}</dt>
          <dd className="min-w-0 truncate text-right tabular-nums sm:text-left">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A big number with what it counts, for the overview and the health summary. */
export function Stat({ label, value, detail, tone }: { label: string; value: ReactNode; detail?: ReactNode; tone?: "crit" | "warn" | "ok" }) {
  return (
    // Full height: a row of stats lines up when one detail wraps to a second line.
    <div className="h-full rounded-lg border border-border bg-panel px-4 py-3">
      <div className="text-[12px] font-medium text-muted">{label}</div>
      <div className={cx("mt-1 text-2xl font-semibold tabular-nums", tone === "crit" ? "text-crit" : tone === "warn" ? "text-warn" : "")}>{value}</div>
      {detail && <div className="mt-0.5 text-[12px] text-muted">{detail}</div>}
    </div>
  );
}
