"use client";
import type { LoadBalancerSpec, Operation } from "@nimbus/domain";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input, Select, Textarea } from "@/components/ui/field";
import { errorInfo } from "@/lib/errors";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { emptyLbForm, lbFormFrom, parseLbForm, withLbDefaults, type LbFormErrors, type LbFormValues } from "./lb-form";

const FORM_ID = "lb-form";

/** Create or edit a load balancer; saving runs lb-apply (write, validate, reload, verify) and the dialog closes once it started. */
export function LbDialog({ existing, onClose, onStarted }: { existing: LoadBalancerSpec | null; onClose: () => void; onStarted: (op: Operation) => void }) {
  const trpc = useTRPC();
  const options = useQuery(trpc.loadBalancers.options.queryOptions());
  const [values, setValues] = useState<LbFormValues | null>(existing ? lbFormFrom(existing) : null);
  const [errors, setErrors] = useState<LbFormErrors>({});
  const create = useAction(trpc.loadBalancers.create.mutationOptions({ onSuccess: onStarted }));
  const update = useAction(trpc.loadBalancers.update.mutationOptions({ onSuccess: onStarted }));
  const run = existing ? update : create;
  // The first edge host and service are preselected, also when the name was typed before the options arrived.
  const firstEdge = options.data?.edgeHosts[0] ?? "";
  const firstService = options.data?.services[0]?.name ?? "";
  const v = withLbDefaults(values ?? emptyLbForm(), firstEdge, firstService);
  const set = (k: keyof LbFormValues) => (e: { target: { value: string } }) => setValues({ ...v, [k]: e.target.value });
  const close = () => {
    run.reset();
    onClose();
  };
  const ports = options.data?.services.find((s) => s.name === v.service)?.ports ?? [];
  return (
    <Dialog
      open
      onOpenChange={(o) => !o && close()}
      title={existing ? `Edit load balancer ${existing.name}` : "New load balancer"}
      description="Nimbus writes the whole HAProxy configuration, checks it with haproxy -c and reloads without dropping connections."
      testId="lb-dialog"
      wide
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" form={FORM_ID} variant="primary" busy={run.isPending} data-testid="lb-save">
            {existing ? "Save and apply" : "Create and apply"}
          </Button>
        </>
      }
    >
      <form
        id={FORM_ID}
        className="grid grid-cols-1 gap-3 sm:grid-cols-2"
        onSubmit={(e) => {
          e.preventDefault();
          const parsed = parseLbForm(v);
          setErrors(parsed.errors);
          if (parsed.spec) run.mutate(parsed.spec);
        }}
      >
        <Field label="Name" htmlFor="lb-name" error={errors.name} hint="lower-case letters, digits and '-'">
          <Input id="lb-name" value={v.name} onChange={set("name")} disabled={!!existing} autoComplete="off" />
        </Field>
        <Field label="Edge host" htmlFor="lb-edge" error={errors.edgeHost} hint={options.data && !options.data.edgeHosts.length ? "No host reports HAProxy: install the haproxy package on one" : "A host whose agent reports HAProxy"}>
          <Select id="lb-edge" value={v.edgeHost} onChange={set("edgeHost")} disabled={!!existing}>
            {existing && <option>{existing.edgeHost}</option>}
            {!existing && (options.data?.edgeHosts ?? []).map((h) => <option key={h}>{h}</option>)}
          </Select>
        </Field>
        <Field label="Listen on" htmlFor="lb-bind" error={errors.bindAddress ?? errors.bindPort}>
          <div className="flex gap-2">
            <Input id="lb-bind" value={v.bindAddress} onChange={set("bindAddress")} className="min-w-0 flex-1 font-mono" aria-label="Listen address" />
            <Input value={v.bindPort} onChange={set("bindPort")} className="w-24 font-mono" inputMode="numeric" aria-label="Listen port" data-testid="lb-port" />
          </div>
        </Field>
        <Field label="Mode" htmlFor="lb-mode">
          <Select id="lb-mode" value={v.mode} onChange={set("mode")}>
            <option value="http">http</option>
            <option value="tcp">tcp</option>
          </Select>
        </Field>
        <Field label="In front of" htmlFor="lb-target">
          <Select id="lb-target" value={v.targetKind} onChange={set("targetKind")}>
            <option value="service">a swarm service (every node)</option>
            <option value="addresses">a list of addresses</option>
          </Select>
        </Field>
        {v.targetKind === "service" ? (
          <Field label="Service and published port" htmlFor="lb-service" error={errors.service ?? errors.servicePort}>
            <div className="flex gap-2">
              <Select id="lb-service" value={v.service} onChange={set("service")} className="min-w-0 flex-1">
                {!options.data?.services.some((s) => s.name === v.service) && v.service && <option>{v.service}</option>}
                {(options.data?.services ?? []).map((s) => (
                  <option key={s.name}>{s.name}</option>
                ))}
              </Select>
              <Select aria-label="Published port" value={v.servicePort} onChange={set("servicePort")} className="w-28">
                <option value="">first TCP</option>
                {ports.map((p) => (
                  <option key={p} value={String(p)}>
                    {p}
                  </option>
                ))}
              </Select>
            </div>
          </Field>
        ) : (
          <Field label="Servers" htmlFor="lb-servers" error={errors.servers} hint="One a line: name address:port">
            <Textarea id="lb-servers" value={v.servers} onChange={set("servers")} rows={3} className="font-mono" placeholder={"web1 10.0.0.11:8080\nweb2 10.0.0.12:8080"} />
          </Field>
        )}
        <fieldset className="col-span-full grid grid-cols-2 gap-3 rounded-md border border-border p-3 sm:grid-cols-4">
          <legend className="px-1 text-[12px] text-muted">Health check</legend>
          <Field label="Every (ms)" htmlFor="lb-inter" error={errors.interMs}>
            <Input id="lb-inter" value={v.interMs} onChange={set("interMs")} inputMode="numeric" />
          </Field>
          <Field label="Timeout (ms)" htmlFor="lb-timeout" error={errors.timeoutMs}>
            <Input id="lb-timeout" value={v.timeoutMs} onChange={set("timeoutMs")} inputMode="numeric" />
          </Field>
          <Field label="Rise" htmlFor="lb-rise" error={errors.rise}>
            <Input id="lb-rise" value={v.rise} onChange={set("rise")} inputMode="numeric" />
          </Field>
          <Field label="Fall" htmlFor="lb-fall" error={errors.fall}>
            <Input id="lb-fall" value={v.fall} onChange={set("fall")} inputMode="numeric" />
          </Field>
          {v.mode === "http" && (
            <>
              <Field label="HTTP path" htmlFor="lb-path" error={errors.httpPath} hint="Empty: TCP connect only">
                <Input id="lb-path" value={v.httpPath} onChange={set("httpPath")} className="font-mono" />
              </Field>
              <Field label="Expect status" htmlFor="lb-status" error={errors.expectStatus}>
                <Input id="lb-status" value={v.expectStatus} onChange={set("expectStatus")} inputMode="numeric" />
              </Field>
            </>
          )}
        </fieldset>
        {run.error && (
          <p role="alert" className="col-span-full rounded-md bg-crit-soft px-3 py-2 text-[13px] text-crit">
            {errorInfo(run.error).message}
          </p>
        )}
      </form>
    </Dialog>
  );
}
