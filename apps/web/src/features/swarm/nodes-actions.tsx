"use client";
import type { SwarmNode } from "@nimbus/domain";
import { useQuery } from "@tanstack/react-query";
import { Plus, RotateCcw } from "lucide-react";
import { useEffect, useState, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Dialog } from "@/components/ui/dialog";
import { Field, Input, Select } from "@/components/ui/field";
import { ActionMenu, type MenuItem } from "@/components/ui/menu";
import { errorInfo } from "@/lib/errors";
import { notify, watchOperation } from "@/lib/notify";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";

/** Form values as typed; numbers parsed on send (the server's schema says what is wrong). */
interface WorkerForm {
  name: string;
  vcpus: string;
  memoryMiB: string;
  diskGiB: string;
  host: string;
}

const toRequest = (f: WorkerForm) => ({
  name: f.name.trim(),
  vcpus: Number(f.vcpus),
  memoryMiB: Number(f.memoryMiB),
  diskGiB: Number(f.diskGiB),
  ...(f.host ? { host: f.host } : {}),
});

/** Waits until typing stops before asking the server again. */
function useSettled<T>(value: T, ms = 300): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

function nextWorkerName(nodes: readonly SwarmNode[]): string {
  const taken = new Set(nodes.map((n) => n.hostname));
  let n = 1;
  while (taken.has(`worker${n}`)) n++;
  return `worker${n}`;
}

/** "Add worker": name, size, a hypervisor or placement's choice; the placement and its reason are shown before anything is built. */
export function AddWorkerButton({ nodes }: { nodes: readonly SwarmNode[] }) {
  const trpc = useTRPC();
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState<WorkerForm>({ name: "", vcpus: "2", memoryMiB: "2048", diskGiB: "20", host: "" });
  const settledForm = useSettled(form);
  const request = toRequest(settledForm);
  const plan = useQuery({ ...trpc.swarmNodes.plan.queryOptions(request), enabled: open && !!request.name, retry: false });
  const add = useAction(
    trpc.swarmNodes.addWorker.mutationOptions({
      onSuccess: ({ operationId }, v) => {
        watchOperation(operationId);
        notify.started({ id: operationId, summary: `Add worker ${v.name}` });
        setOpen(false);
      },
    }),
  );
  const set = (k: keyof WorkerForm, v: string) => setForm((f) => ({ ...f, [k]: v }));
  const show = () => {
    setForm((f) => ({ ...f, name: nextWorkerName(nodes) }));
    add.reset();
    setOpen(true);
  };
  const p = plan.data;
  return (
    <>
      <Button onClick={show} data-testid="add-worker">
        <Plus aria-hidden className="size-3.5" />
        Add worker
      </Button>
      <Dialog
        open={open}
        onOpenChange={setOpen}
        wide
        testId="add-worker-dialog"
        title="Add a swarm worker"
        description="A VM is built from the Docker-ready base image; at first boot it mounts the datastore through the storage VIP and joins the swarm with the worker token of that moment (never stored)."
        footer={
          <>
            <Button onClick={() => setOpen(false)}>Cancel</Button>
            <Button variant="primary" busy={add.isPending} disabled={!p?.chosen} onClick={() => add.mutate(toRequest(form))} data-testid="add-worker-submit">
              Build and join
            </Button>
          </>
        }
      >
        <div className="flex flex-col gap-3">
          <div className="grid grid-cols-2 gap-3 sm:grid-cols-4">
            <Field label="Name" htmlFor="w-name">
              <Input id="w-name" value={form.name} onChange={(e) => set("name", e.target.value)} data-testid="worker-name" />
            </Field>
            <Field label="vCPUs" htmlFor="w-vcpus">
              <Input id="w-vcpus" type="number" min={1} value={form.vcpus} onChange={(e) => set("vcpus", e.target.value)} />
            </Field>
            <Field label="Memory (MiB)" htmlFor="w-mem">
              <Input id="w-mem" type="number" min={256} step={256} value={form.memoryMiB} onChange={(e) => set("memoryMiB", e.target.value)} data-testid="worker-memory" />
            </Field>
            <Field label="Disk (GiB)" htmlFor="w-disk">
              <Input id="w-disk" type="number" min={1} value={form.diskGiB} onChange={(e) => set("diskGiB", e.target.value)} />
            </Field>
          </div>
          <Field label="Hypervisor" htmlFor="w-host" hint="Placement picks the host with the most room that carries the swarm's network.">
            <Select id="w-host" value={form.host} onChange={(e) => set("host", e.target.value)} data-testid="worker-host">
              <option value="">Let placement choose</option>
              {(p?.candidates ?? []).map((c) => (
                <option key={c.host} value={c.host}>
                  {c.host} ({c.verdict === "fail" ? "does not fit" : `${c.freeMemoryMiB} MiB free`})
                </option>
              ))}
            </Select>
          </Field>
          <section aria-live="polite" data-testid="worker-placement" className="rounded-md border border-border bg-panel-2 px-3 py-2 text-[13px]">
            {plan.isFetching && !p ? (
              <span className="text-muted">Checking placement…</span>
            ) : plan.error ? (
              <span className="text-crit">{errorInfo(plan.error).message}</span>
            ) : p?.chosen ? (
              <>
                <span className="font-semibold">{p.chosen}</span>
                <span className="text-muted">: {p.reason}</span>
                {p.network && <div className="text-[12px] text-muted">On {p.network.bridge}{p.network.vlan !== null ? ` VLAN ${p.network.vlan}` : ""}, beside the manager.</div>}
              </>
            ) : p ? (
              <span className="text-crit" role="alert">Cannot be built: {p.problem ?? p.reason}</span>
            ) : null}
          </section>
          {add.error && (
            <p role="alert" className="rounded-md bg-crit-soft px-3 py-2 text-[13px] text-crit">
              {errorInfo(add.error).message}
            </p>
          )}
        </div>
      </Dialog>
    </>
  );
}

