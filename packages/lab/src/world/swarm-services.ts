import { AgentError, conflict, notFound, type JobContext } from "@nimbus/agent";
import {
  AgentErrorCode,
  nodesCarrying,
  updateCancelled,
  updateOutcome,
  type OverlayNetwork,
  type ServiceRollbackParams,
  type ServiceRollbackProgress,
  type ServiceUpdateParams,
  type ServiceUpdateProgress,
} from "@nimbus/domain";
import { createHash } from "node:crypto";
import { randomDockerId } from "./ids.js";
import type { ServiceState, SwarmState, TaskState } from "./model.js";
import { TIMINGS } from "./timings.js";
import type { World } from "./world.js";

/**
 * A service's image update and rollback in the lab, as docker does them: one task at a time, the
 * new task started first (start-first), the old one stopped once the new one runs. A task of an
 * image the lab was told to fail (`fail-service-image IMAGE`) is rejected with "No such image"
 * and the update pauses, docker's default failure action; the old task keeps running. The job
 * only follows the service's UpdateStatus, as the real agent does: the update goes on without it.
 */

const failing = new WeakMap<World, Set<string>>();
export const failingServiceImages = (world: World): Set<string> => {
  let s = failing.get(world);
  if (!s) failing.set(world, (s = new Set()));
  return s;
};

const held = new WeakMap<World, Set<string>>();
/**
 * Images whose updates hold after their first new task (`hold-service-update IMAGE`, a test
 * hook): the update stays in progress until cancelled (its rollback is not held) or released,
 * so a test can act on a running update at any lab speed.
 */
export const heldServiceUpdates = (world: World): Set<string> => {
  let s = held.get(world);
  if (!s) held.set(world, (s = new Set()));
  return s;
};

const imageOf = (svc: ServiceState) => svc.image ?? svc.spec.image;
const iso = () => new Date().toISOString();

type Progress = ServiceUpdateProgress | ServiceRollbackProgress;

interface Running {
  target: string;
  rollback: boolean;
  /** The new task started and the one it replaces. */
  pending: { started: string; replaces: string } | null;
  stop: () => void;
}
const updates = new WeakMap<ServiceState, Running>();

export function labServiceUpdate(world: World, p: ServiceUpdateParams | ServiceRollbackParams, ctx: JobContext<Progress>): Promise<Progress> {
  const sim = world.swarmSim!;
  sim.requireManager();
  const svc = sim.service(p.service);
  const rollback = !("image" in p);
  const current = imageOf(svc);
  const target = rollback ? svc.previousImage : p.image;
  if (!target) throw new AgentError(AgentErrorCode.toolFailed, `docker service rollback ${p.service}: service ${p.service} does not have a previous spec`);
  if (!rollback && target === current && svc.update?.state !== "paused") throw conflict(`${p.service} already runs ${target}`);
  start(world, svc, target, rollback);
  return follow(world, svc, p.service, target, rollback, ctx);
}

function start(world: World, svc: ServiceState, target: string, rollback: boolean) {
  const sw = world.swarm!;
  const name = svc.spec.name;
  // An update interrupted mid-task (a cancel's rollback, another update): the task it had just
  // started goes, the one it was replacing stays; the new run replaces whatever is not its image.
  const previous = updates.get(svc);
  const started = previous?.pending && sw.tasks.find((t) => t.id === previous.pending!.started);
  if (started && started.desiredState === "running") Object.assign(started, { desiredState: "shutdown", state: "shutdown", since: iso() });
  previous?.stop();
  // Tasks started before this update keep the image they were started with.
  for (const t of sw.tasks) if (t.service === name) t.image ??= imageOf(svc);
  svc.previousImage = imageOf(svc);
  svc.image = target;
  svc.updatedAt = iso();
  svc.update = { state: rollback ? "rollback_started" : "updating", message: rollback ? "manually requested rollback" : "update in progress", startedAt: iso(), completedAt: null };
  // The scheduler leaves the service to the update until it ends.
  svc.nextStepAt = Number.POSITIVE_INFINITY;
  const run: Running = { target, rollback, pending: null, stop: () => {} };
  const ticker = world.clock.every(TIMINGS.swarmTickMs, () => step(world, svc, run));
  run.stop = () => {
    ticker();
    updates.delete(svc);
  };
  updates.set(svc, run);
  world.addTicker(() => run.stop());
  changed(world);
}

