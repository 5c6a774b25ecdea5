import { isFinal, type HostRecord, type Job, type JobProgress, type Operation, type OperationState } from "@nimbus/domain";

/**
 * Pure rules that move an operation from the agent's reports: job updates while connected, and
 * the inventory when the agent no longer knows the job (it restarted while we were away).
 */
const stateOfJob: Record<Job["state"], OperationState> = {
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  cancelled: "cancelled",
};

export function applyJob(op: Operation, job: Job, now: string): Operation {
  if (isFinal(op.state)) return op;
  const state = stateOfJob[job.state];
  const final = isFinal(state);
  return {
    ...op,
    state,
    progress: forwardOnly(op.progress, job.progress),
    // A create's or delete's steps travel whole in its progress: the agent's record is the task view.
    steps: job.progress && "steps" in job.progress ? job.progress.steps : op.steps,
    error: final && state !== "succeeded" ? (job.error ?? (state === "cancelled" ? "cancelled" : "failed without a message")) : null,
    updatedAt: now,
    finishedAt: final ? (job.finishedAt ?? now) : null,
  };
}

/**
 * The bar never runs backwards: an update that arrives late, or a tool that re-reads a lower
 * figure, keeps the highest percent (and iteration) seen so far; the other fields are current.
 */
export function forwardOnly(prev: JobProgress | null, next: JobProgress | null): JobProgress | null {
  if (!next) return prev;
  if (!prev || prev.kind !== next.kind || !("percent" in next) || !("percent" in prev)) return next;
  const percent = Math.max(prev.percent, next.percent);
  if (next.kind === "migrate" && prev.kind === "migrate") return { ...next, percent, iteration: Math.max(prev.iteration, next.iteration) };
  return { ...next, percent } as JobProgress;
}

const isUp = (d: { state: string }) => d.state === "running" || d.state === "paused";
const runsOn = (host: HostRecord | undefined, domain: string) => !!host?.inventory.virt?.domains.some((d) => d.name === domain && isUp(d));

/**
 * Settles an operation whose job the agent does not know, from what the hosts report now.
 * Returns null while the answer cannot be known yet (a host it depends on is not online).
 */
