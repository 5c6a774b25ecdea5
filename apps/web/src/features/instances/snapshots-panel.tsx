"use client";
import { SnapshotDescription, SnapshotName, can, type Snapshot } from "@nimbus/domain";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/field";
import { Panel } from "@/components/ui/panel";
import { ErrorState, Skeleton } from "@/components/ui/states";
import { errorInfo } from "@/lib/errors";
import { notify } from "@/lib/notify";
import { useSession } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { SnapshotList } from "./snapshot-list";

/** Staff with workload:power, and tenant members (they only ever see their own instances); the server checks again. */
function useMaySnapshot(): boolean {
  const session = useSession();
  return !!session && (can(session.user, "workload:power") || session.user.role === "tenant");
}

/**
 * The instance page's Snapshots panel: list, take (name + description), revert and delete, each
 * confirmed. The list comes from the pushed inventory (no host request per view); a mutation's
 * answer waits until the host's push shows it, so the panel is current when the toast appears.
 */
export function SnapshotsPanel({ instance, running }: { instance: string; running: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const mayAct = useMaySnapshot();
  // The instance page's own query (one cache entry): its domain carries the snapshots its host pushes,
  // and it is read again when the pushed row says they changed. Only an agent that does not report
  // them is asked for the list.
  const detail = useQuery(trpc.instances.get.queryOptions({ name: instance }));
  const pushed = detail.data?.domain.snapshots;
  const asked = useQuery({ ...trpc.instances.snapshots.queryOptions({ instance }), enabled: detail.isSuccess && !pushed });
  const list = pushed
    ? { isPending: false as const, error: null, data: { allowed: pushed.allowed, snapshots: pushed.items }, refetch: detail.refetch }
    : detail.isPending
      ? { isPending: true as const, error: null, data: undefined, refetch: detail.refetch }
      : detail.error
        ? { isPending: false as const, error: detail.error, data: undefined, refetch: detail.refetch }
        : asked;
  // From memory either way: the server answered the mutation once the host's push showed it.
  const refresh = () => qc.invalidateQueries({ queryKey: pushed ? trpc.instances.get.queryKey({ name: instance }) : trpc.instances.snapshots.queryKey({ instance }) });
  const [taking, setTaking] = useState(false);
  const [reverting, setReverting] = useState<Snapshot | null>(null);
  const [deleting, setDeleting] = useState<Snapshot | null>(null);

  const create = useAction(
    trpc.instances.snapshotCreate.mutationOptions({
      onSuccess: (s) => {
        notify.ok(`Snapshot ${s.name} of ${instance} taken`);
        setTaking(false);
        void refresh();
      },
    }),
  );
  const revert = useAction(
    trpc.instances.snapshotRevert.mutationOptions({
      onSuccess: (_r, v) => {
        notify.ok(`${instance} reverted to ${v.name}`);
        setReverting(null);
        void refresh();
      },
      onError: (e, v) => notify.error(e, `Revert ${instance} to ${v.name}`),
    }),
  );
  const remove = useAction(
    trpc.instances.snapshotDelete.mutationOptions({
      onSuccess: (_r, v) => {
        notify.ok(`Snapshot ${v.name} deleted`);
        setDeleting(null);
        void refresh();
      },
      onError: (e, v) => notify.error(e, `Delete snapshot ${v.name}`),
    }),
  );

  const allowed = list.data?.allowed;
  return (
    <Panel
      title="Snapshots"
      bodyClass="p-0"
      actions={
        mayAct && (
          <Button size="sm" disabled={!allowed?.ok} title={allowed && !allowed.ok ? allowed.reason : undefined} onClick={() => setTaking(true)} data-testid="take-snapshot">
            Take snapshot…
          </Button>
        )
      }
    >
      {list.isPending ? (
        <div className="p-3">
          <Skeleton className="h-16" />
        </div>
      ) : list.error ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} compact />
      ) : (
        <SnapshotList
          data={list.data}
          onRevert={mayAct ? setReverting : undefined}
          onDelete={mayAct ? setDeleting : undefined}
          sending={(s) => revert.isSending({ instance, name: s.name })}
        />
      )}
      {/* Mounted while open: each opening starts from an empty form. */}
      {taking && (
        <TakeSnapshotDialog
          open
          instance={instance}
          busy={create.isPending}
          error={create.error}
          onCancel={() => {
            setTaking(false);
            create.reset();
          }}
          onSubmit={(name, description) => create.mutate({ instance, name, description })}
        />
      )}
      <ConfirmDialog
        open={reverting !== null}
        title={`Revert ${instance} to ${reverting?.name ?? ""}?`}
        confirmLabel="Revert"
        danger={running}
        busy={revert.isPending}
        onCancel={() => setReverting(null)}
        onConfirm={() => reverting && revert.mutate({ instance, name: reverting.name })}
      >
        {running
          ? `${instance} is running: it goes back to the moment of the snapshot, and everything it did since (files, memory, open connections) is lost.`
          : `${instance}'s disks go back to the moment of the snapshot; changes since are lost.`}
        {reverting && reverting.state === "running" ? " The snapshot was taken while it ran, so it runs afterwards." : " The snapshot was taken while it was off, so it is off afterwards."}
      </ConfirmDialog>
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete snapshot ${deleting?.name ?? ""}?`}
        confirmLabel="Delete snapshot"
        danger
        busy={remove.isPending}
        onCancel={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate({ instance, name: deleting.name })}
      >
        {`You can no longer revert ${instance} to it. The instance itself is not changed.`}
      </ConfirmDialog>
    </Panel>
  );
}

/** Name (an identifier, checked as the server will) and an optional one-line description. */
function TakeSnapshotDialog({
  open,
  instance,
  busy,
  error,
  onCancel,
  onSubmit,
}: {
  open: boolean;
  instance: string;
  busy: boolean;
  error: unknown;
  onCancel: () => void;
  onSubmit: (name: string, description: string) => void;
}) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const nameProblem = name && !SnapshotName.safeParse(name).success ? "letters, digits, '.', '_' and '-', starting with a letter or digit" : null;
  const descriptionProblem = SnapshotDescription.safeParse(description).error?.issues[0]?.message ?? null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name && !nameProblem && !descriptionProblem) onSubmit(name, description);
  };
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => !o && onCancel()}
      title={`Take a snapshot of ${instance}`}
      description="Disks and, when it runs, memory are saved inside its qcow2 files."
      testId="take-snapshot-dialog"
      footer={
        <>
          <Button onClick={onCancel}>Cancel</Button>
          <Button variant="primary" type="submit" form="take-snapshot-form" busy={busy} disabled={!name || !!nameProblem || !!descriptionProblem} data-testid="take-snapshot-submit">
            Take snapshot
          </Button>
        </>
      }
    >
      <form id="take-snapshot-form" onSubmit={submit} className="flex flex-col gap-3 text-[13px]">
        <Field label="Name" htmlFor="snap-name" error={nameProblem}>
          <Input id="snap-name" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" spellCheck={false} autoFocus className="font-mono" data-testid="snapshot-name" />
        </Field>
        <Field label="Description (optional)" htmlFor="snap-description" error={descriptionProblem}>
          <Input id="snap-description" value={description} onChange={(e) => setDescription(e.target.value)} autoComplete="off" data-testid="snapshot-description" />
        </Field>
        {error != null && (
          <p role="alert" className="rounded-md bg-crit-soft px-3 py-2 text-[12.5px] text-crit" data-testid="snapshot-refusal">
            Not taken: {errorInfo(error).message}
          </p>
        )}
      </form>
    </Dialog>
  );
}
