import { AgentError, type JobContext } from "@nimbus/agent";
import {
  AgentErrorCode,
  STACK_TENANT_LABEL,
  StackStepKeeper,
  TenantSlug,
  judgeStack,
  stackDeployCancelled,
  stackDeploySteps,
  stackRemoveSteps,
  withErrors,
  type StackDeployParams,
  type StackDeployProgress,
  type StackRemoveParams,
  type StackRemoveProgress,
  type StackSample,
} from "@nimbus/domain";
import { checkCompose, normalizeImage } from "@nimbus/domain/compose";
import { envDigest } from "@nimbus/domain/stack-env";
import { randomDockerId } from "./ids.js";
import type { ServiceState, SwarmState } from "./model.js";
import { isLiveTask } from "./sections/swarm.js";
import type { World } from "./world.js";

/**
 * Stacks in the simulated swarm: `docker stack deploy` creates or updates the file's services
 * (the lab's scheduler then starts their tasks one at a time, as it does for a scale), and the
 * job follows them with the same rule as the real agent (`judgeStack`). Each node has a set of
 * images; a task placed on a node without its image is rejected with docker's "No such image",
 * and the scheduler tries again, as swarm does. Fault `fail-stack-deploy STACK`: docker refuses
 * the next deploys of that stack.
 */

/** Images every simulated node has besides the scenario's own services' images. */
export const LAB_BASE_IMAGES = ["busybox:latest", "nginx:1.25", "nginx:latest", "redis:7", "traefik:2.11", "postgres:16"];

interface StackState {
  images: Map<string, Set<string>>;
  envDigests: Map<string, string>;
  failingDeploys: Set<string>;
}

const states = new WeakMap<SwarmState, StackState>();

/** The lab's stack bookkeeping for a swarm (nodes' images, services' env digests, faults). */
export function stackState(sw: SwarmState): StackState {
  let s = states.get(sw);
  if (!s) {
    const base = new Set([...LAB_BASE_IMAGES, ...[...sw.services.values()].map((x) => normalizeImage(x.spec.image))]);
    s = { images: new Map([...sw.nodes.keys()].map((n) => [n, new Set(base)])), envDigests: new Map(), failingDeploys: new Set() };
    states.set(sw, s);
  }
  return s;
}

/** What `docker image ls` says on this node. */
export function nodeImages(sw: SwarmState, node: string): string[] {
  const s = stackState(sw);
  if (!s.images.has(node) && sw.nodes.has(node)) s.images.set(node, new Set(LAB_BASE_IMAGES));
  return [...(s.images.get(node) ?? [])].sort();
}

export const nodeHasImage = (sw: SwarmState, node: string, image: string) => nodeImages(sw, node).includes(normalizeImage(image));

export const noSuchImage = (image: string) => `No such image: ${image}`;

export class LabStacks {
  constructor(private readonly world: World) {}

  private get sw(): SwarmState {
    return this.world.swarm!;
  }

  private get manager(): string {
    return this.world.swarmSim!.manager.hostname;
  }

  private changed() {
    this.world.changed(this.manager, "swarm");
  }

  private stackServices(stack: string): ServiceState[] {
    return [...this.sw.services.values()].filter((s) => s.spec.stack === stack);
  }

  private sample(stack: string, known: ReadonlySet<string>): StackSample {
    const failures = new Map<string, { count: number; error: string }>();
    // Newest first, as docker lists them.
    for (const t of [...this.sw.tasks].reverse()) {
      if (known.has(t.id) || t.state !== "failed" || !this.sw.services.get(t.service)?.spec.stack || this.sw.services.get(t.service)!.spec.stack !== stack) continue;
      const f = failures.get(t.service);
      failures.set(t.service, { count: (f?.count ?? 0) + 1, error: f?.error ?? t.error ?? "task failed" });
    }
    const services = this.stackServices(stack).map((s) => ({
      name: s.spec.name,
      desired: s.spec.mode === "global" ? [...this.sw.nodes.values()].filter((n) => n.status === "ready" && n.availability === "active").length : s.desired,
      running: this.sw.tasks.filter((t) => t.service === s.spec.name && isLiveTask(this.sw, t)).length,
      error: null,
    }));
    return { services, failures };
  }

