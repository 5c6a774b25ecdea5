"use client";
import { MaintenanceRequest, type Operation } from "@nimbus/domain";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input } from "@/components/ui/field";
import { ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { LiveOperation } from "@/features/operations/live-operation";
import { Refusal } from "@/features/preflight/refusal";
import { errorInfo } from "@/lib/errors";
import { useTRPC } from "@/lib/trpc";
import { useOperation, useStartOperation } from "@/lib/use-operation";
import { MaintenancePlanView } from "./maintenance-plan-view";
import { useAction } from "@/lib/use-action";

const FORM_ID = "maintenance-form";

/**
 * "Enter maintenance" on a host: the dry-run plan first (where each VM goes and why, what cannot
 * move, which swarm workers get drained), the parallelism, then Execute; from then on the same
 * dialog follows the evacuation VM by VM, with Abort. Closing it leaves the work running: the
 * host's page and row show it too.
 */
export function MaintenanceDialog({ host, onClose }: { host: string | null; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const started = useStartOperation();
  const [running, setRunning] = useState<Operation | null>(null);
  const [parallelism, setParallelism] = useState("2");
  const [bandwidth, setBandwidth] = useState("");
  const [fieldError, setFieldError] = useState<{ parallelism?: string; bandwidth?: string }>({});
  const open = host !== null;
  const plan = useQuery({
    ...trpc.maintenance.plan.queryOptions({ host: host ?? "" }),
    // A dry run is a snapshot: fresh every time the dialog opens, and not re-run once executing.
    enabled: open && !running,
    staleTime: 0,
    gcTime: 0,
  });
  // Opened on a host that is already being evacuated: follow that evacuation.
  const existing = useOperation(running ? null : plan.data?.view.operationId);
  const evacuation = running ?? existing.data ?? null;

  const start = useAction(
    trpc.maintenance.start.mutationOptions({
      onSuccess: (op) => {
        started(op);
        setRunning(op);
        void qc.invalidateQueries({ queryKey: trpc.maintenance.list.queryKey() });
      },
    }),
  );
  const close = () => {
    start.reset();
    setRunning(null);
    setFieldError({});
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!host) return;
    const bw = bandwidth.trim();
    const errors = {
      parallelism: /^\d+$/.test(parallelism.trim()) ? undefined : "a whole number from 1 to 8",
      bandwidth: !bw || /^\d+$/.test(bw) ? undefined : "a whole number of MiB/s, or empty for no limit",
    };
    const parsed = MaintenanceRequest.safeParse({ host, parallelism: Number(parallelism), options: { bandwidthMiBps: bw ? Number(bw) : null } });
    if (!errors.parallelism && !parsed.success && parsed.error.issues.some((i) => i.path[0] === "parallelism")) errors.parallelism = "from 1 to 8 at a time";
    if (!errors.bandwidth && !parsed.success && parsed.error.issues.some((i) => i.path[0] === "options")) errors.bandwidth = "a positive number of MiB/s";
    setFieldError(errors);
    if (parsed.success && !errors.parallelism && !errors.bandwidth) start.mutate(parsed.data);
  };

  const p = plan.data;
  const toMove = p?.moves.length ?? 0;
  const executeLabel = toMove ? `Evacuate ${toMove} VM${toMove === 1 ? "" : "s"}` : "Enter maintenance";

  return (
    <Dialog
      open={open}
      onOpenChange={(o) => !o && close()}
      wide
      testId="maintenance-dialog"
      title={evacuation ? `Evacuating ${host}` : `Enter maintenance: ${host ?? ""}`}
      description={
        evacuation
          ? "Each VM moves in a live migration of its own. Closing this leaves the evacuation running; the host's page follows it too."
          : "Dry run: nothing has moved yet. The host takes no new VMs from the moment you execute; it is in maintenance once it is empty."
      }
      footer={
        evacuation ? (
          <Button onClick={close} data-testid="maintenance-close">
            Close
          </Button>
        ) : (
          <>
            <Button onClick={close}>Cancel</Button>
            <Button type="submit" form={FORM_ID} variant="primary" busy={start.isPending} disabled={!p} data-testid="maintenance-execute">
              {executeLabel}
            </Button>
          </>
        )
      }
    >
      {evacuation ? (
        <div data-testid="maintenance-live">
          <LiveOperation initial={evacuation} />
        </div>
      ) : plan.error ? (
        <ErrorState error={plan.error} onRetry={() => void plan.refetch()} />
      ) : !p || p.view.operationId ? (
        <PanelsSkeleton count={2} />
      ) : (
        <form id={FORM_ID} onSubmit={submit} className="flex flex-col gap-5">
          <MaintenancePlanView plan={p} />
          {toMove > 0 && (
            <fieldset className="grid grid-cols-1 gap-3 sm:grid-cols-2">
              <legend className="mb-2 text-[12.5px] font-medium">Execution</legend>
              <Field label="Migrations at a time" htmlFor="mnt-par" error={fieldError.parallelism} hint="More is faster, but loads the network and the destination at once.">
                <Input id="mnt-par" type="number" min={1} max={8} value={parallelism} onChange={(e) => setParallelism(e.target.value)} data-testid="maintenance-parallelism" />
              </Field>
              <Field label="Bandwidth limit per migration (MiB/s)" htmlFor="mnt-bw" error={fieldError.bandwidth} hint="Empty: no limit.">
                <Input id="mnt-bw" inputMode="numeric" placeholder="unlimited" value={bandwidth} onChange={(e) => setBandwidth(e.target.value)} />
              </Field>
            </fieldset>
          )}
          {start.error && <Refusal what="The evacuation" error={errorInfo(start.error)} testId="maintenance-error" />}
        </form>
      )}
    </Dialog>
  );
}
