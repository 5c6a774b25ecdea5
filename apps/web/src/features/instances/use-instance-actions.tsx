"use client";
import type { InstanceView } from "@nimbus/domain";

import { useState, type ReactNode } from "react";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { notify } from "@/lib/notify";
import { useCan, useMayPower } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { MigrateDialog } from "./migrate-dialog";
import type { InstanceActions, PowerAction } from "./instances-table";
import { useAction } from "@/lib/use-action";

const powerWords: Record<PowerAction, string> = { start: "Start", shutdown: "Shutdown", reboot: "Reboot", destroy: "Force off" };

/**
 * The actions on an instance that this viewer may take, and the dialogs they open. Used by the
 * list and the detail page alike, so both behave the same.
 */
export function useInstanceActions(): { actions: InstanceActions; dialogs: ReactNode } {
  const trpc = useTRPC();
  const mayMigrate = useCan("workload:migrate");
  const mayPower = useMayPower();
  const [migrating, setMigrating] = useState<InstanceView | null>(null);
  const [destroying, setDestroying] = useState<InstanceView | null>(null);
  const power = useAction(
    trpc.instances.power.mutationOptions({
      onSuccess: (_r, v) => {
        notify.ok(`${powerWords[v.action]} sent to ${v.name}`);
        setDestroying(null);
      },
      onError: (e, v) => notify.error(e, `${powerWords[v.action]} ${v.name}`),
    }),
  );

  const actions: InstanceActions = {
    migrate: mayMigrate ? setMigrating : undefined,
    power: mayPower ? (i, action) => (action === "destroy" ? setDestroying(i) : power.mutate({ name: i.name, action })) : undefined,
  };

  const dialogs = (
    <>
      <MigrateDialog instance={migrating} onClose={() => setMigrating(null)} />
      <ConfirmDialog
        open={destroying !== null}
        title={`Force off ${destroying?.name ?? ""}?`}
        confirmLabel="Force off"
        danger
        busy={power.isPending}
        onCancel={() => setDestroying(null)}
        onConfirm={() => destroying && power.mutate({ name: destroying.name, action: "destroy" })}
      >
        This cuts the power of {destroying?.name} at once, like pulling the plug: unsaved data in the VM is lost. Use Shut down for a clean stop.
      </ConfirmDialog>
    </>
  );
  return { actions, dialogs };
}
