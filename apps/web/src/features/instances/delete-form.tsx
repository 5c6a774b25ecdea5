import { deleteConfirmationProblem, type InstanceView } from "@nimbus/domain";
import type { FormEvent } from "react";
import { Field, Input } from "@/components/ui/field";
import type { ErrorInfo } from "@/lib/errors";

export type DeleteTarget = Pick<InstanceView, "name" | "host" | "tenant" | "state" | "diskPaths" | "vlans" | "vni" | "bridges">;

/**
 * What a delete removes, in the order it happens (the server's delete plan: force off, undefine,
 * volumes on datastores, the tenant's network on the host when this was its last instance there).
 * `showPaths` is false for tenants, whose views carry no datastore paths.
 */
export function deleteEffects(i: DeleteTarget, showPaths: boolean): string[] {
  const out = [
    i.state === "running" || i.state === "paused" ? `${i.name} is forced off (it is ${i.state}): unsaved data in the guest is lost` : `${i.name} is not running`,
    `its libvirt domain is undefined${showPaths ? ` on ${i.host}` : ""}`,
  ];
  if (!i.diskPaths.length) out.push("it has no disks to remove");
  else if (showPaths) for (const p of i.diskPaths) out.push(`volume ${p} is removed (only volumes on a datastore; other disks are kept and named)`);
  else out.push(`its ${i.diskPaths.length === 1 ? "volume is" : `${i.diskPaths.length} volumes are`} removed`);
  if (i.vni !== null && i.vlans.length)
    out.push(`VNI ${i.vni} (VLAN ${i.vlans.join(", ")}) is released from ${showPaths && i.bridges.length ? i.bridges.join(", ") : "its host"} if no other instance${i.tenant ? ` of ${i.tenant}` : ""} there uses it`);
  return out;
}

/** The dialog itself, from plain props: what goes, and the name typed to confirm. */
export function DeleteInstanceForm({
  instance,
  showPaths,
  typed,
  onTyped,
  onSubmit,
  error,
}: {
  instance: DeleteTarget;
  showPaths: boolean;
  typed: string;
  onTyped: (v: string) => void;
  onSubmit: () => void;
  error: ErrorInfo | null;
}) {
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!deleteConfirmationProblem(instance.name, typed)) onSubmit();
  };
  return (
    <form id="delete-instance-form" onSubmit={submit} className="flex flex-col gap-3 text-[13px]">
      <div>
        <p className="mb-1.5 font-medium">This removes:</p>
        <ul className="flex list-disc flex-col gap-1 pl-5 text-[12.5px]" data-testid="delete-effects">
          {deleteEffects(instance, showPaths).map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
        <p className="mt-2 text-[12.5px] text-muted">It cannot be undone. The delete is an operation: you follow its steps on the next page.</p>
      </div>
      <Field label={`Type ${instance.name} to confirm`} htmlFor="d-confirm">
        <Input id="d-confirm" value={typed} onChange={(e) => onTyped(e.target.value)} autoComplete="off" spellCheck={false} autoFocus data-testid="delete-confirm-input" className="font-mono" />
      </Field>
      {error && (
        <p role="alert" className="rounded-md bg-crit-soft px-3 py-2 text-[12.5px] text-crit" data-testid="delete-refusal">
          Not deleted: {error.message}
        </p>
      )}
    </form>
  );
}

