"use client";
import { useQuery } from "@tanstack/react-query";
import { Panel } from "@/components/ui/panel";
import { ErrorState, Skeleton } from "@/components/ui/states";
import { useTRPC } from "@/lib/trpc";
import { QuotaUsage } from "./quota-view";

/** A tenant's usage against its quota, on the pages its members see. */
export function TenantQuotaPanel({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const quota = useQuery(trpc.tenants.quota.queryOptions({ tenant }));
  return (
    <Panel title={`Quota of ${tenant}`} className="mb-4">
      {quota.error ? (
        <ErrorState error={quota.error} onRetry={() => void quota.refetch()} compact />
      ) : quota.data && !quota.data.custom ? (
        // Self-service starts once an admin has set the tenant's limits.
        <p className="text-[12.5px] text-muted" data-testid="quota-not-set">
          No quota set for {tenant} yet: an admin sets one before its members create instances.
        </p>
      ) : quota.data ? (
        <QuotaUsage rows={quota.data.rows} />
      ) : (
        <Skeleton className="h-10 w-full" />
      )}
    </Panel>
  );
}
