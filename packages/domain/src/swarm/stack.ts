import { publishedPorts, type PublishedPort } from "./publish.js";
import { z } from "zod";
import { boundedName, boundedText } from "../bounds.js";
import type { SwarmSection, SwarmService } from "../inventory.js";
import { TenantSlug } from "../names.js";
import { OperationStep, pendingStep } from "../provision/steps.js";

/**
 * Stacks: a compose file deployed with `docker stack deploy` on a manager. The stack name is
 * docker's namespace (`com.docker.stack.namespace`, the prefix of every service, network and
 * volume); the tenant is a label Nimbus puts on every service (`nimbus.tenant`), and a tenant's
 * stacks are also named `<tenant>-<name>` so two tenants' "web" cannot collide in docker's
 * namespace. Labels decide who owns a stack; the prefix only keeps names apart.
 */
export const STACK_NAMESPACE_LABEL = "com.docker.stack.namespace";
export const STACK_TENANT_LABEL = "nimbus.tenant";

/** Docker's own rule for stack names is loose; ours keeps them plain (they become service, network and volume prefixes). */
export const StackName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,47}$/, "stack names are lower-case letters, digits and '-' (at most 48)");
export type StackName = z.infer<typeof StackName>;

export const COMPOSE_LIMITS = {
  /** Bytes of the compose file as sent. */
  bytes: 64 * 1024,
  services: 50,
  /** Nesting of the parsed document (maps and lists). */
  depth: 32,
  /** YAML aliases in one document (billion laughs). */
  aliases: 100,
  errors: 50,
} as const;

/** The compose text as the API and the agent accept it: bounded before anything parses it. */
export const ComposeText = z.string().min(1, "the compose file is empty").max(COMPOSE_LIMITS.bytes, `a compose file is at most ${COMPOSE_LIMITS.bytes / 1024} KiB`);

/** The stack name docker gets for a tenant's stack (the tenant's prefix once, whatever the member typed). */
export function stackNameFor(tenant: string | null, name: string): string {
  if (!tenant) return name;
  return name.startsWith(`${tenant}-`) ? name : `${tenant}-${name}`;
}

/** How long a deploy may take to converge before the operation fails with the tasks' errors. */
export const STACK_CONVERGE_TIMEOUT_MS = 180_000;
export const STACK_REMOVE_TIMEOUT_MS = 120_000;

export const StackDeployParams = z.object({
  jobId: z.string().min(1).max(64),
  stack: StackName,
  /** The compose file as docker receives it (on stdin), labels already added by the server. */
  compose: ComposeText,
  /** docker service names (`<stack>_<service>`) the deploy must bring to their replicas. */
  services: z.array(boundedName()).max(COMPOSE_LIMITS.services),
  /** Services of the stack that the new file no longer has: docker removes them with --prune. */
  prune: z.boolean().default(true),
  timeoutMs: z.number().int().min(1_000).max(3_600_000).default(STACK_CONVERGE_TIMEOUT_MS),
});
export type StackDeployParams = z.infer<typeof StackDeployParams>;

export const StackRemoveParams = z.object({
  jobId: z.string().min(1).max(64),
  stack: StackName,
  timeoutMs: z.number().int().min(1_000).max(3_600_000).default(STACK_REMOVE_TIMEOUT_MS),
});
export type StackRemoveParams = z.infer<typeof StackRemoveParams>;

/** One service of a stack while a deploy follows it. */
export const StackServiceProgress = z.object({
  name: boundedName(),
  desired: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  /** The latest task error (e.g. "No such image: shop:2"), null while none failed. */
  error: boundedText().nullable(),
});
export type StackServiceProgress = z.infer<typeof StackServiceProgress>;

export const StackDeployProgress = z.object({
  kind: z.literal("stack-deploy"),
  steps: z.array(OperationStep).max(8),
  services: z.array(StackServiceProgress).max(COMPOSE_LIMITS.services),
});
export type StackDeployProgress = z.infer<typeof StackDeployProgress>;

export const StackRemoveProgress = z.object({
  kind: z.literal("stack-remove"),
  steps: z.array(OperationStep).max(8),
  services: z.array(StackServiceProgress).max(COMPOSE_LIMITS.services),
});
export type StackRemoveProgress = z.infer<typeof StackRemoveProgress>;

