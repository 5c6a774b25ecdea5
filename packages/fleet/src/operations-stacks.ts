import { STACK_CONVERGE_TIMEOUT_MS, STACK_REMOVE_TIMEOUT_MS, stackDeploySteps, stackRemoveSteps, type Operation, type StackDiff } from "@nimbus/domain";

type NewOperation = Pick<Operation, "kind" | "target" | "host" | "tenant" | "requestedBy" | "summary" | "params"> & Pick<Operation, "steps">;

/** A checked deploy, as the API hands it over (planStack): the file docker gets and the services to follow. */
export interface StackDeployPlan {
  stack: string;
  tenant: string | null;
  labelled: string;
  services: string[];
  diff: StackDiff | null;
  timeoutMs?: number;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * What a deploy records. The compose file itself is not kept (its environment may hold secrets):
 * the operation keeps the services it follows and what the diff said.
 */
export function stackDeployFields(manager: string, plan: StackDeployPlan, requestedBy: string): NewOperation {
  const d = plan.diff;
  const what = !d
    ? plural(plan.services.length, "service")
    : d.exists
      ? [d.added.length && `${d.added.length} added`, d.changed.length && `${d.changed.length} changed`, d.removed.length && `${d.removed.length} removed`].filter(Boolean).join(", ") || "no change"
      : `${plural(plan.services.length, "service")}, new`;
  return {
    kind: "stack-deploy",
    target: { type: "stack", name: plan.stack },
    host: manager,
    tenant: plan.tenant,
    requestedBy,
    summary: `Deploy stack ${plan.stack} (${what})`,
    params: {
      stack: plan.stack,
      services: plan.services,
      added: d?.added.map((a) => a.name) ?? [],
      changed: d?.changed.map((c) => c.name) ?? [],
      removed: d?.removed.map((r) => r.name) ?? [],
      timeoutMs: plan.timeoutMs ?? STACK_CONVERGE_TIMEOUT_MS,
    },
    steps: stackDeploySteps(plan.stack, plan.services, new Date().toISOString()),
  };
}

export function stackRemoveFields(manager: string, stack: string, tenant: string | null, services: string[], requestedBy: string): NewOperation {
  return {
    kind: "stack-remove",
    target: { type: "stack", name: stack },
    host: manager,
    tenant,
    requestedBy,
    summary: `Remove stack ${stack} (${plural(services.length, "service")})`,
    params: { stack, services, timeoutMs: STACK_REMOVE_TIMEOUT_MS },
    steps: stackRemoveSteps(stack),
  };
}
