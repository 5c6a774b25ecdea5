"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { Operation } from "@nimbus/domain";
import { notify, watchOperation } from "./notify";
import { storeOperation } from "./queries";
import { useTRPC } from "./trpc";
import { useAction } from "./use-action";

/**
 * One operation, kept current by the live channel (which patches operations.get). `initial` is
 * what the starting mutation returned, so the row shows "Migrating… 0 %" before any push.
 */
export function useOperation(id: string | null | undefined, initial?: Operation) {
  const trpc = useTRPC();
  return useQuery({
    ...trpc.operations.get.queryOptions({ id: id ?? "" }),
    enabled: !!id,
    initialData: initial && initial.id === id ? initial : undefined,
    // Pushed events keep it fresh; a refetch on focus would only race them.
    staleTime: Infinity,
  });
}

/** After any mutation that returns an Operation: cache it, watch its outcome, say it started. */
export function useStartOperation() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return (op: Operation) => {
    storeOperation(qc, trpc, op);
    watchOperation(op.id);
    notify.started(op);
  };
}

export function useCancelOperation() {
  const trpc = useTRPC();
  return useAction(
    trpc.operations.cancel.mutationOptions({
      onSuccess: () => notify.info("Cancel requested"),
      onError: (e) => notify.error(e, "Cancel failed"),
    }),
  );
}
