"use client";
import { useQuery } from "@tanstack/react-query";
import { PageHeader } from "@/components/ui/panel";
import { ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { useTRPC } from "@/lib/trpc";
import { StorageView } from "./storage-view";

export function StoragePage() {
  const trpc = useTRPC();
  const storage = useQuery(trpc.storage.overview.queryOptions());
  return (
    <>
      <PageHeader title="Storage" description="The clustered NFS pair behind a floating VIP that holds every VM disk." />
      {storage.isPending ? (
        <PanelsSkeleton />
      ) : storage.error ? (
        <ErrorState error={storage.error} onRetry={() => void storage.refetch()} />
      ) : (
        <StorageView storage={storage.data} />
      )}
    </>
  );
}