/**
 * Node row actions: remove a worker (with the server's refusal reason), promote or demote with
 * the quorum warning. Items join the row's menu; the dialogs render once, for the node chosen.
 */
export function useNodeActions(mayCreate: boolean, mayManage: boolean): { itemsFor: (node: SwarmNode) => MenuItem[]; dialogs: ReactNode } {
  const [open, setOpen] = useState<{ kind: "remove" | "role"; node: SwarmNode } | null>(null);
  const itemsFor = (node: SwarmNode): MenuItem[] => [
    ...(mayCreate && node.role === "worker" ? [{ label: "Remove worker…", danger: true, onSelect: () => setOpen({ kind: "remove", node }), testId: "node-remove" }] : []),
    ...(mayManage ? [{ label: node.role === "worker" ? "Promote to manager…" : "Demote to worker…", onSelect: () => setOpen({ kind: "role", node }), testId: "node-role" }] : []),
  ];
  const close = () => setOpen(null);
  const dialogs = open?.kind === "remove" ? <RemoveWorkerDialog node={open.node} onClose={close} /> : open?.kind === "role" ? <RoleDialog node={open.node} onClose={close} /> : null;
  return { itemsFor, dialogs };
}

function RemoveWorkerDialog({ node, onClose }: { node: SwarmNode; onClose: () => void }) {
  const trpc = useTRPC();
  const check = useQuery({ ...trpc.swarmNodes.removeCheck.queryOptions({ node: node.hostname }), retry: false });
  const [typed, setTyped] = useState("");
  const remove = useAction(
    trpc.swarmNodes.removeWorker.mutationOptions({
      onSuccess: ({ operationId }) => {
        watchOperation(operationId);
        notify.started({ id: operationId, summary: `Remove worker ${node.hostname}` });
        onClose();
      },
    }),
  );
  const problem = check.data?.problem ?? null;
  return (
    <Dialog
      open
      onOpenChange={(o) => !o && onClose()}
      testId="remove-worker-dialog"
      title={`Remove worker ${node.hostname}`}
      description="Drain it, wait until its tasks run elsewhere, leave the swarm, remove the node, then delete its VM and volume."
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="danger" busy={remove.isPending} disabled={!!problem || check.isPending || typed !== node.hostname} onClick={() => remove.mutate({ node: node.hostname, confirm: typed })} data-testid="remove-worker-submit">
            Remove and delete
          </Button>
        </>
      }
    >
      <div className="flex flex-col gap-3 text-[13px]">
        {problem ? (
          <p role="alert" data-testid="remove-refusal" className="rounded-md bg-crit-soft px-3 py-2 text-crit">
            Refused: {problem}
          </p>
        ) : (
          <Field label={`Type ${node.hostname} to confirm`} htmlFor="rm-confirm">
            <Input id="rm-confirm" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" data-testid="remove-confirm" />
          </Field>
        )}
        {remove.error && (
          <p role="alert" className="rounded-md bg-crit-soft px-3 py-2 text-crit">
            {errorInfo(remove.error).message}
          </p>
        )}
      </div>
    </Dialog>
  );
}

function RoleDialog({ node, onClose }: { node: SwarmNode; onClose: () => void }) {
  const trpc = useTRPC();
  const role = node.role === "worker" ? "manager" : "worker";
  const impact = useQuery({ ...trpc.swarmNodes.roleImpact.queryOptions({ node: node.hostname, role }), retry: false });
  const change = useAction(
    trpc.swarmNodes.setRole.mutationOptions({
      onSuccess: (r) => {
        notify.ok(`${node.hostname} is now a ${role}${r.warning ? ` (${r.warning})` : ""}`);
        onClose();
      },
      onError: (e) => notify.error(e, `${role === "manager" ? "Promote" : "Demote"} ${node.hostname}`),
    }),
  );
  const i = impact.data;
  return (
    <ConfirmDialog
      open
      title={`${role === "manager" ? "Promote" : "Demote"} ${node.hostname}`}
      confirmLabel={role === "manager" ? "Promote" : "Demote"}
      danger={!!i?.warning}
      busy={change.isPending || impact.isPending}
      onConfirm={() => (i?.refusal ? onClose() : change.mutate({ node: node.hostname, role }))}
      onCancel={onClose}
    >
      {i && (
        <div className="flex flex-col gap-2 text-[13px]" data-testid="quorum-impact">
          <p>
            Managers: {i.before.managers} → {i.after.managers}; tolerates {i.before.tolerates} → {i.after.tolerates} lost.
          </p>
          {i.refusal ? (
            <p role="alert" className="rounded-md bg-crit-soft px-3 py-2 text-crit">
              Refused: {i.refusal}
            </p>
          ) : i.warning ? (
            <p role="alert" data-testid="quorum-warning" className="rounded-md bg-warn-soft px-3 py-2 text-warn">
              {i.warning}
            </p>
          ) : (
            <p className="text-muted">3 or 5 managers is what Docker recommends; this keeps the swarm there.</p>
          )}
        </div>
      )}
    </ConfirmDialog>
  );
}

