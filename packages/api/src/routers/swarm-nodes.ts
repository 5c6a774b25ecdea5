import { z } from "zod";
import {
  AddWorkerRequest,
  CreateSwarmRequest,
  NimbusError,
  OperationStarted,
  ScalingPolicy,
  ServiceName,
  SwarmNodeRef,
  SwarmRole,
  can,
  quorumView,
  roleChangeImpact,
  swarmOverview,
} from "@nimbus/domain";
import type { ApiDeps, SwarmNodesService } from "../deps.js";
import { AutoscaleView, type Autoscaler } from "../services/autoscale.js";
import { notFound, router, staffProcedure } from "../trpc.js";

const nodesOf = (deps: ApiDeps): SwarmNodesService => {
  const n = deps.operations.swarmNodes;
  if (!n) throw new NimbusError("PRECONDITION_FAILED", "swarm nodes cannot be added or removed on this server");
  return n;
};
const autoscalerOf = (deps: ApiDeps): Autoscaler => {
  if (!deps.autoscale) throw new NimbusError("PRECONDITION_FAILED", "the autoscaler does not run on this server");
  return deps.autoscale;
};

const Check = z.object({ id: z.string(), label: z.string(), result: z.enum(["pass", "warn", "fail"]), reason: z.string() });
const WorkerPlan = z.object({
  chosen: z.string().nullable(),
  reason: z.string(),
  problem: z.string().nullable(),
  network: z.object({ bridge: z.string(), vlan: z.number().nullable() }).nullable(),
  candidates: z.array(z.object({ host: z.string(), verdict: z.enum(["pass", "warn", "fail"]), freeMemoryMiB: z.number(), checks: z.array(Check) })),
});
const Quorum = z.object({ managers: z.number(), majority: z.number(), tolerates: z.number(), warning: z.string().nullable() });
const RoleImpact = z.object({ before: Quorum, after: Quorum, warning: z.string().nullable(), refusal: z.string().nullable() });

/** Managers of the swarm as the leader reports them, and how many are reachable (ready). */
function managers(deps: ApiDeps) {
  const swarm = swarmOverview(deps.fleet.hosts(), { role: "admin", tenant: null });
  if (!swarm.managerHost) throw new NimbusError("PRECONDITION_FAILED", "no swarm manager is online");
  const list = swarm.nodes.filter((n) => n.role === "manager");
  return { swarm, total: list.length, reachable: list.filter((n) => n.status === "ready").length };
}

function nodeOf(deps: ApiDeps, ref: string) {
  const m = managers(deps);
  const node = m.swarm.nodes.find((n) => n.hostname === ref || n.id === ref);
  if (!node) throw notFound(`swarm node ${ref}`);
  return { ...m, node };
}

/**
 * Swarm nodes on demand: add and remove workers, create a swarm, promote and demote managers
 * (with the quorum rule), rotate join tokens, and the autoscaler's policies and decisions. Staff
 * only: nodes are infrastructure, and nothing here is shown to tenants.
 */
