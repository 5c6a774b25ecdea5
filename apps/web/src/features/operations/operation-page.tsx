"use client";
import type { Operation } from "@nimbus/domain";
import Link from "next/link";
import { PageHeader } from "@/components/ui/panel";
import { ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { useNow } from "@/lib/clock";
import { useCan } from "@/lib/session";
import { useOperation } from "@/lib/use-operation";
import { useOperationCancel } from "./live-operation";
import { OperationDetail } from "./operation-detail";

/**
 * One operation's own page. The live channel patches operations.get as the agent reports steps,
 * log lines and progress: nothing here polls.
 */
export function OperationPage({ id }: { id: string }) {
  const op = useOperation(id);
  return (
    <>
      <PageHeader
        title={op.data ? op.data.summary : "Operation"}
        description={
          <span className="inline-flex items-center gap-2">
            <Link href="/operations" className="hover:text-accent">
              Operations
            </Link>
            <span aria-hidden>/</span>
            <span>{op.data ? `${op.data.kind} of ${op.data.target.name}` : id}</span>
          </span>
        }
      />
      {op.isPending ? <PanelsSkeleton count={2} /> : op.error ? <ErrorState error={op.error} onRetry={() => void op.refetch()} /> : <LiveDetail op={op.data!} />}
    </>
  );
}

function LiveDetail({ op }: { op: Operation }) {
  const now = useNow();
  const staff = useCan("read:fleet");
  const cancel = useOperationCancel(op);
  return <OperationDetail op={op} now={now} showHost={staff} showSummary={false} {...cancel} />;
}
