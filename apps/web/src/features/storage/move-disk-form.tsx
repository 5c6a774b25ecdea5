"use client";
import { MoveDiskRequest } from "@nimbus/domain";
import { useEffect, useState, type FormEvent } from "react";
import { Field, Input } from "@/components/ui/field";
import { Refusal } from "@/features/preflight/refusal";
import { TargetOptions } from "@/features/preflight/target-options";
import type { DiskMoveTarget } from "@/lib/api-types";
import { issueText, type ErrorInfo } from "@/lib/errors";
import { formatBytes, formatPct } from "@/lib/format";

export const MOVE_DISK_FORM_ID = "move-disk-form";

/** Storage moves compete with every VM on both datastores: a limit is the default. */
export const DEFAULT_DISK_BANDWIDTH_MIBPS = 100;

/**
 * Choose the datastore a disk moves to (ranked by the server's checks) and the bandwidth limit.
 * Validated with the domain's MoveDiskRequest before anything is sent.
 */
export function MoveDiskForm({
  instance,
  disk,
  suggested,
  targets: all,
  targetsError,
  onRetryTargets,
  onSubmit,
  submitError,
  onTargetChange,
}: {
  instance: string;
  disk: string;
  /** The datastore a capacity suggestion proposed, chosen first when usable. */
  suggested?: string;
  targets: DiskMoveTarget[] | undefined;
  targetsError?: unknown;
  onRetryTargets?: () => void;
  onSubmit: (request: MoveDiskRequest) => void;
  submitError?: ErrorInfo | null;
  onTargetChange?: (target: DiskMoveTarget | null) => void;
}) {
  // The datastore the disk is on now is no destination: it is named in the sentence above instead.
  const targets = all?.filter((t) => t.fromDatastore === null || t.datastore !== t.fromDatastore);
  const preferred = targets?.find((t) => t.datastore === suggested && t.verdict !== "fail") ?? targets?.find((t) => t.verdict !== "fail");
  const [datastore, setDatastore] = useState(preferred?.datastore ?? "");
  const [bandwidth, setBandwidth] = useState(String(DEFAULT_DISK_BANDWIDTH_MIBPS));
  const [fieldError, setFieldError] = useState<string | null>(null);
  useEffect(() => {
    if (!datastore && preferred) setDatastore(preferred.datastore);
  }, [datastore, preferred]);
  const chosen = targets?.find((t) => t.datastore === datastore) ?? null;
  useEffect(() => onTargetChange?.(chosen), [chosen, onTargetChange]);
  const source = all?.[0];

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const text = bandwidth.trim();
    if (text && !/^\d+$/.test(text)) return setFieldError("a whole number of MiB/s, or empty for no limit");
    const parsed = MoveDiskRequest.safeParse({ instance, disk, datastore, bandwidthMiBps: text ? Number(text) : null });
    if (!parsed.success) return setFieldError(parsed.error.issues[0] ? issueText(parsed.error.issues[0]) : "not valid");
    setFieldError(null);
    if (chosen && chosen.verdict !== "fail") onSubmit(parsed.data);
  };

  return (
    <form id={MOVE_DISK_FORM_ID} onSubmit={submit} className="flex flex-col gap-5" data-testid="move-disk-form">
      {source && (
        <p className="text-[12.5px] text-muted">
          <span className="font-mono text-fg">{source.sourcePath ?? disk}</span>
          {source.fromDatastore ? ` on ${source.fromDatastore}` : ""}; copies up to {formatBytes(source.sizeBytes)} (its virtual size).{" "}
          {source.mode === "live"
            ? "The VM keeps running: its writes are mirrored to the copy until the switch-over."
            : "The VM is off: the file is copied, then compared with the original."}{" "}
          The old file is deleted only after the copy is verified and the VM uses the new one.
        </p>
      )}
      <fieldset>
        <legend className="mb-2 text-[12.5px] font-medium">
          Destination datastore <span className="font-normal text-muted">— ranked by fit</span>
        </legend>
        <TargetOptions
          name="datastore"
          label="Destination datastore"
          testIdPrefix="disk-target-"
          value={datastore}
          onChange={setDatastore}
          error={targetsError}
          onRetry={onRetryTargets}
          emptyText="No other datastore is reported."
          options={targets?.map((t) => ({
            value: t.datastore,
            verdict: t.verdict,
            detail: `${formatPct(t.usedPct)} used · ${formatBytes(t.freeBytes)} free`,
            note: t.destinationPath ? (
              <>
                {t.mode === "live" ? "live block copy" : "offline copy"} to <span className="font-mono">{t.destinationPath}</span>
              </>
            ) : undefined,
            checks: t.checks,
          }))}
        />
      </fieldset>
      <Field
        label="Bandwidth limit (MiB/s)"
        htmlFor="move-bw"
        error={fieldError}
        hint={bandwidth.trim() ? "The copy never reads or writes faster than this, so the VMs on both datastores keep their I/O." : "No limit: the copy takes what the storage network gives and slows every VM on both datastores."}
      >
        <Input id="move-bw" inputMode="numeric" placeholder="unlimited" value={bandwidth} onChange={(e) => setBandwidth(e.target.value)} className="sm:w-40" data-testid="move-bandwidth" />
      </Field>
      {submitError && <Refusal what="The disk move" error={submitError} testId="move-disk-error" />}
    </form>
  );
}