export const swarmNodesRouter = router({
  /** Where a worker of this size would go and why, before anything is built. */
  plan: staffProcedure("workload:create")
    .input(AddWorkerRequest)
    .output(WorkerPlan)
    .query(({ ctx, input }) => {
      const { placement, network, problem } = nodesOf(ctx.deps).planWorker(input, "worker");
      return {
        chosen: placement.chosen?.host ?? null,
        reason: placement.reason,
        problem,
        network,
        candidates: placement.candidates.map((c) => ({ host: c.host, verdict: c.verdict, freeMemoryMiB: c.freeMemoryMiB, checks: c.checks })),
      };
    }),

  addWorker: staffProcedure("workload:create")
    .input(AddWorkerRequest)
    .output(OperationStarted)
    .mutation(async ({ ctx, input }) => ({ operationId: (await nodesOf(ctx.deps).addWorker(input, ctx.viewer.name)).id })),

  /** Why "Remove worker" would be refused now, or null. */
  removeCheck: staffProcedure("workload:create")
    .input(z.object({ node: SwarmNodeRef }))
    .output(z.object({ problem: z.string().nullable() }))
    .query(({ ctx, input }) => ({ problem: nodesOf(ctx.deps).removeProblem(input.node) })),

  removeWorker: staffProcedure("workload:create")
    .input(z.object({ node: SwarmNodeRef, confirm: z.string().max(64) }))
    .output(OperationStarted)
    .mutation(async ({ ctx, input }) => {
      if (input.confirm !== input.node) throw new NimbusError("BAD_INPUT", `type the node's name (${input.node}) to confirm`);
      return { operationId: (await nodesOf(ctx.deps).removeWorker(input.node, ctx.viewer.name)).id };
    }),

  createSwarm: staffProcedure("workload:create")
    .input(CreateSwarmRequest)
    .output(OperationStarted)
    .mutation(async ({ ctx, input }) => ({ operationId: (await nodesOf(ctx.deps).createSwarm(input, ctx.viewer.name)).id })),

  /** The quorum now, and what a promote or demote of `node` would do to it. */
  roleImpact: staffProcedure("swarm:tokens")
    .input(z.object({ node: SwarmNodeRef, role: SwarmRole }))
    .output(RoleImpact)
    .query(({ ctx, input }) => {
      const { node, total, reachable } = nodeOf(ctx.deps, input.node);
      if (node.role === input.role) return { before: quorumView(total), after: quorumView(total), warning: null, refusal: `${node.hostname} is already a ${input.role}` };
      return roleChangeImpact(input.role === "manager" ? "promote" : "demote", { total, reachable });
    }),

  /** Promote or demote; refused when the quorum rule refuses, answered with the warning otherwise. */
  setRole: staffProcedure("swarm:tokens")
    .input(z.object({ node: SwarmNodeRef, role: SwarmRole }))
    .output(z.object({ warning: z.string().nullable() }))
    .mutation(async ({ ctx, input }) => {
      const { node, total, reachable, swarm } = nodeOf(ctx.deps, input.node);
      if (node.role === input.role) throw new NimbusError("CONFLICT", `${node.hostname} is already a ${input.role}`);
      const impact = roleChangeImpact(input.role === "manager" ? "promote" : "demote", { total, reachable });
      if (impact.refusal) throw new NimbusError("PRECONDITION_FAILED", impact.refusal);
      await ctx.deps.fleet.request(swarm.managerHost!, "swarm.nodeUpdate", { action: input.role === "manager" ? "promote" : "demote", node: node.hostname });
      return { warning: impact.warning };
    }),

  /** `docker swarm join-token --rotate`: admins only; the new token is not answered (reveal it with swarm.joinTokens). */
  rotateToken: staffProcedure("swarm:tokens")
    .input(z.object({ role: SwarmRole }))
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      const { swarm } = managers(ctx.deps);
      await ctx.deps.fleet.request(swarm.managerHost!, "swarm.rotateToken", { role: input.role });
      return { ok: true as const };
    }),

  /** Policies with each service's CPU now, open suggestions, the latest decisions. */
  autoscale: staffProcedure("read:fleet")
    .output(AutoscaleView)
    .query(({ ctx }) => autoscalerOf(ctx.deps).view()),

  /** Sets a service's policy. Consent to add or remove workers on the autoscaler's own is an admin's. */
  setPolicy: staffProcedure("workload:scale")
    .input(ScalingPolicy)
    .output(ScalingPolicy)
    .mutation(async ({ ctx, input }) => {
      if ((input.addWorkers === "perform" || input.removeIdleWorkers) && !can(ctx.viewer, "swarm:tokens"))
        throw new NimbusError("FORBIDDEN", "only an admin may let the autoscaler add or remove workers on its own");
      const swarm = swarmOverview(ctx.deps.fleet.hosts(), ctx.viewer);
      const service = swarm.services.find((s) => s.name === input.service);
      if (!service) throw notFound(`service ${input.service}`);
      if (service.mode === "global") throw new NimbusError("BAD_INPUT", `${input.service} is a global service: it runs one task per node and has no replica count to scale`);
      return autoscalerOf(ctx.deps).setPolicy(input, ctx.viewer.name);
    }),

  deletePolicy: staffProcedure("workload:scale")
    .input(z.object({ service: ServiceName }))
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await autoscalerOf(ctx.deps).removePolicy(input.service);
      return { ok: true as const };
    }),

  /** An open suggestion accepted: the worker is added now. */
  acceptSuggestion: staffProcedure("workload:create")
    .input(z.object({ service: ServiceName }))
    .output(OperationStarted)
    .mutation(async ({ ctx, input }) => ({ operationId: (await autoscalerOf(ctx.deps).acceptSuggestion(input.service, ctx.viewer.name)).id })),
});
