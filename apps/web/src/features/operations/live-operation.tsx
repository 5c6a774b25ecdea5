"use client";
import { canCancelOperation, swarmCancelMeaning, type Operation } from "@nimbus/domain";

import { notify } from "@/lib/notify";
import { useCan, useSession } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useCancelOperation, useOperation } from "@/lib/use-operation";
import { OperationProgress } from "./operation-progress";
import { useAction } from "@/lib/use-action";

const running = (op: Operation) => op.state === "running" || op.state === "pending";

/** Whether the underlying tool can still stop: a disk move past its switch-over cannot go back. */
function cancellable(op: Operation): boolean {
  if (!running(op)) return false;
  if (op.kind === "storage-move") return op.progress?.kind !== "storage-move" || ["preparing", "copying", "verifying"].includes(op.progress.phase);
  // A create cleans up what it made; a delete, once started, finishes (a half-deleted instance helps no one).
  // The swarm's operations stop as docker can (domain SWARM_CANCEL_MEANING says how, beside the button).
  return op.kind === "migrate" || op.kind === "scale" || op.kind === "maintenance" || op.kind === "create" || op.kind === "image-build" || op.kind === "image-import" || swarmCancelMeaning(op.kind) !== null;
}

const permissionFor = (op: Operation) =>
  op.kind === "scale" ? "workload:scale" : op.kind === "maintenance" ? "host:maintenance" : op.kind === "image-build" || op.kind === "image-import" ? "images:manage" : "workload:migrate";

/** Cancel (or Abort, for an evacuation) of one operation, when this viewer may and the work can still stop. */
export function useOperationCancel(op: Operation): { onCancel?: () => void; cancelling: boolean; cancelLabel: string; cancelHint: string | null } {
  const trpc = useTRPC();
  const cancel = useCancelOperation();
  const abort = useAction(
    trpc.maintenance.abort.mutationOptions({
      onSuccess: () => notify.info(`Aborting the evacuation of ${op.target.name}: migrations in flight are cancelled`),
      onError: (e) => notify.error(e, "Abort failed"),
    }),
  );
  const session = useSession();
  // A tenant member cancels its own tenant's creates, stacks and service updates (domain's canCancelOperation, as the server does).
  const mayCancel = useCan(permissionFor(op)) || (!!session && session.user.role === "tenant" && canCancelOperation(session.user, op));
  const evacuation = op.kind === "maintenance";
  return {
    cancelling: evacuation ? abort.isPending : cancel.isPending,
    cancelLabel: evacuation ? "Abort" : "Cancel",
    cancelHint: swarmCancelMeaning(op.kind),
    onCancel: mayCancel && cancellable(op) ? () => (evacuation ? abort.mutate({ id: op.id }) : cancel.mutate({ id: op.id })) : undefined,
  };
}

/** An operation as it moves: the cache entry the live channel patches, drawn by OperationProgress. */
export function LiveOperation({ initial, compact }: { initial: Operation; compact?: boolean }) {
  const { data } = useOperation(initial.id, initial);
  const op = data ?? initial;
  const cancel = useOperationCancel(op);
  return <OperationProgress op={op} compact={compact} {...cancel} />;
}

/** The same, for a row that knows only the operation's id (a moves history line). */
export function LiveOperationById({ id, compact }: { id: string; compact?: boolean }) {
  const { data } = useOperation(id);
  return data ? <LiveOperation initial={data} compact={compact} /> : null;
}