/** Rotate a join token (admins): old tokens stop working for new joins; running nodes are not affected. */
export function RotateTokensButton() {
  const trpc = useTRPC();
  const [role, setRole] = useState<"worker" | "manager" | null>(null);
  const rotate = useAction(
    trpc.swarmNodes.rotateToken.mutationOptions({
      onSuccess: (_r, v) => {
        notify.ok(`The ${v.role} join token was rotated`);
        setRole(null);
      },
      onError: (e, v) => notify.error(e, `Rotate the ${v.role} token`),
    }),
  );
  return (
    <>
      <ActionMenu
        label="Rotate join tokens"
        trigger={
          <span className="inline-flex items-center gap-1.5" data-testid="rotate-tokens">
            <RotateCcw aria-hidden className="size-3.5" /> Rotate…
          </span>
        }
        items={(["worker", "manager"] as const).map((r) => ({ label: `Rotate the ${r} token`, onSelect: () => setRole(r), testId: `rotate-${r}` }))}
      />
      <ConfirmDialog open={role !== null} title={`Rotate the ${role ?? ""} join token`} confirmLabel="Rotate" danger busy={rotate.isPending} onConfirm={() => role && rotate.mutate({ role })} onCancel={() => setRole(null)}>
        <p className="text-[13px]">Machines that have not joined yet with the old token will be refused, including workers being built right now. Nodes already in the swarm are not affected. The rotation is recorded in the audit log.</p>
      </ConfirmDialog>
    </>
  );
}

/**
 * "Create swarm" where no host reports one: a manager VM built the same way runs `docker swarm
 * init`. Nimbus reads a swarm through its manager's agent, so the manager is named after a host of
 * the fleet whose machine does not answer yet (the dialog proposes those).
 */
export function CreateSwarmButton({ bridges }: { bridges: readonly string[] }) {
  const trpc = useTRPC();
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  const planned = (hosts.data ?? []).filter((h) => h.state !== "online" && !h.roles.includes("hypervisor") && !h.roles.includes("storage")).map((h) => h.name);
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [bridge, setBridge] = useState(bridges[0] ?? "");
  const chosen = name || planned[0] || "";
  const create = useAction(
    trpc.swarmNodes.createSwarm.mutationOptions({
      onSuccess: ({ operationId }) => {
        watchOperation(operationId);
        notify.started({ id: operationId, summary: `Create a swarm with ${chosen}` });
        setOpen(false);
      },
    }),
  );
  return (
    <>
      <Button variant="primary" onClick={() => setOpen(true)} data-testid="create-swarm">
        Create swarm
      </Button>
      <Dialog
        open={open}
        onOpenChange={setOpen}
        testId="create-swarm-dialog"
        title="Create a swarm"
        description="A manager VM is built from the Docker-ready image; at first boot it mounts the datastore through the VIP and runs docker swarm init. Nimbus reads the swarm through the manager's agent: name it after a host of the fleet whose machine is not built yet."
        footer={
          <>
            <Button onClick={() => setOpen(false)}>Cancel</Button>
            <Button variant="primary" busy={create.isPending} disabled={!chosen || !bridge} onClick={() => create.mutate({ name: chosen, bridge, vcpus: 2, memoryMiB: 2048, diskGiB: 20 } as never)} data-testid="create-swarm-submit">
              Build the manager
            </Button>
          </>
        }
      >
        <div className="flex flex-col gap-3">
          <Field
            label="Manager"
            htmlFor="cs-name"
            hint={planned.length ? `Hosts of the fleet that do not answer yet: ${planned.join(", ")}.` : "No host of the fleet is waiting for its machine: add the manager to the fleet's hosts first."}
          >
            <Input id="cs-name" value={chosen} list="cs-planned" onChange={(e) => setName(e.target.value)} />
          </Field>
          <datalist id="cs-planned">
            {planned.map((h) => (
              <option key={h} value={h} />
            ))}
          </datalist>
          <Field label="Bridge" htmlFor="cs-bridge" hint="The network the swarm's VMs share.">
            <Input id="cs-bridge" value={bridge} onChange={(e) => setBridge(e.target.value)} />
          </Field>
          {create.error && (
            <p role="alert" className="rounded-md bg-crit-soft px-3 py-2 text-[13px] text-crit">
              {errorInfo(create.error).message}
            </p>
          )}
        </div>
      </Dialog>
    </>
  );
}
