"use client";
import { COMPOSE_LIMITS, StackName, stackNameFor, type Operation, type StackValidation } from "@nimbus/domain";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input, Select, Textarea } from "@/components/ui/field";
import { LiveOperation } from "@/features/operations/live-operation";
import { errorInfo } from "@/lib/errors";
import { operationHref } from "@/lib/hrefs";
import { useCan, useSession } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { useStartOperation } from "@/lib/use-operation";
import { StackDiffView, ValidationList } from "./stacks-view";

/** Every text of a request is bounded (8 KiB here): the file travels in chunks, joined by the server. */
const CHUNK = 8 * 1024;
export const composeChunks = (text: string): string[] => {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += CHUNK) out.push(text.slice(i, i + CHUNK));
  return out.length ? out : [""];
};

const CHECK_AFTER_MS = 500;

/**
 * Deploy a stack: a name, the compose file pasted or read from a file, checked by the server
 * while it is typed (errors with their place, and the diff against what runs), then deployed as
 * an operation whose steps show here and on the stack.
 */
export function DeployStackDialog({ open, onClose, initialName }: { open: boolean; onClose: () => void; initialName?: string }) {
  const trpc = useTRPC();
  const session = useSession();
  const tenantMember = session?.user.role === "tenant" ? session.user.tenant : null;
  const staff = useCan("swarm:stacks");
  const tenants = useQuery({ ...trpc.admin.tenants.list.queryOptions(), enabled: open && staff && !tenantMember });
  const started = useStartOperation();
  const [name, setName] = useState(initialName ?? "");
  const [tenant, setTenant] = useState("");
  const [text, setText] = useState("");
  const [fileError, setFileError] = useState<string | null>(null);
  const [checked, setChecked] = useState<{ key: string; result: StackValidation } | null>(null);
  const [deployed, setDeployed] = useState<Operation | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!open) return;
    setName(initialName ?? "");
    setText("");
    setTenant("");
    setChecked(null);
    setDeployed(null);
    setFileError(null);
  }, [open, initialName]);

  const forTenant = tenantMember ?? (tenant || null);
  const input = { name: name.trim(), compose: composeChunks(text), tenant: tenantMember ? undefined : forTenant };
  const key = JSON.stringify(input);
  const nameProblem = name.trim() && !StackName.safeParse(stackNameFor(forTenant, name.trim())).success ? StackName.safeParse(stackNameFor(forTenant, name.trim())).error?.issues[0]?.message : null;

  const validate = useAction(trpc.stacks.validate.mutationOptions({ onSuccess: (result, v) => setChecked({ key: JSON.stringify(v), result }) }));
  const deploy = useAction(
    trpc.stacks.deploy.mutationOptions({
      onSuccess: (op) => {
        started(op);
        setDeployed(op);
      },
    }),
  );

  // The server checks the file a moment after typing stops (an explicit request per pause, not a poll).
  useEffect(() => {
    if (!open || deployed || !name.trim() || !text.trim() || nameProblem) return;
    const t = setTimeout(() => validate.mutate(input), CHECK_AFTER_MS);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, open, deployed]);

  const current = checked?.key === key ? checked.result : null;
  const readFile = async (file: File | undefined) => {
    setFileError(null);
    if (!file) return;
    if (file.size > COMPOSE_LIMITS.bytes) return setFileError(`${file.name} is ${Math.ceil(file.size / 1024)} KiB; a compose file is at most ${COMPOSE_LIMITS.bytes / 1024} KiB`);
    setText(await file.text());
    if (!name.trim()) setName(file.name.replace(/\.(ya?ml)$/i, "").replace(/^docker-compose\.?|^compose\.?/i, "").toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, ""));
  };
  const close = () => {
    validate.reset();
    deploy.reset();
    onClose();
  };
  const ready = !!current?.valid && !deploy.isPending;

  return (
    <Dialog
      open={open}
      onOpenChange={(o) => !o && close()}
      wide
      title={deployed ? `Deploying ${deployed.target.name}` : "Deploy a stack"}
      description={deployed ? "The stack's services are followed until each runs its replicas, or a task fails." : "A compose file deployed across the swarm with docker stack deploy. It is checked before anything is sent."}
      testId="stack-deploy-dialog"
      footer={
        deployed ? (
          <>
            <Link href={operationHref(deployed.id)} className="mr-auto self-center text-[13px] text-accent underline">
              Steps and logs
            </Link>
            <Button onClick={close} variant="primary" data-testid="stack-deploy-done">
              Close
            </Button>
          </>
        ) : (
          <>
            <Button onClick={close}>Cancel</Button>
            <Button type="submit" form="stack-deploy-form" variant="primary" busy={deploy.isPending} disabled={!ready} data-testid="stack-deploy-submit">
              {current?.diff?.exists ? "Update stack" : "Deploy"}
            </Button>
          </>
        )
      }
    >
      {deployed ? (
        <LiveOperation initial={deployed} />
      ) : (
        <form
          id="stack-deploy-form"
          className="flex flex-col gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            if (ready) deploy.mutate(input);
          }}
        >
          <div className="grid gap-3 sm:grid-cols-2">
            <Field
              label="Stack name"
              htmlFor="stack-name"
              error={nameProblem ?? null}
              hint={forTenant && name.trim() ? `Deployed as ${stackNameFor(forTenant, name.trim())}` : "Lower-case letters, digits and '-'."}
            >
              <Input id="stack-name" value={name} onChange={(e) => setName(e.target.value)} autoFocus autoComplete="off" spellCheck={false} data-testid="stack-name" />
            </Field>
            {!tenantMember && (
              <Field label="Tenant" htmlFor="stack-tenant" hint="Its members see and manage the stack.">
                <Select id="stack-tenant" value={tenant} onChange={(e) => setTenant(e.target.value)} data-testid="stack-tenant">
                  <option value="">No tenant (staff only)</option>
                  {(tenants.data ?? []).map((t) => (
                    <option key={t.slug} value={t.slug}>
                      {t.name} ({t.slug})
                    </option>
                  ))}
                </Select>
              </Field>
            )}
          </div>
          <Field
            label="Compose file"
            htmlFor="stack-compose"
            error={fileError}
            hint={
              <span className="flex flex-wrap items-center gap-2">
                Paste it, or
                <Button size="sm" onClick={() => fileInput.current?.click()} data-testid="stack-upload">
                  Upload a file…
                </Button>
                <span className="text-muted">at most {COMPOSE_LIMITS.bytes / 1024} KiB, {COMPOSE_LIMITS.services} services</span>
              </span>
            }
          >
            <Textarea
              id="stack-compose"
              value={text}
              onChange={(e) => setText(e.target.value)}
              rows={12}
              spellCheck={false}
              className="font-mono text-[12px]"
              placeholder={"services:\n  web:\n    image: nginx:1.25\n    ports: [\"8080:80\"]\n    deploy:\n      replicas: 2"}
              data-testid="stack-compose"
            />
          </Field>
          <input ref={fileInput} type="file" accept=".yml,.yaml,text/yaml,application/yaml" className="hidden" onChange={(e) => void readFile(e.target.files?.[0])} data-testid="stack-file" />
          <div aria-live="polite" className="flex flex-col gap-2">
            {validate.isPending && !current && <p className="text-[12.5px] text-muted">Checking…</p>}
            {validate.error && !current && (
              <p role="alert" className="rounded-md bg-crit-soft px-3 py-2 text-[13px] text-crit">
                {errorInfo(validate.error).message}
              </p>
            )}
            {current && <ValidationList validation={current} />}
            {current?.valid && current.diff && <StackDiffView diff={current.diff} />}
          </div>
          {deploy.error && (
            <p role="alert" className="rounded-md bg-crit-soft px-3 py-2 text-[13px] text-crit">
              {errorInfo(deploy.error).message}
            </p>
          )}
        </form>
      )}
    </Dialog>
  );
}