export type StackStepId = "validate" | "deploy" | "converge" | "remove" | "wait-gone";

const step = (id: StackStepId, label: string, detail: string) => pendingStep(id, label, detail);

/** The deploy's steps: validate is the server's (done before the job starts), the rest the agent's. */
export function stackDeploySteps(stack: string, services: readonly string[], validatedAt: string): OperationStep[] {
  return [
    { ...step("validate", "Validate", `the compose file against the Compose specification and Nimbus rules`), state: "succeeded", startedAt: validatedAt, finishedAt: validatedAt },
    step("deploy", "Deploy", `docker stack deploy ${stack} on a manager`),
    step("converge", "Converge", `wait until ${services.length} service${services.length === 1 ? "" : "s"} run${services.length === 1 ? "s" : ""} their replicas, or a task fails`),
  ];
}

export function stackRemoveSteps(stack: string): OperationStep[] {
  return [step("remove", "Remove", `docker stack rm ${stack} on a manager`), step("wait-gone", "Wait", "until the stack's services are gone")];
}

/** A published port as the stack list shows it: its mode and, in host mode, the nodes that answer. */
export type StackPort = PublishedPort;

export interface StackServiceView {
  name: string;
  /** The name inside the compose file (docker's name less `<stack>_`). */
  short: string;
  image: string;
  mode: "replicated" | "global";
  replicasDesired: number;
  replicasRunning: number;
  ports: StackPort[];
  /** The latest error of a task that is not running (what keeps it from converging). */
  error: string | null;
}

export interface StackView {
  name: string;
  tenant: string | null;
  services: StackServiceView[];
  replicasDesired: number;
  replicasRunning: number;
  ports: StackPort[];
}

/**
 * The stack a service belongs to, with its tenant: the label Nimbus sets, all services agreeing
 * (a stack whose services disagree, e.g. edited with the CLI, belongs to no tenant: staff only).
 */
