import {
  AgentErrorCode,
  LIMITS,
  StackStepKeeper,
  judgeStack,
  stackDeployCancelled,
  stackDeploySteps,
  stackRemoveCancelled,
  stackRemoveSteps,
  withErrors,
  type StackDeployParams,
  type StackDeployProgress,
  type StackRemoveParams,
  type StackRemoveProgress,
  type StackSample,
  type SwarmNode,
  type SwarmSection,
  type SwarmTask,
} from "@nimbus/domain";
import type { JobContext } from "../drivers.js";
import { z } from "zod";
import { AgentError } from "../errors.js";
import { parseNodeLs, parseServiceLs, parseServicePs, runningReplicas } from "./parse/docker.js";
import { check, parseJsonLines } from "./parse/text.js";
import type { AgentConfig } from "./config.js";
import type { Log } from "./log.js";
import { RealSwarmDriver } from "./swarm.js";
import type { Tool } from "./tool.js";
import { sleep } from "./util.js";

/**
 * `docker stack deploy` / `docker stack rm` as jobs on a manager. The compose file goes to docker
 * on stdin (`--compose-file -`), never to a file; images are not resolved against a registry
 * (`--resolve-image never` by default: nodes use what they have, or pull by tag themselves). Then
 * every service of the stack is followed until it runs its replicas, or until one of them had
 * STACK_FAILED_TASKS_LIMIT tasks fail since the deploy (their errors are the operation's error),
 * or until the timeout.
 */

export interface StackRunner {
  host: string;
  docker: Tool;
  pollMs: number;
  resolveImage: "always" | "changed" | "never";
  /** The swarm section changed (the driver re-reads and pushes it). */
  changed: () => void;
}

const JSON_FORMAT = ["--format", "{{json .}}"];
const NOTHING_IN_STACK = /nothing found in stack/i;
const FAILED_STATES = new Set(["failed", "rejected"]);

const stderrOf = (e: unknown) => (e instanceof AgentError ? String(e.data?.stderr ?? "") : "");

/** `docker stack ps`/`services` of a stack that has none: docker says so (exit 1 or 0 with the words). */
async function orEmpty(run: Promise<string>): Promise<string> {
  try {
    const out = await run;
    return NOTHING_IN_STACK.test(out) ? "" : out;
  } catch (e) {
    if (NOTHING_IN_STACK.test(stderrOf(e))) return "";
    throw e;
  }
}

async function stackTasks(r: StackRunner, stack: string): Promise<SwarmTask[]> {
  const text = await orEmpty(r.docker.run(["stack", "ps", "--no-trunc", ...JSON_FORMAT, stack]));
  return text.trim() ? parseServicePs(text, new Map()) : [];
}

/** The stack's services (running counted from the tasks on nodes that are up) and the failures since `known`. */
export async function sampleStack(r: StackRunner, stack: string, known: ReadonlySet<string>): Promise<StackSample> {
  const [servicesText, tasks, nodes] = await Promise.all([
    orEmpty(r.docker.run(["stack", "services", ...JSON_FORMAT, stack])),
    stackTasks(r, stack),
    r.docker.run(["node", "ls", ...JSON_FORMAT]).then(parseNodeLs) as Promise<SwarmNode[]>,
  ]);
  const services = servicesText.trim() ? parseServiceLs(servicesText) : [];
  return sampleFrom(services, tasks, nodes, known);
}

/** Pure: the sample from docker's listings (exported for tests with captured output). */
export function sampleFrom(
  services: { name: string; mode: "replicated" | "global"; desired: number }[],
  tasks: SwarmTask[],
  nodes: SwarmNode[],
  known: ReadonlySet<string>,
): StackSample {
  const failures = new Map<string, { count: number; error: string }>();
  // docker lists a service's newest tasks first: the first error seen is the latest.
  for (const t of tasks) {
    if (known.has(t.id) || !FAILED_STATES.has(t.state)) continue;
    const f = failures.get(t.serviceName);
    failures.set(t.serviceName, { count: (f?.count ?? 0) + 1, error: f?.error ?? t.error ?? `task ${t.state}` });
  }
  return {
    services: services.map((s) => ({ name: s.name, desired: s.desired, running: runningReplicas(tasks, nodes, s.name), error: null })),
    failures,
  };
}

