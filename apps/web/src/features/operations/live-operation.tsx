"use client";
import type { Operation } from "@nimbus/domain";
import { useCan } from "@/lib/session";
import { useCancelOperation, useOperation } from "@/lib/use-operation";
import { OperationProgress } from "./operation-progress";

const cancellable = (op: Operation) => (op.kind === "migrate" || op.kind === "scale") && (op.state === "running" || op.state === "pending");

/** An operation as it moves: the cache entry the live channel patches, drawn by OperationProgress. */
export function LiveOperation({ initial, compact }: { initial: Operation; compact?: boolean }) {
  const { data } = useOperation(initial.id, initial);
  const op = data ?? initial;
  const cancel = useCancelOperation();
  const mayCancel = useCan(op.kind === "scale" ? "workload:scale" : "workload:migrate");
  return (
    <OperationProgress
      op={op}
      compact={compact}
      cancelling={cancel.isPending}
      onCancel={mayCancel && cancellable(op) ? () => cancel.mutate({ id: op.id }) : undefined}
    />
  );
}
