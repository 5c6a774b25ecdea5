"use client";
import type { ScalingPolicy, SwarmService } from "@nimbus/domain";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Checkbox, Field, Input, Select } from "@/components/ui/field";
import { Panel } from "@/components/ui/panel";
import { PlainTable, phoneHiddenCell, plainCell } from "@/components/ui/plain-table";
import { Tag } from "@/components/ui/status-badge";
import { RelativeTime } from "@/components/ui/time";
import { ErrorState, Skeleton } from "@/components/ui/states";
import { errorInfo } from "@/lib/errors";
import { notify, watchOperation } from "@/lib/notify";
import { useCan } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";

type Editing = Pick<ScalingPolicy, "service"> & Partial<ScalingPolicy>;

/**
 * The autoscaler on the swarm page: each service's policy (bounds, CPU target over a window,
 * what to do when tasks cannot be placed), the open suggestions to add a worker, and the latest
 * decisions with their reasons (all of them are in the audit log too). Decisions follow the
 * swarm's pushed inventory, so the view is asked again when that changes (at most every 3 s),
 * never on a timer of its own.
 */
export function AutoscalePanel({ services }: { services: readonly SwarmService[] }) {
  const trpc = useTRPC();
  const view = useQuery(trpc.swarmNodes.autoscale.queryOptions());
  const lastAsked = useRef(0);
  useEffect(() => {
    if (Date.now() - lastAsked.current < 3_000) return;
    lastAsked.current = Date.now();
    void view.refetch();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- asked again when the pushed services change
  }, [services]);
  const mayEdit = useCan("workload:scale");
  const mayAdd = useCan("workload:create");
  const [editing, setEditing] = useState<Editing | null>(null);
  const accept = useAction(
    trpc.swarmNodes.acceptSuggestion.mutationOptions({
      onSuccess: ({ operationId }, v) => {
        watchOperation(operationId);
        notify.started({ id: operationId, summary: `Add a worker for ${v.service}` });
        void view.refetch();
      },
      onError: (e) => notify.error(e, "Add worker"),
    }),
  );
  const v = view.data;
  const scalable = services.filter((s) => s.mode === "replicated" && !v?.policies.some((p) => p.policy.service === s.name));
  return (
    <Panel
      title="Autoscaling"
      id="autoscale"
      bodyClass="p-0"
      actions={
        mayEdit && scalable.length ? (
          <Button size="sm" onClick={() => setEditing({ service: scalable[0]!.name })} data-testid="autoscale-add">
            Add policy
          </Button>
        ) : null
      }
    >
      {v?.suggestions.map((s) => (
        <div key={s.service} role="status" data-testid={`suggestion-${s.service}`} className="flex flex-wrap items-center gap-2 border-b border-border bg-warn-soft px-3 py-2 text-[13px]">
          <span className="font-semibold">Suggestion:</span>
          <span className="min-w-0 flex-1">add a worker: {s.reason}</span>
          {mayAdd && (
            <Button size="sm" variant="primary" busy={accept.isPending} onClick={() => accept.mutate({ service: s.service })} data-testid={`accept-${s.service}`}>
              Add worker
            </Button>
          )}
        </div>
      ))}
      {view.isPending ? (
        <div className="flex flex-col gap-2 px-3 py-3" data-testid="autoscale-loading">
          <Skeleton className="h-4 w-2/3" />
          <Skeleton className="h-4 w-1/2" />
        </div>
      ) : view.error ? (
        <div className="p-3">
          <ErrorState error={view.error} onRetry={() => void view.refetch()} compact />
        </div>
      ) : v && v.policies.length === 0 ? (
        <p className="px-3 py-3 text-[13px] text-muted">No service has a scaling policy. A policy keeps a service between bounds and aims its CPU at a target.</p>
      ) : (
        <PlainTable head={["Service", "Replicas", "CPU now / target", "Window", "When nodes are full", "Idle workers", ""]} phoneHidden={[3, 4, 5]} testId="autoscale-policies">
          {v?.policies.map(({ policy: p, cpuPct, replicas, updatedBy }) => (
            <tr key={p.service} data-testid={`policy-${p.service}`}>
              <td className={plainCell}>
                <span className="font-medium">{p.service}</span>
                {!p.enabled && (
                  <span className="ml-2">
                    <Tag>off</Tag>
                  </span>
                )}
              </td>
              <td className={`${plainCell} tabular-nums`}>
                {replicas ?? "?"} <span className="text-muted">({p.minReplicas}–{p.maxReplicas})</span>
              </td>
              <td className={`${plainCell} tabular-nums`}>
                {cpuPct === null ? "no data" : `${cpuPct} %`} <span className="text-muted">/ {p.cpuTargetPct} %</span>
              </td>
              <td className={`${plainCell} ${phoneHiddenCell}`}>{p.windowSeconds} s, cool-down {p.cooldownSeconds} s</td>
              <td className={`${plainCell} ${phoneHiddenCell}`}>{p.addWorkers === "perform" ? "add a worker" : p.addWorkers === "suggest" ? "suggest a worker" : "nothing"}</td>
              <td className={`${plainCell} ${phoneHiddenCell}`}>{p.removeIdleWorkers ? `removed after ${p.idleMinutes} min` : "kept"}</td>
              <td className={`${plainCell} text-right`}>
                {mayEdit && (
                  <Button size="sm" onClick={() => setEditing(p)} title={`set by ${updatedBy}`} data-testid={`edit-policy-${p.service}`}>
                    Edit
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </PlainTable>
      )}
      {v && (
        <div className="border-t border-border px-3 py-2">
          <h3 className="mb-1 text-[11px] font-semibold uppercase tracking-wide text-muted">Decisions</h3>
          {v && v.decisions.length === 0 ? (
            <p className="text-[12.5px] text-muted">None yet.</p>
          ) : (
            <ul className="flex flex-col gap-1 text-[12.5px]" data-testid="autoscale-decisions">
              {v?.decisions.slice(0, 12).map((d, i) => (
                <li key={`${d.at}-${i}`} className="flex flex-wrap gap-x-2">
                  <span className="text-muted">
                    <RelativeTime iso={d.at} />
                  </span>
                  <Tag>{d.kind}</Tag>
                  <span className="font-medium">{d.subject}</span>
                  <span className={d.outcome === "failed" ? "text-crit" : "text-muted"}>
                    {d.reason}
                    {d.error ? `: ${d.error}` : ""}
                  </span>
                  {d.operationId && (
                    <a className="text-accent underline-offset-2 hover:underline" href={`/operations/${d.operationId}`}>
                      operation
                    </a>
                  )}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {editing && <PolicyDialog initial={editing} services={services} onClose={() => setEditing(null)} onSaved={() => void view.refetch()} />}
    </Panel>
  );
}

function PolicyDialog({ initial, services, onClose, onSaved }: { initial: Editing; services: readonly SwarmService[]; onClose: () => void; onSaved: () => void }) {
  const trpc = useTRPC();
  const admin = useCan("swarm:tokens");
  const [f, setF] = useState({
    service: initial.service,
    enabled: initial.enabled ?? true,
    minReplicas: String(initial.minReplicas ?? 1),
    maxReplicas: String(initial.maxReplicas ?? 6),
    cpuTargetPct: String(initial.cpuTargetPct ?? 60),
    windowSeconds: String(initial.windowSeconds ?? 120),
    cooldownSeconds: String(initial.cooldownSeconds ?? 300),
    addWorkers: initial.addWorkers ?? "suggest",
    removeIdleWorkers: initial.removeIdleWorkers ?? false,
    idleMinutes: String(initial.idleMinutes ?? 30),
  });
  const set = <K extends keyof typeof f>(k: K, v: (typeof f)[K]) => setF((x) => ({ ...x, [k]: v }));
  const save = useAction(
    trpc.swarmNodes.setPolicy.mutationOptions({
      onSuccess: (p) => {
        notify.ok(`Scaling policy of ${p.service} saved`);
        onSaved();
        onClose();
      },
    }),
  );
  const remove = useAction(
    trpc.swarmNodes.deletePolicy.mutationOptions({
      onSuccess: (_r, v) => {
        notify.ok(`Scaling policy of ${v.service} removed`);
        onSaved();
        onClose();
      },
      onError: (e) => notify.error(e, "Remove the policy"),
    }),
  );
  const submit = () =>
    save.mutate({
      service: f.service,
      enabled: f.enabled,
      minReplicas: Number(f.minReplicas),
      maxReplicas: Number(f.maxReplicas),
      cpuTargetPct: Number(f.cpuTargetPct),
      windowSeconds: Number(f.windowSeconds),
      cooldownSeconds: Number(f.cooldownSeconds),
      addWorkers: f.addWorkers,
      removeIdleWorkers: f.removeIdleWorkers,
      idleMinutes: Number(f.idleMinutes),
    });
  const num = (k: "minReplicas" | "maxReplicas" | "cpuTargetPct" | "windowSeconds" | "cooldownSeconds" | "idleMinutes", label: string) => (
    <Field label={label} htmlFor={`p-${k}`}>
      <Input id={`p-${k}`} type="number" value={f[k]} onChange={(e) => set(k, e.target.value)} data-testid={`policy-${k}`} />
    </Field>
  );
  return (
    <Dialog
      open
      onOpenChange={(o) => !o && onClose()}
      wide
      testId="policy-dialog"
      title={`Scaling policy${initial.minReplicas !== undefined ? ` of ${initial.service}` : ""}`}
      description="Replicas follow the service's CPU (the mean of the nodes running it) between the bounds; a change waits for the cool-down."
      footer={
        <>
          {initial.minReplicas !== undefined && (
            <Button variant="danger" busy={remove.isPending} onClick={() => remove.mutate({ service: f.service })}>
              Remove policy
            </Button>
          )}
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" busy={save.isPending} onClick={submit} data-testid="policy-save">
            Save
          </Button>
        </>
      }
    >
      <div className="flex flex-col gap-3">
        <Field label="Service" htmlFor="p-service">
          <Select id="p-service" value={f.service} onChange={(e) => set("service", e.target.value)} disabled={initial.minReplicas !== undefined}>
            {services.filter((s) => s.mode === "replicated").map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
          </Select>
        </Field>
        <div className="grid grid-cols-2 gap-3 sm:grid-cols-3">
          {num("minReplicas", "Minimum replicas")}
          {num("maxReplicas", "Maximum replicas")}
          {num("cpuTargetPct", "CPU target (%)")}
          {num("windowSeconds", "Window (s)")}
          {num("cooldownSeconds", "Cool-down (s)")}
          {num("idleMinutes", "Idle worker after (min)")}
        </div>
        <Field label="When tasks cannot be placed (nodes full)" htmlFor="p-add" hint={admin ? undefined : "Adding workers without asking needs an admin."}>
          <Select id="p-add" value={f.addWorkers} onChange={(e) => set("addWorkers", e.target.value as typeof f.addWorkers)} data-testid="policy-addWorkers">
            <option value="off">Do nothing</option>
            <option value="suggest">Suggest adding a worker</option>
            <option value="perform" disabled={!admin}>
              Add a worker (consent given)
            </option>
          </Select>
        </Field>
        <Checkbox label="Remove idle workers after the idle time (consent given)" checked={f.removeIdleWorkers} disabled={!admin} onChange={(e) => set("removeIdleWorkers", e.target.checked)} />
        <Checkbox label="Policy enabled" checked={f.enabled} onChange={(e) => set("enabled", e.target.checked)} />
        {save.error && (
          <p role="alert" className="rounded-md bg-crit-soft px-3 py-2 text-[13px] text-crit">
            {errorInfo(save.error).message}
          </p>
        )}
      </div>
    </Dialog>
  );
}
