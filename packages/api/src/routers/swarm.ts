import { z } from "zod";
import { NimbusError, ServiceName, SwarmNodeRef, canSeeTenantObject, type Operation } from "@nimbus/domain";
import { notFound, router, staffProcedure, tenantProcedure } from "../trpc.js";
import { swarmOverview } from "../services/projections.js";
import { swarmServicesRouter } from "./swarm-services.js";

export const swarmRouter = router({
  /** One service: update, rollback, logs (swarm-services.ts). */
  services: swarmServicesRouter,
  overview: tenantProcedure.query(({ ctx }) => swarmOverview(ctx.deps.fleet.hosts(), ctx.viewer)),

  scale: staffProcedure("workload:scale")
    .input(z.object({ service: ServiceName, replicas: z.number().int().min(0).max(100) }))
    .mutation(async ({ ctx, input }): Promise<Operation> => {
      const swarm = swarmOverview(ctx.deps.fleet.hosts(), ctx.viewer);
      const service = swarm.services.find((s) => s.name === input.service);
      if (!service || !canSeeTenantObject(ctx.viewer, service.tenant)) throw notFound(`service ${input.service}`);
      // The same request again once the first has converged (a double submit, a second tab)
      // would record a second operation that changes nothing; one still running is refused by
      // the operation manager.
      if (service.replicasDesired === input.replicas && service.replicasRunning === input.replicas)
        throw new NimbusError("CONFLICT", `${input.service} already runs ${input.replicas} replica${input.replicas === 1 ? "" : "s"}`, { service: input.service });
      return ctx.deps.operations.startScale(input, ctx.viewer.name);
    }),

  setAvailability: staffProcedure("workload:scale")
    .input(z.object({ node: SwarmNodeRef, availability: z.enum(["active", "pause", "drain"]) }))
    .mutation(async ({ ctx, input }) => {
      const swarm = swarmOverview(ctx.deps.fleet.hosts(), ctx.viewer);
      if (!swarm.managerHost) throw notFound("swarm manager");
      if (!swarm.nodes.some((n) => n.hostname === input.node || n.id === input.node)) throw notFound(`swarm node ${input.node}`);
      await ctx.deps.fleet.request(swarm.managerHost, "swarm.availability", input);
      return { ok: true as const };
    }),

  // A mutation so that every reveal of the join tokens is audited.
  joinTokens: staffProcedure("swarm:tokens").mutation(async ({ ctx }) => {
    const swarm = swarmOverview(ctx.deps.fleet.hosts(), ctx.viewer);
    if (!swarm.managerHost) throw notFound("swarm manager");
    return ctx.deps.fleet.request(swarm.managerHost, "swarm.joinTokens", {});
  }),
});
