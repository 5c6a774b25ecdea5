"use client";
import type { ScalingPolicy, SwarmService } from "@nimbus/domain";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { z } from "zod";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/field";
import { errorInfo, issueText } from "@/lib/errors";
import { useTRPC } from "@/lib/trpc";
import { useStartOperation } from "@/lib/use-operation";
import { useAction } from "@/lib/use-action";
import { useCan } from "@/lib/session";

const Replicas = z.coerce.number({ error: "a whole number" }).int("a whole number").min(0, "at least 0").max(100, "at most 100");

/**
 * What an enabled autoscaling policy will do to a count typed by hand outside its bounds (the
 * autoscaler holds the bounds whatever the load), or null when the count stands.
 */
export function policyBoundsNote(policy: Pick<ScalingPolicy, "service" | "enabled" | "minReplicas" | "maxReplicas"> | undefined, replicas: number): string | null {
  if (!policy?.enabled || !Number.isInteger(replicas)) return null;
  const bounds = `${policy.service}'s autoscaling policy keeps it between ${policy.minReplicas} and ${policy.maxReplicas} replicas`;
  if (replicas > policy.maxReplicas) return `${bounds}: the autoscaler will bring ${replicas} back to ${policy.maxReplicas}. Raise the policy's maximum to keep more.`;
  if (replicas < policy.minReplicas) return `${bounds}: the autoscaler will bring ${replicas} back up to ${policy.minReplicas}. Lower the policy's minimum (or disable it) to keep fewer.`;
  return null;
}

/** Set a service's replica count; convergence then shows on the service's row. */
export function ScaleDialog({ service, onClose }: { service: SwarmService | null; onClose: () => void }) {
  const trpc = useTRPC();
  const started = useStartOperation();
  const [value, setValue] = useState("");
  const [fieldError, setFieldError] = useState<string | null>(null);
  // The autoscaler's view is staff-only; the panel on the same page has usually fetched it already.
  const staff = useCan("read:fleet");
  const autoscale = useQuery({ ...trpc.swarmNodes.autoscale.queryOptions(), enabled: staff && service !== null });
  const policy = autoscale.data?.policies.find((p) => p.policy.service === service?.name)?.policy;
  const boundsNote = value.trim() === "" ? null : policyBoundsNote(policy, Number(value));
  useEffect(() => {
    setValue(service ? String(service.replicasDesired) : "");
    setFieldError(null);
  }, [service]);
  const scale = useAction(
    trpc.swarm.scale.mutationOptions({
      onSuccess: (op) => {
        started(op);
        onClose();
      },
    }),
  );
  const close = () => {
    scale.reset();
    onClose();
  };
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const parsed = Replicas.safeParse(value.trim() === "" ? Number.NaN : value);
    if (!parsed.success) return setFieldError(parsed.error.issues[0] ? issueText(parsed.error.issues[0]) : "not valid");
    if (service) scale.mutate({ service: service.name, replicas: parsed.data });
  };
  return (
    <Dialog
      open={service !== null}
      onOpenChange={(o) => !o && close()}
      title={`Scale ${service?.name ?? ""}`}
      description={service ? `${service.replicasRunning} of ${service.replicasDesired} replicas running now. Tasks start or stop one by one.` : undefined}
      testId="scale-dialog"
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" form="scale-form" variant="primary" busy={scale.isPending} data-testid="scale-submit">
            Scale
          </Button>
        </>
      }
    >
      <form id="scale-form" onSubmit={submit} className="flex flex-col gap-3">
        <Field label="Replicas" htmlFor="replicas" error={fieldError} hint="0 stops every task of the service.">
          <Input id="replicas" type="number" min={0} max={100} value={value} onChange={(e) => setValue(e.target.value)} autoFocus data-testid="scale-replicas" />
        </Field>
        {boundsNote && (
          <p role="status" data-testid="scale-policy-note" className="rounded-md bg-warn-soft px-3 py-2 text-[13px] text-warn">
            {boundsNote}
          </p>
        )}
        {scale.error && (
          <p role="alert" className="rounded-md bg-crit-soft px-3 py-2 text-[13px] text-crit">
            {errorInfo(scale.error).message}
          </p>
        )}
      </form>
    </Dialog>
  );
}
