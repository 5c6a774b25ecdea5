"use client";
import type { InstanceView } from "@nimbus/domain";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { errorInfo } from "@/lib/errors";
import { useTRPC } from "@/lib/trpc";
import { useStartOperation } from "@/lib/use-operation";
import { MIGRATE_FORM_ID, MigrateForm, type MigrationTarget } from "./migrate-form";

/** Live migrate one VM: preflight per destination (fresh each time it opens), options, start. */
export function MigrateDialog({ instance, onClose }: { instance: InstanceView | null; onClose: () => void }) {
  const trpc = useTRPC();
  const started = useStartOperation();
  const open = instance !== null;
  const [chosen, setChosen] = useState<MigrationTarget | null>(null);
  const targets = useQuery({
    ...trpc.instances.migrationTargets.queryOptions({ name: instance?.name ?? "" }),
    enabled: open,
    // Preflight is a snapshot of the fleet: run it again every time the dialog opens.
    staleTime: 0,
    gcTime: 0,
  });
  const migrate = useMutation(
    trpc.instances.migrate.mutationOptions({
      onSuccess: (op) => {
        started(op);
        onClose();
      },
    }),
  );
  const close = () => {
    migrate.reset();
    onClose();
  };

  return (
    <Dialog
      open={open}
      onOpenChange={(o) => !o && close()}
      wide
      testId="migrate-dialog"
      title={instance ? `Live migrate ${instance.name}` : "Live migrate"}
      description={instance ? `Currently on ${instance.host}. The VM keeps running while its memory is copied; its disk stays on shared storage.` : undefined}
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button
            type="submit"
            form={MIGRATE_FORM_ID}
            variant="primary"
            busy={migrate.isPending}
            disabled={!chosen || chosen.verdict === "fail"}
            data-testid="migrate-start"
          >
            Start migration
          </Button>
        </>
      }
    >
      {instance && (
        <MigrateForm
          key={instance.name}
          instance={instance}
          targets={targets.data}
          targetsError={targets.error}
          onRetryTargets={() => void targets.refetch()}
          submitError={migrate.error ? errorInfo(migrate.error) : null}
          onSubmit={(destination, options) => migrate.mutate({ instance: instance.name, destination, options })}
          onDestinationChange={setChosen}
        />
      )}
    </Dialog>
  );
}
