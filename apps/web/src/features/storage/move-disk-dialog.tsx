"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import type { DiskMoveTarget } from "@/lib/api-types";
import { errorInfo } from "@/lib/errors";
import { useTRPC } from "@/lib/trpc";
import { useStartOperation } from "@/lib/use-operation";
import { MOVE_DISK_FORM_ID, MoveDiskForm } from "./move-disk-form";
import { useAction } from "@/lib/use-action";

export interface DiskToMove {
  instance: string;
  disk: string;
  /** Proposed by a capacity suggestion. */
  datastore?: string;
}

/** Move one disk of a VM to another datastore: checks per datastore (fresh each time), bandwidth, start. */
export function MoveDiskDialog({ disk, onClose }: { disk: DiskToMove | null; onClose: () => void }) {
  const trpc = useTRPC();
  const started = useStartOperation();
  const [chosen, setChosen] = useState<DiskMoveTarget | null>(null);
  const targets = useQuery({
    ...trpc.datastores.moveTargets.queryOptions({ instance: disk?.instance ?? "", disk: disk?.disk ?? "vda" }),
    enabled: disk !== null,
    staleTime: 0,
    gcTime: 0,
  });
  const move = useAction(
    trpc.datastores.moveDisk.mutationOptions({
      onSuccess: (op) => {
        started(op);
        onClose();
      },
    }),
  );
  const close = () => {
    move.reset();
    onClose();
  };
  return (
    <Dialog
      open={disk !== null}
      onOpenChange={(o) => !o && close()}
      wide
      testId="move-disk-dialog"
      title={disk ? `Move disk ${disk.disk} of ${disk.instance}` : "Move disk"}
      description="Storage migration: the disk is copied to another datastore, verified, and the VM switched to the copy."
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button
            type="submit"
            form={MOVE_DISK_FORM_ID}
            variant="primary"
            busy={move.isPending}
            disabled={!chosen || chosen.verdict === "fail"}
            data-testid="move-disk-start"
          >
            Start disk move
          </Button>
        </>
      }
    >
      {disk && (
        <MoveDiskForm
          key={`${disk.instance}/${disk.disk}`}
          instance={disk.instance}
          disk={disk.disk}
          suggested={disk.datastore}
          targets={targets.data}
          targetsError={targets.error}
          onRetryTargets={() => void targets.refetch()}
          submitError={move.error ? errorInfo(move.error) : null}
          onSubmit={(request) => move.mutate(request)}
          onTargetChange={setChosen}
        />
      )}
    </Dialog>
  );
}