const describe = (s: StackSample) => s.services.map((x) => `${x.name} ${x.running}/${x.desired}`).join(", ") || "no services yet";

export async function deployStack(r: StackRunner, p: StackDeployParams, ctx: JobContext<StackDeployProgress>): Promise<StackDeployProgress> {
  const steps = new StackStepKeeper<StackDeployProgress>("stack-deploy", stackDeploySteps(p.stack, p.services, new Date().toISOString()), ctx.report);
  const fail = (step: "deploy" | "converge", message: string, code: (typeof AgentErrorCode)[keyof typeof AgentErrorCode] = AgentErrorCode.toolFailed): never => {
    steps.finish(step, "failed", message);
    steps.skipRest();
    throw new AgentError(code, message);
  };

  steps.start("deploy");
  // Tasks that failed before this deploy (an earlier one's) are not this deploy's verdict.
  const known = new Set((await stackTasks(r, p.stack).catch(() => [])).map((t) => t.id));
  try {
    const args = ["stack", "deploy", "--compose-file", "-", "--resolve-image", r.resolveImage, ...(p.prune ? ["--prune"] : []), p.stack];
    steps.log("deploy", `docker ${args.join(" ")}`);
    const out = await r.docker.run(args, { stdin: p.compose, timeoutMs: 120_000, signal: ctx.signal });
    steps.log("deploy", out);
  } catch (e) {
    if (ctx.signal.aborted) fail("deploy", `deploying ${p.stack} was cancelled while docker stack deploy ran: it may have created or updated some services (the Stacks page shows what runs)`, AgentErrorCode.conflict);
    fail("deploy", e instanceof Error ? e.message : String(e));
  }
  steps.finish("deploy", "succeeded");
  r.changed();

  steps.start("converge");
  const deadline = Date.now() + p.timeoutMs;
  let last = "";
  for (;;) {
    // Cancel stops following: docker keeps what it deployed; the error says which services converged.
    if (ctx.signal.aborted) fail("converge", stackDeployCancelled(p.stack, p.services, steps.current().services), AgentErrorCode.conflict);
    const sample = await sampleStack(r, p.stack, known).catch((e: unknown) => fail("converge", `could not read the stack on ${r.host}: ${e instanceof Error ? e.message : String(e)}`));
    steps.services(withErrors(sample));
    const now = describe(sample);
    if (now !== last) steps.log("converge", now);
    last = now;
    const verdict = judgeStack(p.services, sample);
    if (verdict.state === "converged") {
      steps.finish("converge", "succeeded", `${p.services.length} service${p.services.length === 1 ? "" : "s"} converged`);
      return steps.current();
    }
    if (verdict.state === "failed") fail("converge", verdict.error);
    if (Date.now() > deadline) {
      const errors = [...sample.failures.entries()].map(([n, f]) => `${n}: ${f.error}`);
      fail("converge", `${p.stack} did not converge within ${Math.round(p.timeoutMs / 1000)} s (${now})${errors.length ? `; ${errors.join("; ")}` : ""}`);
    }
    await sleep(r.pollMs, ctx.signal).catch(() => undefined);
  }
}

