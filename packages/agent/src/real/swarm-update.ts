import {
  AgentErrorCode,
  updateCancelled,
  updateOutcome,
  type ServiceRollbackParams,
  type ServiceRollbackProgress,
  type ServiceUpdateParams,
  type ServiceUpdateProgress,
  type SwarmTask,
} from "@nimbus/domain";
import type { JobContext } from "../drivers.js";
import { AgentError, conflict, notFound } from "../errors.js";
import { parseServicePs } from "./parse/docker.js";
import { parseServiceUpdateInspect, withoutDigest, type ServiceUpdateView } from "./swarm-update-parse.js";
import type { Tool } from "./tool.js";
import { classifyToolError, sleep } from "./util.js";

const DOCKER_NOT_FOUND = /No such service|service .* not found|could not find/i;
const NOT_MANAGER = /not a swarm manager|This node is not part of a swarm/i;
const NO_PREVIOUS = /does not have a previous spec/i;

export interface UpdateTiming {
  pollMs: number;
  timeoutMs: number;
}

type Progress = ServiceUpdateProgress | ServiceRollbackProgress;

/**
 * `docker service update --image` (or `docker service rollback`), detached, then followed: every
 * pollMs the service's UpdateStatus and its tasks, until docker says the update completed, paused
 * or rolled back (docker's own failure action decides which), reported as progress. A status
 * left from an earlier update is not taken for this one: the new one has another StartedAt.
 * Cancelling an update runs docker's rollback to the previous spec and follows it to its end
 * (the job ends cancelled, saying how the rollback ended); cancelling a rollback stops following.
 */
