"use client";
import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { PageHeader } from "@/components/ui/panel";
import { ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { LiveOperation } from "@/features/operations/live-operation";
import { RECENT_OPERATIONS } from "@/lib/queries";
import { useCan } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { OverviewView } from "./overview-view";
import { RecentOperations } from "./recent-operations";

export function OverviewPage() {
  const trpc = useTRPC();
  const staff = useCan("read:fleet");
  const router = useRouter();
  const counts = useQuery({ ...trpc.overview.get.queryOptions(), enabled: staff });
  const ops = useQuery(trpc.operations.list.queryOptions(RECENT_OPERATIONS));

  // Tenant members have no fleet overview; their home is their instances.
  useEffect(() => {
    if (!staff) router.replace("/instances");
  }, [staff, router]);
  if (!staff) return null;

  return (
    <>
      <PageHeader title="Overview" description="The whole cloud at a glance. Everything on this page updates live." />
      {counts.isPending ? (
        <PanelsSkeleton count={2} />
      ) : counts.error ? (
        <ErrorState error={counts.error} onRetry={() => void counts.refetch()} />
      ) : (
        <OverviewView
          counts={counts.data}
          operations={
            ops.error ? (
              <ErrorState error={ops.error} onRetry={() => void ops.refetch()} compact />
            ) : (
              <RecentOperations operations={(ops.data ?? []).slice(0, 6)} live={(op) => <LiveOperation initial={op} compact />} />
            )
          }
        />
      )}
    </>
  );
}