function step(world: World, svc: ServiceState, run: Running) {
  const sim = world.swarmSim!;
  if (!sim.managerAlive()) return;
  const sw = world.swarm!;
  const name = svc.spec.name;
  const at = iso();
  if (run.pending && !run.rollback && heldServiceUpdates(world).has(run.target)) return;
  if (run.pending) {
    const fresh = sw.tasks.find((t) => t.id === run.pending!.started);
    if (fresh?.state === "starting") return;
    const old = sw.tasks.find((t) => t.id === run.pending!.replaces);
    run.pending = null;
    if (fresh?.state === "running" && old && old.desiredState === "running") {
      old.desiredState = "shutdown";
      old.state = "shutdown";
      old.since = at;
      changed(world);
      return;
    }
    if (fresh && fresh.state !== "running") return pause(world, svc, run, fresh);
  }
  const old = sw.tasks.find((t) => t.service === name && t.desiredState === "running" && (t.image ?? svc.previousImage) !== run.target);
  if (!old) return finish(world, svc, run);
  const now = world.clock.now();
  const node = sw.nodes.get(old.node);
  const task: TaskState = {
    id: randomDockerId(),
    service: name,
    slot: old.slot,
    node: node && node.status === "ready" ? node.hostname : old.node,
    desiredState: "running",
    state: "starting",
    error: null,
    probe: { up: false, streak: 0, since: at },
    probesFrom: now + TIMINGS.taskStartMs,
    createdAt: now,
    image: run.target,
    since: at,
  };
  if (failingServiceImages(world).has(run.target)) {
    task.state = "rejected";
    task.desiredState = "shutdown";
    task.error = `No such image: ${run.target}`;
  }
  sw.tasks.push(task);
  run.pending = { started: task.id, replaces: old.id };
  changed(world);
}

function pause(world: World, svc: ServiceState, run: Running, failed: TaskState) {
  svc.update = {
    state: run.rollback ? "rollback_paused" : "paused",
    message: `${run.rollback ? "rollback" : "update"} paused due to failure or early termination of task ${failed.id}`,
    startedAt: svc.update?.startedAt ?? iso(),
    completedAt: null,
  };
  svc.nextStepAt = 0;
  run.stop();
  changed(world);
}

function finish(world: World, svc: ServiceState, run: Running) {
  svc.update = {
    state: run.rollback ? "rollback_completed" : "completed",
    message: run.rollback ? "rollback completed" : "update completed",
    startedAt: svc.update?.startedAt ?? iso(),
    completedAt: iso(),
  };
  svc.nextStepAt = 0;
  run.stop();
  changed(world);
}

const changed = (world: World) => world.changed(world.swarmSim!.manager.hostname, "swarm");

