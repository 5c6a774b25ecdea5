import type { ReactNode } from "react";
import { errorInfo } from "@/lib/errors";
import { cx } from "@/lib/cx";
import { Button } from "./button";
import { NoAccess } from "./no-access";

export function Skeleton({ className }: { className?: string }) {
  return <div aria-hidden className={cx("skeleton h-3", className)} />;
}

/** What failed, in the server's words, and a way to try again (not when the role may not: retrying cannot help). */
export function ErrorState({ error, onRetry, compact }: { error: unknown; onRetry?: () => void; compact?: boolean }) {
  const { message, nimbusCode, code } = errorInfo(error);
  if (code === "FORBIDDEN") return <NoAccess compact />;
  return (
    <div role="alert" className={cx("flex flex-col items-start gap-2 rounded-lg border border-crit/40 bg-crit-soft/60 text-[13px]", compact ? "p-3" : "p-4")}>
      <div>
        <span className="font-semibold text-crit">Could not load this. </span>
        <span className="text-fg">{message}</span>
        {(nimbusCode ?? code) && <span className="ml-2 font-mono text-[11px] text-muted">{nimbusCode ?? code}</span>}
      </div>
      {onRetry && (
        <Button size="sm" onClick={onRetry}>
          Retry
        </Button>
      )}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="flex flex-col items-center justify-center gap-1 px-4 py-10 text-center">
      <p className="text-[13.5px] font-medium">{title}</p>
      {children && <div className="text-[12.5px] text-muted">{children}</div>}
    </div>
  );
}

/** Placeholder blocks shaped like a page of panels while the first data loads. */
export function PanelsSkeleton({ count = 3 }: { count?: number }) {
  return (
    <div className="flex flex-col gap-4" aria-busy="true" aria-label="Loading">
      {Array.from({ length: count }, (_, i) => (
        <div key={i} className="rounded-lg border border-border bg-panel p-4">
          <Skeleton className="mb-3 h-4 w-40" />
          <Skeleton className="mb-2 w-full" />
          <Skeleton className="mb-2 w-5/6" />
          <Skeleton className="w-2/3" />
        </div>
      ))}
    </div>
  );
}