  /** Applies the file the way docker stack deploy does: create what is new, update what changed, prune what is gone. */
  private apply(p: StackDeployParams): string[] {
    // As docker 20.10 (the real lab's): a file without a version is format 1.0, which stack deploy refuses.
    if (!/^version\s*:/m.test(p.compose)) throw new AgentError(AgentErrorCode.toolFailed, "docker stack deploy --compose-file exited with 1: unsupported Compose file version: 1.0");
    const check = checkCompose(p.compose, { stack: p.stack, tenant: null, running: [], nodeImages: null });
    if (!check.model) throw new AgentError(AgentErrorCode.toolFailed, `docker stack deploy: ${check.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
    const lines: string[] = [];
    const at = new Date().toISOString();
    const now = this.world.clock.now();
    const wanted = new Set<string>();
    for (const svc of check.model.services) {
      const name = `${p.stack}_${svc.name}`;
      wanted.add(name);
      const label = svc.labels[STACK_TENANT_LABEL];
      const tenant = label && TenantSlug.safeParse(label).success ? label : null;
      const spec = {
        name,
        image: svc.image,
        mode: svc.mode,
        replicas: svc.replicas,
        tenant,
        stack: p.stack,
        labels: svc.labels,
        ports: svc.ports.filter((x) => x.published !== null).map((x) => ({ published: x.published!, target: x.target, protocol: x.protocol, mode: x.mode })),
      };
      const existing = this.sw.services.get(name);
      stackState(this.sw).envDigests.set(name, envDigest(svc.env));
      if (!existing) {
        this.sw.services.set(name, { id: randomDockerId(), spec, desired: svc.replicas, updatedAt: at, healthFault: false, nextStepAt: now });
        lines.push(`Creating service ${name}`);
        continue;
      }
      const imageChanged = normalizeImage(existing.spec.image) !== normalizeImage(svc.image);
      existing.spec = spec;
      existing.desired = svc.replicas;
      existing.updatedAt = at;
      // A new image replaces every task (the lab does it at once; docker rolls one at a time).
      if (imageChanged)
        for (const t of this.sw.tasks) if (t.service === name && t.desiredState === "running") Object.assign(t, { desiredState: "shutdown", state: "shutdown" });
      lines.push(`Updating service ${name} (id: ${existing.id})`);
    }
    if (p.prune) for (const s of this.stackServices(p.stack)) if (!wanted.has(s.spec.name)) lines.push(this.removeService(s.spec.name));
    return lines;
  }

  private removeService(name: string): string {
    this.sw.services.delete(name);
    stackState(this.sw).envDigests.delete(name);
    for (let i = this.sw.tasks.length - 1; i >= 0; i--) if (this.sw.tasks[i]!.service === name) this.sw.tasks.splice(i, 1);
    return `Removing service ${name}`;
  }

  /** Resolves once `done` says so after a change of the manager's section, or rejects on timeout/cancel. */
  private follow(check: () => boolean | Error, timeoutMs: number, signal: AbortSignal, onTimeout: () => Error, onCancel: () => Error): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (err?: Error) => {
        unwatch();
        stopTimer();
        signal.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve();
      };
      const run = () => {
        const r = check();
        if (r === true) finish();
        else if (r instanceof Error) finish(r);
      };
      const onAbort = () => finish(onCancel());
      const unwatch = this.world.watch(this.manager, "swarm", run);
      const stopTimer = this.world.clock.after(timeoutMs, () => finish(onTimeout()));
      signal.addEventListener("abort", onAbort, { once: true });
      run();
    });
  }

  async deploy(p: StackDeployParams, ctx: JobContext<StackDeployProgress>): Promise<StackDeployProgress> {
    const steps = new StackStepKeeper<StackDeployProgress>("stack-deploy", stackDeploySteps(p.stack, p.services, new Date().toISOString()), ctx.report);
    const failed = (step: "deploy" | "converge", message: string) => {
      steps.finish(step, "failed", message);
      steps.skipRest();
      return new AgentError(AgentErrorCode.toolFailed, message);
    };
    steps.start("deploy");
    steps.log("deploy", `docker stack deploy --compose-file - --resolve-image never${p.prune ? " --prune" : ""} ${p.stack}`);
    if (stackState(this.sw).failingDeploys.has(p.stack))
      throw failed("deploy", `docker stack deploy ${p.stack} exited with 1: failed to update service ${p.stack}: Error response from daemon: rpc error: code = Unknown desc = update out of sequence`);
    const known = new Set(this.sw.tasks.map((t) => t.id));
    try {
      steps.log("deploy", ...this.apply(p));
    } catch (e) {
      throw failed("deploy", e instanceof Error ? e.message : String(e));
    }
    steps.finish("deploy", "succeeded");
    this.changed();
    steps.start("converge");
    let last = "";
    await this.follow(
      () => {
        const sample = this.sample(p.stack, known);
        steps.services(withErrors(sample));
        const now = sample.services.map((s) => `${s.name} ${s.running}/${s.desired}`).join(", ");
        if (now !== last) steps.log("converge", now);
        last = now;
        const verdict = judgeStack(p.services, sample);
        if (verdict.state === "converged") return true;
        if (verdict.state === "failed") return failed("converge", verdict.error);
        return false;
      },
      p.timeoutMs,
      ctx.signal,
      () => failed("converge", `${p.stack} did not converge within ${Math.round(p.timeoutMs / 1000)} s (${last})`),
      // Cancel stops following: docker keeps what it deployed; the error says which services converged.
      () => failed("converge", stackDeployCancelled(p.stack, p.services, steps.current().services)),
    );
    steps.finish("converge", "succeeded", `${p.services.length} service${p.services.length === 1 ? "" : "s"} converged`);
    return steps.current();
  }

  async remove(p: StackRemoveParams, ctx: JobContext<StackRemoveProgress>): Promise<StackRemoveProgress> {
    const steps = new StackStepKeeper<StackRemoveProgress>("stack-remove", stackRemoveSteps(p.stack), ctx.report);
    steps.start("remove");
    steps.log("remove", `docker stack rm ${p.stack}`);
    const services = this.stackServices(p.stack);
    if (!services.length) steps.log("remove", `Nothing found in stack: ${p.stack}`);
    // docker stops the tasks first and forgets the services a moment later.
    for (const s of services) {
      s.desired = 0;
      for (const t of this.sw.tasks) if (t.service === s.spec.name && t.desiredState === "running") Object.assign(t, { desiredState: "shutdown", state: "shutdown" });
      steps.log("remove", `Removing service ${s.spec.name}`);
    }
    steps.finish("remove", "succeeded");
    this.changed();
    steps.start("wait-gone");
    await new Promise<void>((resolve) => this.world.clock.after(200, resolve));
    for (const s of services) this.removeService(s.spec.name);
    this.changed();
    steps.services([]);
    steps.finish("wait-gone", "succeeded", `${p.stack} has no services left`);
    return steps.current();
  }
}

const labs = new WeakMap<World, LabStacks>();
export const labStacks = (world: World): LabStacks => {
  let l = labs.get(world);
  if (!l) labs.set(world, (l = new LabStacks(world)));
  return l;
};

/** docker image rm on a node (a lab fault); false when it had no such image. */
export function removeImage(sw: SwarmState, node: string, image: string): boolean {
  nodeImages(sw, node);
  return stackState(sw).images.get(node)!.delete(normalizeImage(image));
}

export function addImage(sw: SwarmState, node: string, image: string): void {
  nodeImages(sw, node);
  stackState(sw).images.get(node)!.add(normalizeImage(image));
}