function follow(world: World, svc: ServiceState, service: string, target: string, rollback: boolean, ctx: JobContext<Progress>): Promise<Progress> {
  const kind = rollback ? "service-rollback" : "service-update";
  let startedAt = svc.update?.startedAt;
  /** Set once a cancelled update is being rolled back: the image it goes back to. */
  let undoing: string | null = null;
  return new Promise((resolve, reject) => {
    let last = "";
    const finishWith = (err: Error | null, progress?: Progress) => {
      unwatch();
      ctx.signal.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve(progress!);
    };
    const check = () => {
      const sw = world.swarm!;
      if (!sw.services.has(service)) return finishWith(notFound(`service ${service}`));
      const st = svc.update!;
      if (undoing && startedAt === undefined) startedAt = st.startedAt;
      if (st.startedAt !== startedAt) return finishWith(conflict(`${service} was updated again meanwhile`));
      const image = undoing ?? target;
      const tasks = sw.tasks.filter((t) => t.service === service);
      const meant = tasks.filter((t) => t.desiredState === "running");
      const failed = [...tasks].reverse().find((t) => t.error);
      const progress = {
        kind,
        service,
        image,
        state: st.state,
        message: st.message,
        updated: meant.filter((t) => t.state === "running" && t.image === image).length,
        total: new Set(meant.map((t) => t.slot ?? t.node)).size,
        taskError: failed?.error ?? null,
      } as Progress;
      const text = JSON.stringify(progress);
      if (text !== last) ctx.report(progress);
      last = text;
      if (undoing) {
        // The cancelled update's rollback: the job ends (cancelled) once docker ends it.
        if (updateOutcome(st.state, true) !== null) finishWith(conflict(updateCancelled(service, undoing, target, progress)));
        return;
      }
      const outcome = updateOutcome(st.state, rollback);
      if (outcome === "succeeded") return finishWith(null, progress);
      if (outcome === "failed") {
        const why = [st.message, progress.taskError].filter(Boolean).join("; ");
        return finishWith(new AgentError(AgentErrorCode.toolFailed, `${rollback ? "rollback" : "update"} of ${service} to ${target} ${st.state.replace("_", " ")}${why ? `: ${why}` : ""}`));
      }
    };
    const onAbort = () => {
      // A rollback goes on (rolling it back would re-apply the update): cancel stops following.
      if (rollback) return finishWith(conflict(`stopped following the rollback of ${service}; docker finishes it`));
      // An update is cancelled by docker's rollback to the previous image, followed to its end.
      const previous = svc.previousImage;
      if (!world.swarm!.services.has(service) || !previous || !world.swarmSim!.managerAlive())
        return finishWith(conflict(`stopped following the update of ${service}; docker goes on with it (the manager could not roll it back)`));
      // start() announces the change at once: the status it sets is the one to follow from now.
      undoing = previous;
      startedAt = undefined;
      start(world, svc, previous, true);
      check();
    };
    const unwatch = world.watch(world.swarmSim!.manager.hostname, "swarm", check);
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    check();
  });
}

/** Section fields of a service and its tasks that the update adds. */
export const labServiceImage = imageOf;
export const labTaskFields = (svc: ServiceState, t: TaskState) => ({ image: t.image ?? imageOf(svc), since: t.since ?? t.probe.since });

const netId = (name: string) => createHash("sha256").update(`net:${name}`).digest("hex").slice(0, 25);

/**
 * The lab's overlay networks: the routing mesh's ingress (services publishing in ingress mode) and
 * one default network per stack, as `docker stack deploy` makes them.
 */
export function labOverlays(sw: SwarmState): OverlayNetwork[] {
  const tasks = sw.tasks.map((t) => ({ serviceName: t.service, node: t.node, desiredState: t.desiredState, state: t.state }));
  const services = [...sw.services.values()];
  const stacks = [...new Set(services.flatMap((s) => (s.spec.stack ? [s.spec.stack] : [])))].sort();
  const ready = [...sw.nodes.values()].filter((n) => n.status === "ready").map((n) => n.hostname);
  const ingress = services.filter((s) => s.spec.ports.some((p) => p.mode === "ingress")).map((s) => s.spec.name).sort();
  return [
    { id: netId("ingress"), name: "ingress", ingress: true, attachable: false, subnets: [{ subnet: "10.0.0.0/24", gateway: "10.0.0.1" }], services: ingress, nodes: nodesCarrying(ingress, tasks, ready) },
    ...stacks.map((stack, i) => {
      const on = services.filter((s) => s.spec.stack === stack).map((s) => s.spec.name).sort();
      return { id: netId(`${stack}_default`), name: `${stack}_default`, ingress: false, attachable: false, subnets: [{ subnet: `10.0.${i + 1}.0/24`, gateway: `10.0.${i + 1}.1` }], services: on, nodes: nodesCarrying(on, tasks) };
    }),
  ];
}

/** The network ids a service is on (see labOverlays). */
export function labServiceNetworks(svc: ServiceState): string[] {
  return [...(svc.spec.ports.some((p) => p.mode === "ingress") ? [netId("ingress")] : []), ...(svc.spec.stack ? [netId(`${svc.spec.stack}_default`)] : [])];
}
