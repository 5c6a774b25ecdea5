"use client";
import type { InstanceView } from "@nimbus/domain";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { errorInfo } from "@/lib/errors";
import { notify } from "@/lib/notify";
import { useCan } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useStartOperation } from "@/lib/use-operation";
import { MIGRATE_FORM_ID, MigrateForm, type MigrationTarget } from "./migrate-form";
import { SwarmNodeNotice } from "./swarm-node-notice";
import { useAction } from "@/lib/use-action";

/**
 * Live migrate one VM: the server's preflight (fresh each time it opens): destinations ranked
 * with every check, the headroom policy, and what the VM runs as a swarm node with a "Drain
 * first" offer; then options and start.
 */
export function MigrateDialog({ instance, onClose }: { instance: InstanceView | null; onClose: () => void }) {
  const trpc = useTRPC();
  const started = useStartOperation();
  const mayDrain = useCan("workload:scale");
  const open = instance !== null;
  const [chosen, setChosen] = useState<MigrationTarget | null>(null);
  const preflight = useQuery({
    ...trpc.instances.preflight.queryOptions({ name: instance?.name ?? "" }),
    enabled: open,
    // Preflight is a snapshot of the fleet: run it again every time the dialog opens.
    staleTime: 0,
    gcTime: 0,
  });
  const migrate = useAction(
    trpc.instances.migrate.mutationOptions({
      onSuccess: (op) => {
        started(op);
        onClose();
      },
    }),
  );
  const drain = useAction(
    trpc.swarm.setAvailability.mutationOptions({
      onSuccess: (_r, v) => {
        notify.ok(`${v.node} drained: its tasks move to other nodes`);
        void preflight.refetch();
      },
      onError: (e, v) => notify.error(e, `Drain ${v.node}`),
    }),
  );
  const close = () => {
    migrate.reset();
    drain.reset();
    onClose();
  };

  const p = preflight.data;
  const swarm = p?.swarm ?? null;
  const notice = p && (
    <>
      {p.busy && (
        <p role="status" className="rounded-lg border border-warn/40 bg-warn-soft p-3 text-[12.5px]">
          <span className="font-medium text-warn">{p.instance} already has an operation running.</span> Wait for it to end before moving it again.
        </p>
      )}
      {swarm && instance && (
        <SwarmNodeNotice
          vm={instance.name}
          swarm={swarm}
          drainButton={
            swarm.drain && mayDrain ? (
              <Button size="sm" busy={drain.isPending} onClick={() => drain.mutate(swarm.drain!.input)} data-testid="drain-first">
                Drain first
              </Button>
            ) : undefined
          }
        />
      )}
    </>
  );

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
          targets={p?.destinations}
          targetsError={preflight.error}
          onRetryTargets={() => void preflight.refetch()}
          submitError={migrate.error ? errorInfo(migrate.error) : null}
          onSubmit={(destination, options) => migrate.mutate({ instance: instance.name, destination, options })}
          onDestinationChange={setChosen}
          policy={p?.policy.description}
          recheckedOnAgents={p?.recheckedOnAgents}
          notice={notice}
        />
      )}
    </Dialog>
  );
}
