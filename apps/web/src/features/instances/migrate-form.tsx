"use client";
import { MigrateOptions, type InstanceView, type PreflightCheck } from "@nimbus/domain";
import { useEffect, useState, type FormEvent } from "react";
import { Checkbox, Field, Input } from "@/components/ui/field";
import { StatusBadge } from "@/components/ui/status-badge";
import { ErrorState, Skeleton } from "@/components/ui/states";
import { cx } from "@/lib/cx";
import type { ErrorInfo } from "@/lib/errors";
import { formatMiB } from "@/lib/format";
import { PreflightList } from "./preflight-list";

export interface MigrationTarget {
  host: string;
  verdict: "pass" | "warn" | "fail";
  freeMemoryMiB: number;
  checks: PreflightCheck[];
}

const verdictStatus = {
  pass: { tone: "ok", label: "Ready" },
  warn: { tone: "warn", label: "Ready, with warnings" },
  fail: { tone: "crit", label: "Blocked" },
} as const;

export const MIGRATE_FORM_ID = "migrate-form";

/** "" means "no limit"; anything else must be a whole positive number. */
function parseOptional(text: string): number | null | "invalid" {
  if (!text.trim()) return null;
  return /^\d+$/.test(text.trim()) && Number(text) > 0 ? Number(text) : "invalid";
}

/**
 * Choose a destination (ranked by the server's preflight, failures explained) and the copy
 * options. Validated with the domain's own MigrateOptions schema before anything is sent.
 */
