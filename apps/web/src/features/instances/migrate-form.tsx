"use client";
import { MigrateOptions, type InstanceView, type PreflightCheck } from "@nimbus/domain";
import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import { Checkbox, Field, Input } from "@/components/ui/field";
import { issueText, type ErrorInfo } from "@/lib/errors";
import { formatMiB } from "@/lib/format";
import { Refusal } from "@/features/preflight/refusal";
import { TargetOptions } from "@/features/preflight/target-options";

export interface MigrationTarget {
  host: string;
  verdict: "pass" | "warn" | "fail";
  freeMemoryMiB: number;
  checks: PreflightCheck[];
}

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
  policy,
  recheckedOnAgents,
  notice,
}: {
  instance: InstanceView;
  targets: MigrationTarget[] | undefined;
  targetsError?: unknown;
  onRetryTargets?: () => void;
  onSubmit: (destination: string, options: MigrateOptions) => void;
  submitError?: ErrorInfo | null;
  /** Tells the dialog which destination is chosen, so Start is enabled only for a usable one. */
  onDestinationChange?: (target: MigrationTarget | null) => void;
  /** The headroom policy in words (how much RAM stays free, what overcommit warns). */
  policy?: string;
  /** The checks run again on both agents at start (said under the list). */
  recheckedOnAgents?: boolean;
  /** Shown above the destinations: what the VM runs as a swarm node, that it is busy. */
  notice?: ReactNode;
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
      const about = (field: string) => {
        const issue = parsed.error.issues.find((i) => i.path[0] === field);
        return issue && issueText(issue);
      };
      setFieldError({ bandwidth: about("bandwidthMiBps"), downtime: about("maxDowntimeMs") });
      return;
    }
    if (chosen && chosen.verdict !== "fail") onSubmit(chosen.host, parsed.data);
  };

  return (
    <form id={MIGRATE_FORM_ID} onSubmit={submit} className="flex flex-col gap-5" data-testid="migrate-form">
      {notice}
      <fieldset>
        <legend className="mb-2 text-[12.5px] font-medium">
          Destination <span className="font-normal text-muted">— ranked by fit; {instance.name} needs {formatMiB(instance.memoryMiB)} RAM, {instance.vcpus} vCPU</span>
        </legend>
        {policy && (
          <p className="-mt-1 mb-2 text-[12px] text-muted" data-testid="headroom-policy">
            <span className="font-medium text-fg">Headroom policy:</span> {policy}
          </p>
        )}
        <TargetOptions
          name="destination"
          label="Destination host"
          testIdPrefix="target-"
          value={destination}
          onChange={setDestination}
          error={targetsError}
          onRetry={onRetryTargets}
          emptyText="No other hypervisor is available to move to."
          options={targets?.map((t) => ({ value: t.host, verdict: t.verdict, detail: `${formatMiB(Math.max(0, t.freeMemoryMiB))} free`, checks: t.checks }))}
        />
        {recheckedOnAgents && targets && targets.length > 0 && (
          <p className="mt-2 text-[12px] text-muted">These checks come from the inventory; both hosts run them again when the migration starts.</p>
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

      {submitError && <Refusal what="The migration" error={submitError} testId="migrate-error" />}
    </form>
  );
}
