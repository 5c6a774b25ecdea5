"use client";
import { deleteConfirmationProblem } from "@nimbus/domain";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { errorInfo } from "@/lib/errors";
import { operationHref } from "@/lib/hrefs";
import { notify, watchOperation } from "@/lib/notify";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { DeleteInstanceForm, type DeleteTarget } from "./delete-form";

/** "Delete…" on an instance: confirm by typing its name, then follow the delete on its operation page. */
export function DeleteInstanceDialog({ instance, showPaths, onClose }: { instance: DeleteTarget | null; showPaths: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [typed, setTyped] = useState("");
  const remove = useAction(
    trpc.instances.delete.mutationOptions({
      onSuccess: (r, v) => {
        watchOperation(r.operationId);
        notify.started({ id: r.operationId, summary: `Delete ${v.name}` });
        close();
        router.push(operationHref(r.operationId));
      },
    }),
  );
  const close = () => {
    remove.reset();
    setTyped("");
    onClose();
  };
  const confirmed = instance !== null && deleteConfirmationProblem(instance.name, typed) === null;
  return (
    <Dialog
      open={instance !== null}
      onOpenChange={(o) => !o && close()}
      testId="delete-dialog"
      title={instance ? `Delete ${instance.name}?` : "Delete"}
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" form="delete-instance-form" variant="danger" disabled={!confirmed} busy={remove.isPending} data-testid="delete-submit">
            Delete instance
          </Button>
        </>
      }
    >
      {instance && (
        <DeleteInstanceForm
          instance={instance}
          showPaths={showPaths}
          typed={typed}
          onTyped={setTyped}
          error={remove.error ? errorInfo(remove.error) : null}
          onSubmit={() => remove.mutate({ name: instance.name, confirm: typed.trim() })}
        />
      )}
    </Dialog>
  );
}