export function settleLostJob(op: Operation, hosts: ReadonlyMap<string, HostRecord>, now: string): Operation | null {
  const settle = (state: "succeeded" | "failed", note: string): Operation =>
    state === "succeeded"
      ? { ...op, state, summary: `${op.summary} (${note})`, error: null, updatedAt: now, finishedAt: now }
      : { ...op, state, error: note, updatedAt: now, finishedAt: now };
  const online = (name: string) => {
    const h = hosts.get(name);
    return h?.connection.state === "online" ? h : undefined;
  };

  switch (op.kind) {
    case "migrate": {
      const source = online(op.host);
      const destName = String(op.params.destination ?? "");
      const dest = online(destName);
      if (!source || !dest) return null;
      const vm = op.target.name;
      const onSource = runsOn(source, vm);
      const onDest = runsOn(dest, vm);
      if (onDest && !onSource) return settle("succeeded", `outcome reconciled: ${vm} runs on ${destName}`);
      if (onDest && onSource) return settle("failed", `outcome reconciled: ${vm} runs on both ${op.host} and ${destName}`);
      if (onSource) return settle("failed", `outcome reconciled: VM still on source ${op.host}`);
      return settle("failed", `outcome reconciled: ${vm} runs on neither ${op.host} nor ${destName}`);
    }
    case "scale": {
      const manager = online(op.host);
      if (!manager?.inventory.swarm) return null;
      const wanted = Number(op.params.replicas);
      const svc = manager.inventory.swarm.services.find((s) => s.name === op.target.name);
      if (!svc) return settle("failed", `outcome reconciled: service ${op.target.name} no longer exists`);
      if (svc.replicasDesired === wanted)
        return settle("succeeded", `outcome reconciled: ${svc.replicasDesired} replicas desired, ${svc.replicasRunning} running`);
      return settle("failed", `outcome reconciled: service has ${svc.replicasDesired} replicas desired, not ${wanted}`);
    }
    case "service-update":
    case "service-rollback": {
      const manager = online(op.host);
      if (!manager?.inventory.swarm) return null;
      const svc = manager.inventory.swarm.services.find((s) => s.name === op.target.name);
      if (!svc) return settle("failed", `outcome reconciled: service ${op.target.name} no longer exists`);
      const state = svc.update?.state ?? "idle";
      const done = op.kind === "service-update" ? state === "completed" && svc.image === op.params.image : state === "rollback_completed";
      if (done) return settle("succeeded", `outcome reconciled: ${svc.name} runs ${svc.image}`);
      if (state === "updating" || state === "rollback_started") return null;
      return settle("failed", `outcome reconciled: the update of ${svc.name} is ${state.replace("_", " ")}${svc.update?.message ? `: ${svc.update.message}` : ""}`);
    }
    case "storage-move": {
      const host = online(op.host);
      if (!host) return null;
      const vm = op.target.name;
      const disk = host.inventory.virt?.domains.find((d) => d.name === vm)?.disks.find((k) => k.target === op.params.disk);
      if (!disk) return settle("failed", `outcome reconciled: ${vm} or its disk ${String(op.params.disk)} is no longer on ${op.host}`);
      if (disk.path === op.params.destinationPath) return settle("succeeded", `outcome reconciled: ${disk.target} of ${vm} is on ${String(op.params.toDatastore)}`);
      return settle("failed", `outcome reconciled: ${disk.target} of ${vm} still uses ${disk.path}`);
    }
    case "create": {
      const host = online(op.host);
      if (!host?.inventory.virt) return null;
      const vm = host.inventory.virt.domains.find((d) => d.name === op.target.name);
      if (vm?.state === "running") return settle("succeeded", `outcome reconciled: ${vm.name} runs on ${op.host}`);
      if (vm) return settle("failed", `outcome reconciled: ${op.host}'s agent lost the job; ${vm.name} was defined but is ${vm.state}; removing what the create made`);
      return settle("failed", `outcome reconciled: ${op.host}'s agent lost the job before ${op.target.name} was defined; removing what the create made`);
    }
    case "delete": {
      const host = online(op.host);
      if (!host?.inventory.virt) return null;
      const vm = host.inventory.virt.domains.find((d) => d.name === op.target.name);
      if (!vm) return settle("succeeded", `outcome reconciled: ${op.target.name} is no longer defined on ${op.host}`);
      return settle("failed", `outcome reconciled: ${op.host}'s agent lost the job; ${vm.name} is still defined there`);
    }
    case "stack-deploy": {
      const manager = online(op.host);
      if (!manager?.inventory.swarm) return null;
      const wanted = Array.isArray(op.params.services) ? op.params.services.map(String) : [];
      const present = manager.inventory.swarm.services.filter((s) => wanted.includes(s.name));
      const short = present.filter((s) => s.replicasRunning < s.replicasDesired).map((s) => `${s.name} ${s.replicasRunning}/${s.replicasDesired}`);
      if (present.length === wanted.length && !short.length) return settle("succeeded", `outcome reconciled: ${op.target.name} runs its ${wanted.length} services`);
      const missing = wanted.filter((n) => !present.some((s) => s.name === n));
      return settle("failed", `outcome reconciled: ${op.host}'s agent lost the job; ${[...missing.map((n) => `${n} missing`), ...short].join(", ")}`);
    }
    case "stack-remove": {
      const manager = online(op.host);
      if (!manager?.inventory.swarm) return null;
      const left = manager.inventory.swarm.services.filter((s) => s.stack === op.target.name).map((s) => s.name);
      if (!left.length) return settle("succeeded", `outcome reconciled: ${op.target.name} has no services left`);
      return settle("failed", `outcome reconciled: ${op.host}'s agent lost the job; ${left.join(", ")} still there`);
    }
    default:
      return settle("failed", `outcome reconciled: ${op.host}'s agent lost the job; its result is unknown`);
  }
}
