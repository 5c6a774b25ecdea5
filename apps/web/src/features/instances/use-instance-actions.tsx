"use client";
import type { InstanceView } from "@nimbus/domain";
import { useState, type ReactNode } from "react";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { notify } from "@/lib/notify";
import { useCan, useMayPower, useMayProvision } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { DeleteInstanceDialog } from "./delete-dialog";
import { MigrateDialog } from "./migrate-dialog";
import type { InstanceActions, PowerAction } from "./instances-table";

const powerWords: Record<PowerAction, string> = { start: "Start", shutdown: "Shutdown", reboot: "Reboot", destroy: "Force off" };

/** What each power action that interrupts a running VM asks before it acts. Starting asks nothing. */
const confirmations: Record<Exclude<PowerAction, "start">, { title: (name: string) => string; label: string; danger?: boolean; body: (name: string) => string }> = {
  shutdown: {
    title: (n) => `Shut down ${n}?`,
    label: "Shut down",
    body: (n) => `${n}'s operating system is asked to shut down cleanly; what it serves stops until someone starts it again.`,
  },
  reboot: {
    title: (n) => `Reboot ${n}?`,
    label: "Reboot",
    body: (n) => `${n}'s operating system is asked to restart; what it serves is down until it is back up, usually under a minute.`,
  },
  destroy: {
    title: (n) => `Force off ${n}?`,
    label: "Force off",
    danger: true,
    body: (n) => `This cuts the power of ${n} at once, like pulling the plug: unsaved data in the VM is lost. Use Shut down for a clean stop.`,
  },
};

/**
 * The actions on an instance that this viewer may take, and the dialogs they open. Used by the
 * list and the detail page alike, so both behave the same.
 */
export function useInstanceActions(): { actions: InstanceActions; dialogs: ReactNode } {
  const trpc = useTRPC();
  const mayMigrate = useCan("workload:migrate");
  const mayPower = useMayPower();
  const mayDelete = useMayProvision();
  const staff = useCan("read:fleet");
  const [migrating, setMigrating] = useState<InstanceView | null>(null);
  const [deleting, setDeleting] = useState<InstanceView | null>(null);
  const [confirming, setConfirming] = useState<{ instance: InstanceView; action: Exclude<PowerAction, "start"> } | null>(null);
  const power = useAction(
    trpc.instances.power.mutationOptions({
      onSuccess: (_r, v) => {
        notify.ok(`${powerWords[v.action]} sent to ${v.name}`);
        setConfirming(null);
      },
      onError: (e, v) => notify.error(e, `${powerWords[v.action]} ${v.name}`),
    }),
  );

  const actions: InstanceActions = {
    migrate: mayMigrate ? setMigrating : undefined,
    remove: mayDelete ? setDeleting : undefined,
    power: mayPower ? (instance, action) => (action === "start" ? power.mutate({ name: instance.name, action }) : setConfirming({ instance, action })) : undefined,
  };

  const asked = confirming && confirmations[confirming.action];
  const name = confirming?.instance.name ?? "";
  const dialogs = (
    <>
      <MigrateDialog instance={migrating} onClose={() => setMigrating(null)} />
      <DeleteInstanceDialog instance={deleting} showPaths={staff} onClose={() => setDeleting(null)} />
      <ConfirmDialog
        open={confirming !== null}
        title={asked?.title(name) ?? ""}
        confirmLabel={asked?.label ?? ""}
        danger={asked?.danger}
        busy={power.isPending}
        onCancel={() => setConfirming(null)}
        onConfirm={() => confirming && power.mutate({ name, action: confirming.action })}
      >
        {asked?.body(name)}
      </ConfirmDialog>
    </>
  );
  return { actions, dialogs };
}