export function stacksOf(swarm: Pick<SwarmSection, "services" | "tasks"> & { nodes?: SwarmSection["nodes"] } | null | undefined): StackView[] {
  if (!swarm) return [];
  const byStack = new Map<string, SwarmService[]>();
  for (const s of swarm.services) {
    if (!s.stack) continue;
    const list = byStack.get(s.stack) ?? [];
    list.push(s);
    byStack.set(s.stack, list);
  }
  const lastError = new Map<string, string>();
  for (const t of swarm.tasks) if (t.error && t.state !== "running") lastError.set(t.serviceName, t.error);
  return [...byStack.entries()]
    .map(([name, services]): StackView => {
      const tenants = new Set(services.map((s) => s.tenant));
      const views = services
        .map((s): StackServiceView => ({
          name: s.name,
          short: s.name.startsWith(`${name}_`) ? s.name.slice(name.length + 1) : s.name,
          image: s.image,
          mode: s.mode,
          replicasDesired: s.replicasDesired,
          replicasRunning: s.replicasRunning,
          ports: publishedPorts(s, swarm.tasks, swarm.nodes ?? []),
          error: s.replicasRunning < s.replicasDesired ? (lastError.get(s.name) ?? null) : null,
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
      return {
        name,
        tenant: tenants.size === 1 ? [...tenants][0]! : null,
        services: views,
        replicasDesired: views.reduce((n, s) => n + s.replicasDesired, 0),
        replicasRunning: views.reduce((n, s) => n + s.replicasRunning, 0),
        ports: views.flatMap((s) => s.ports),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** What changes for one service when the file is deployed. */
export interface ServiceChange {
  field: "image" | "replicas" | "ports" | "environment" | "networks" | "mode";
  from: string;
  to: string;
}

export interface StackDiff {
  /** The stack exists: this deploy updates it. */
  exists: boolean;
  added: { name: string; image: string; replicas: string; ports: string[] }[];
  removed: { name: string; image: string }[];
  changed: { name: string; changes: ServiceChange[] }[];
  unchanged: string[];
}

/** One error of a compose file, with where it is (`services.web.ports[0]`). */
export interface ComposeProblem {
  path: string;
  message: string;
}

export const StackValidation = z.object({
  stack: z.string(),
  valid: z.boolean(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })),
  warnings: z.array(z.object({ path: z.string(), message: z.string() })),
  diff: z.custom<StackDiff>().nullable(),
});
export type StackValidation = z.infer<typeof StackValidation>;

export const StackTenant = TenantSlug.nullable();

/** Tasks of one service that failed since the job started (docker retries them: a few in a row is a verdict). */
export const STACK_FAILED_TASKS_LIMIT = 3;

export interface StackSample {
  /** The stack's services as listed now (docker names). */
  services: StackServiceProgress[];
  /** Per service: tasks that failed or were rejected since the job started, and the latest error. */
  failures: ReadonlyMap<string, { count: number; error: string }>;
}

export type StackVerdict = { state: "converged" } | { state: "waiting" } | { state: "failed"; error: string };

/**
 * Where a deploy stands: converged once every expected service runs all its replicas; failed
 * once one of them had STACK_FAILED_TASKS_LIMIT tasks fail since the deploy (docker would retry
 * for ever: "No such image" does not heal by itself), naming each such service and its error.
 */
export function judgeStack(expected: readonly string[], sample: StackSample): StackVerdict {
  const byName = new Map(sample.services.map((s) => [s.name, s]));
  const failing = expected.flatMap((name) => {
    const f = sample.failures.get(name);
    const s = byName.get(name);
    const done = s && s.running >= s.desired && s.desired > 0;
    return f && f.count >= STACK_FAILED_TASKS_LIMIT && !done ? [`${name}: ${f.error} (${f.count} tasks failed)`] : [];
  });
  if (failing.length) return { state: "failed", error: failing.join("; ") };
  const done = expected.every((name) => {
    const s = byName.get(name);
    return !!s && s.running === s.desired;
  });
  return done ? { state: "converged" } : { state: "waiting" };
}

/** The services of a sample with each one's latest error (what the operation's table shows). */
export function withErrors(sample: StackSample): StackServiceProgress[] {
  return sample.services.map((s) => ({ ...s, error: s.running < s.desired ? (sample.failures.get(s.name)?.error ?? s.error) : null }));
}

/**
 * The steps of a stack job as it goes, reported whole in the job's progress (the operation's
 * task view is the agent's record, as for a create). Shared by the real and simulated agents.
 */
export class StackStepKeeper<P extends StackDeployProgress | StackRemoveProgress> {
  private progress: P;

  constructor(
    kind: P["kind"],
    steps: OperationStep[],
    private readonly report: (p: P) => void,
  ) {
    this.progress = { kind, steps: steps.map((s) => ({ ...s, log: [...s.log] })), services: [] } as unknown as P;
  }

  current(): P {
    return this.progress;
  }

  private patch(id: StackStepId, f: (s: OperationStep) => OperationStep) {
    this.progress = { ...this.progress, steps: this.progress.steps.map((s) => (s.id === id ? f(s) : s)) };
    this.report(this.progress);
  }

  start(id: StackStepId) {
    this.patch(id, (s) => ({ ...s, state: "running", startedAt: new Date().toISOString() }));
  }

  log(id: StackStepId, ...lines: string[]) {
    const clean = lines.flatMap((l) => l.split("\n")).map((l) => l.trimEnd()).filter(Boolean).map((l) => (l.length > 512 ? `${l.slice(0, 511)}…` : l));
    if (clean.length) this.patch(id, (s) => ({ ...s, log: [...s.log, ...clean].slice(-200) }));
  }

  finish(id: StackStepId, state: "succeeded" | "failed", line?: string) {
    if (line) this.log(id, line);
    this.patch(id, (s) => ({ ...s, state, finishedAt: new Date().toISOString() }));
  }

  /** Steps never reached after a failure stay pending; the ones after are marked skipped. */
  skipRest() {
    this.progress = { ...this.progress, steps: this.progress.steps.map((s) => (s.state === "pending" ? { ...s, state: "skipped" as const } : s)) };
    this.report(this.progress);
  }

  services(list: StackServiceProgress[]) {
    const same = JSON.stringify(list) === JSON.stringify(this.progress.services);
    if (same) return;
    this.progress = { ...this.progress, services: list.slice(0, COMPOSE_LIMITS.services) };
    this.report(this.progress);
  }
}