export async function removeStack(r: StackRunner, p: StackRemoveParams, ctx: JobContext<StackRemoveProgress>): Promise<StackRemoveProgress> {
  const steps = new StackStepKeeper<StackRemoveProgress>("stack-remove", stackRemoveSteps(p.stack), ctx.report);
  const fail = (step: "remove" | "wait-gone", message: string, code: (typeof AgentErrorCode)[keyof typeof AgentErrorCode] = AgentErrorCode.toolFailed): never => {
    steps.finish(step, "failed", message);
    steps.skipRest();
    throw new AgentError(code, message);
  };
  steps.start("remove");
  try {
    steps.log("remove", `docker stack rm ${p.stack}`);
    const out = await r.docker.run(["stack", "rm", p.stack], { timeoutMs: 60_000, signal: ctx.signal });
    steps.log("remove", out);
  } catch (e) {
    if (!NOTHING_IN_STACK.test(stderrOf(e))) fail("remove", e instanceof Error ? e.message : String(e));
    steps.log("remove", `nothing found in stack ${p.stack}`);
  }
  steps.finish("remove", "succeeded");
  r.changed();
  steps.start("wait-gone");
  const deadline = Date.now() + p.timeoutMs;
  for (;;) {
    if (ctx.signal.aborted) fail("wait-gone", stackRemoveCancelled(p.stack, steps.current().services), AgentErrorCode.conflict);
    const text = await orEmpty(r.docker.run(["stack", "services", ...JSON_FORMAT, p.stack])).catch((e: unknown) =>
      fail("wait-gone", `could not read the stack on ${r.host}: ${e instanceof Error ? e.message : String(e)}`),
    );
    const left = text.trim() ? parseServiceLs(text) : [];
    steps.services(left.map((s) => ({ name: s.name, desired: s.desired, running: s.running, error: null })));
    if (!left.length) {
      steps.finish("wait-gone", "succeeded", `${p.stack} has no services left`);
      return steps.current();
    }
    if (Date.now() > deadline) fail("wait-gone", `${p.stack} still has ${left.map((s) => s.name).join(", ")} after ${Math.round(p.timeoutMs / 1000)} s`);
    await sleep(r.pollMs, ctx.signal).catch(() => undefined);
  }
}

const ImageLsJson = z.looseObject({ Repository: z.string(), Tag: z.string() });

/** `docker image ls --format '{{json .}}'`: `repository:tag` of each tagged image (what stacks can use), at most `max`. */
export function parseImageLs(text: string, max: number): string[] {
  const tool = "docker image ls";
  const out = new Set<string>();
  for (const raw of parseJsonLines(tool, text)) {
    const row = check(ImageLsJson, tool, raw, text);
    if (row.Repository === "<none>" || row.Tag === "<none>") continue;
    const ref = `${row.Repository}:${row.Tag}`;
    if (ref.length <= 256 && out.size < max) out.add(ref);
  }
  return [...out].sort();
}

/**
 * The swarm driver with stacks: deploy and remove as jobs, and this engine's images in its
 * section (every node, workers too: the stack check "no node has the image" reads them).
 * The `docker events` watch already re-reads the section when the stack's services appear or go.
 */
export class RealStackSwarmDriver extends RealSwarmDriver {
  private readonly stacks: StackRunner;

  constructor(host: string, private readonly dockerTool: Tool, cfg: AgentConfig["swarm"], log: Log) {
    super(host, dockerTool, cfg, log);
    this.stacks = { host, docker: dockerTool, pollMs: cfg.stackPollMs, resolveImage: cfg.stackResolveImage, changed: () => undefined };
  }

  override async snapshot(): Promise<SwarmSection> {
    const [section, images] = await Promise.all([
      super.snapshot(),
      // An engine that cannot list its images still reports its swarm; the stack check then warns.
      this.dockerTool.run(["image", "ls", ...JSON_FORMAT]).then((t) => parseImageLs(t, LIMITS.images), () => null),
    ]);
    return { ...section, images };
  }

  stackDeploy(p: StackDeployParams, ctx: JobContext<StackDeployProgress>): Promise<StackDeployProgress> {
    return deployStack(this.stacks, p, ctx);
  }

  stackRemove(p: StackRemoveParams, ctx: JobContext<StackRemoveProgress>): Promise<StackRemoveProgress> {
    return removeStack(this.stacks, p, ctx);
  }
}