export async function runServiceUpdate(
  docker: Tool,
  host: string,
  p: ServiceUpdateParams | ServiceRollbackParams,
  ctx: JobContext<Progress>,
  timing: UpdateTiming,
): Promise<Progress> {
  const rollback = !("image" in p);
  const kind = rollback ? "service-rollback" : "service-update";
  const what = `service ${p.service} on ${host}`;
  const before = await inspect(docker, p.service, what);
  const target = rollback ? before.previousImage : withoutDigest(p.image);
  if (!target) throw conflict(`${p.service} has no previous version to roll back to`);
  if (!rollback && target === before.image && before.update?.state !== "paused")
    throw conflict(`${p.service} already runs ${target}`);
  try {
    await docker.run(
      rollback
        ? ["service", "rollback", "--detach", "--", p.service]
        : // Images are loaded on the nodes (the lab has no registry): resolving a digest would fail or pin a remote one.
          ["service", "update", "--detach", "--no-resolve-image", "--image", target, "--", p.service],
    );
  } catch (e) {
    throw classifyToolError(e, what, { notFound: DOCKER_NOT_FOUND, conflict: new RegExp(`${NOT_MANAGER.source}|${NO_PREVIOUS.source}`, "i") });
  }
  let deadline = Date.now() + timing.timeoutMs;
  let last = "";
  let progress: Progress | null = null;
  /** Set once a cancelled update is being rolled back: the image it goes back to, and the status it started from. */
  let undoing: { image: string; after: string | null } | null = null;
  for (;;) {
    if (ctx.signal.aborted && !undoing) {
      // A rollback goes on (rolling it back would re-apply the update): cancel stops following.
      if (rollback || !before.image) throw conflict(`stopped following the ${rollback ? "rollback" : "update"} of ${p.service}; docker ${rollback ? "finishes it" : "goes on with it"}`);
      // An update is cancelled by docker's own rollback to the previous spec, followed to its end.
      const at = await inspect(docker, p.service, `cancelling ${what}`);
      try {
        await docker.run(["service", "rollback", "--detach", "--", p.service]);
      } catch (e) {
        const err = classifyToolError(e, `rolling back ${what}`, { notFound: DOCKER_NOT_FOUND, conflict: new RegExp(`${NOT_MANAGER.source}|${NO_PREVIOUS.source}`, "i") });
        throw conflict(`stopped following the update of ${p.service}; docker goes on with it (its rollback failed: ${err instanceof Error ? err.message : String(err)})`);
      }
      undoing = { image: before.image, after: at.update?.startedAt ?? null };
      deadline = Date.now() + timing.timeoutMs;
    }
    const now = await inspect(docker, p.service, `following ${what}`);
    const tasks = await docker
      .run(["service", "ps", "--no-trunc", "--format", "{{json .}}", "--", now.id])
      .then((text) => parseServicePs(text, new Map([[now.name, now.id]])))
      .catch((e: unknown) => {
        throw classifyToolError(e, `following ${what}`, { notFound: DOCKER_NOT_FOUND, conflict: NOT_MANAGER });
      });
    const image = undoing?.image ?? target;
    // The cancel's rollback: docker reports it as rollback_* (its StartedAt may be the update's own).
    const fresh = undoing
      ? now.update && now.update.state.startsWith("rollback") ? now.update : null
      : now.update && now.update.startedAt !== before.update?.startedAt ? now.update : null;
    const state = fresh?.state ?? (undoing ? "rollback_started" : "updating");
    progress = { kind, service: p.service, image, state, message: fresh?.message ?? null, ...taskCounts(tasks, image) } as Progress;
    const text = JSON.stringify(progress);
    if (text !== last) ctx.report(progress);
    last = text;
    if (undoing) {
      if (fresh && updateOutcome(fresh.state, true) !== null) throw conflict(updateCancelled(p.service, undoing.image, target, progress));
      if (Date.now() > deadline) throw conflict(`update of ${p.service} to ${target} cancelled; docker's rollback to ${undoing.image} did not finish within ${Math.round(timing.timeoutMs / 1000)} s (${progress.updated}/${progress.total} tasks)`);
      // The job is cancelled already: the wait ignores the signal, the rollback is followed to its end.
      await sleep(timing.pollMs);
      continue;
    }
    const outcome = fresh ? updateOutcome(fresh.state, rollback) : null;
    if (outcome === "succeeded") return progress;
    if (outcome === "failed") {
      const why = [fresh?.message, progress.taskError].filter(Boolean).join("; ");
      throw new AgentError(AgentErrorCode.toolFailed, `${rollback ? "rollback" : "update"} of ${p.service} to ${target} ${fresh!.state.replace("_", " ")}${why ? `: ${why}` : ""}`);
    }
    if (Date.now() > deadline)
      throw new AgentError(AgentErrorCode.toolFailed, `${what}: the ${rollback ? "rollback" : "update"} did not finish within ${Math.round(timing.timeoutMs / 1000)} s (${progress.updated}/${progress.total} tasks on ${target})`);
    await sleep(timing.pollMs, ctx.signal);
  }
}

/** Tasks meant to run that run `image`, of all meant to run, and the newest failed task's error. */
export function taskCounts(tasks: SwarmTask[], image: string): { updated: number; total: number; taskError: string | null } {
  // A slot's current task is meant to run ("running"), or waits to be started ("ready", "accepted").
  const meant = tasks.filter((t) => t.desiredState === "running" || t.desiredState === "ready" || t.desiredState === "accepted");
  const slots = new Set(meant.map((t) => t.slot ?? t.node ?? t.id));
  const updated = meant.filter((t) => t.desiredState === "running" && t.state === "running" && t.image != null && withoutDigest(t.image) === image).length;
  // service ps lists the newest task of a slot first.
  const failed = tasks.find((t) => t.error && (t.state === "failed" || t.state === "rejected" || t.state === "shutdown"));
  // docker quotes the daemon's error ("\"No such image: x\"").
  return { updated, total: slots.size, taskError: failed?.error ? failed.error.replace(/^"(.*)"$/s, "$1") : null };
}

async function inspect(docker: Tool, service: string, what: string): Promise<ServiceUpdateView> {
  try {
    const [view] = parseServiceUpdateInspect(await docker.run(["service", "inspect", "--", service]));
    if (!view) throw notFound(what);
    return view;
  } catch (e) {
    throw classifyToolError(e, what, { notFound: DOCKER_NOT_FOUND, conflict: NOT_MANAGER });
  }
}