export function MigrateForm({
  instance,
  targets,
  targetsError,
  onRetryTargets,
  onSubmit,
  submitError,
  onDestinationChange,
}: {
  instance: InstanceView;
  targets: MigrationTarget[] | undefined;
  targetsError?: unknown;
  onRetryTargets?: () => void;
  onSubmit: (destination: string, options: MigrateOptions) => void;
  submitError?: ErrorInfo | null;
  /** Tells the dialog which destination is chosen, so Start is enabled only for a usable one. */
  onDestinationChange?: (target: MigrationTarget | null) => void;
}) {
  const firstUsable = targets?.find((t) => t.verdict !== "fail")?.host ?? "";
  const [destination, setDestination] = useState(firstUsable);
  const [bandwidth, setBandwidth] = useState("");
  const [downtime, setDowntime] = useState("");
  const [autoConverge, setAutoConverge] = useState(false);
  const [postCopy, setPostCopy] = useState(false);
  const [fieldError, setFieldError] = useState<{ bandwidth?: string; downtime?: string }>({});

  useEffect(() => {
    if (!destination && firstUsable) setDestination(firstUsable);
  }, [destination, firstUsable]);
  const chosen = targets?.find((t) => t.host === destination) ?? null;
  useEffect(() => onDestinationChange?.(chosen), [chosen, onDestinationChange]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const bw = parseOptional(bandwidth);
    const dt = parseOptional(downtime);
    const errors = {
      bandwidth: bw === "invalid" ? "a whole number of MiB/s, or empty for no limit" : undefined,
      downtime: dt === "invalid" ? "a whole number of milliseconds, or empty for the default" : undefined,
    };
    setFieldError(errors);
    if (bw === "invalid" || dt === "invalid") return;
    const parsed = MigrateOptions.safeParse({ bandwidthMiBps: bw, maxDowntimeMs: dt, autoConverge, postCopy });
    if (!parsed.success) {
      setFieldError({ bandwidth: parsed.error.issues.find((i) => i.path[0] === "bandwidthMiBps")?.message, downtime: parsed.error.issues.find((i) => i.path[0] === "maxDowntimeMs")?.message });
      return;
    }
    if (chosen && chosen.verdict !== "fail") onSubmit(chosen.host, parsed.data);
  };

  return (
    <form id={MIGRATE_FORM_ID} onSubmit={submit} className="flex flex-col gap-5" data-testid="migrate-form">
      <fieldset>
        <legend className="mb-2 text-[12.5px] font-medium">
          Destination <span className="font-normal text-muted">— ranked by fit; {instance.name} needs {formatMiB(instance.memoryMiB)} RAM, {instance.vcpus} vCPU</span>
        </legend>
        {targetsError ? (
          <ErrorState error={targetsError} onRetry={onRetryTargets} compact />
        ) : !targets ? (
          <div className="flex flex-col gap-2" aria-busy="true" aria-label="Running preflight checks">
            <Skeleton className="h-14 w-full" />
            <Skeleton className="h-14 w-full" />
          </div>
        ) : targets.length === 0 ? (
          <p className="text-[13px] text-muted">No other hypervisor is available to move to.</p>
        ) : (
          <div className="flex flex-col gap-2" role="radiogroup" aria-label="Destination host">
            {targets.map((t) => {
              const blocked = t.verdict === "fail";
              const selected = destination === t.host;
              return (
                <label
                  key={t.host}
                  data-testid={`target-${t.host}`}
                  data-verdict={t.verdict}
                  className={cx(
                    "block rounded-lg border p-3",
                    selected ? "border-accent bg-accent-soft/40" : "border-border",
                    "cursor-pointer",
                    blocked ? "opacity-90" : "hover:border-accent/60",
                  )}
                >
                  <div className="flex items-center gap-2">
                    {/* Blocked hosts stay selectable: choosing one shows why it cannot be used. */}
                    <input type="radio" name="destination" value={t.host} checked={selected} onChange={() => setDestination(t.host)} className="accent-[var(--accent)]" />
                    <span className="font-medium">{t.host}</span>
                    <StatusBadge status={verdictStatus[t.verdict]} />
                    <span className="ml-auto text-[12px] tabular-nums text-muted">{formatMiB(Math.max(0, t.freeMemoryMiB))} free</span>
                  </div>
                  <div className="mt-2 pl-5">
                    <PreflightList checks={t.checks} foldPassed />
                  </div>
                </label>
              );
            })}
          </div>
        )}
      </fieldset>

      <fieldset className="grid grid-cols-1 gap-3 sm:grid-cols-2">
        <legend className="mb-2 text-[12.5px] font-medium">Options</legend>
        <Field label="Bandwidth limit (MiB/s)" htmlFor="mig-bw" error={fieldError.bandwidth} hint="Empty: no limit. Limit it to spare the storage network.">
          <Input id="mig-bw" inputMode="numeric" placeholder="unlimited" value={bandwidth} onChange={(e) => setBandwidth(e.target.value)} />
        </Field>
        <Field label="Maximum downtime (ms)" htmlFor="mig-dt" error={fieldError.downtime} hint="How long the VM may pause at switch-over. Empty: hypervisor default.">
          <Input id="mig-dt" inputMode="numeric" placeholder="default" value={downtime} onChange={(e) => setDowntime(e.target.value)} />
        </Field>
        <div className="sm:col-span-2 flex flex-col gap-3">
          <Checkbox
            label="Auto-converge"
            checked={autoConverge}
            onChange={(e) => setAutoConverge(e.target.checked)}
            hint="Slows the VM's vCPUs while it writes memory faster than it can be copied, so the migration can finish. The VM runs slower until then."
          />
          <Checkbox
            label="Post-copy"
            checked={postCopy}
            onChange={(e) => setPostCopy(e.target.checked)}
            hint={
              <>
                Switches the VM to {destination || "the destination"} before all memory is copied and fetches the rest on demand; it always converges.{" "}
                <strong className="text-warn">Risk:</strong> if either host or the network between them fails during that phase, the VM is lost and must be rebooted from its disk.
              </>
            }
          />
        </div>
      </fieldset>

      {submitError && (
        <div role="alert" className="rounded-lg border border-crit/40 bg-crit-soft/60 p-3 text-[13px]" data-testid="migrate-error">
          <p className="font-medium text-crit">The migration was not started: {submitError.message}</p>
          {submitError.checks && (
            <div className="mt-2">
              <PreflightList checks={submitError.checks} />
            </div>
          )}
        </div>
      )}
    </form>
  );
}
