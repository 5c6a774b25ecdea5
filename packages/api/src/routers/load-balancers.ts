import { z } from "zod";
import { LbName, LoadBalancerSpec, LoadBalancerView, NimbusError, swarmManager, type Operation } from "@nimbus/domain";
import type { ApiDeps } from "../deps.js";
import { router, staffProcedure } from "../trpc.js";

const service = (deps: ApiDeps) => {
  if (!deps.loadBalancers) throw new NimbusError("PRECONDITION_FAILED", "load balancers need the server's database");
  return deps.loadBalancers;
};

/**
 * Load balancers: every staff role reads them (fleet infrastructure); admins and operators
 * (lb:manage) create, change, apply and delete. Nothing here is a tenant's: the router is
 * staff-only, and a tenant gets FORBIDDEN like any staff procedure.
 */
export const loadBalancersRouter = router({
  list: staffProcedure("read:fleet")
    .output(z.array(LoadBalancerView))
    .query(({ ctx }) => service(ctx.deps).list()),

  get: staffProcedure("read:fleet")
    .input(z.object({ name: LbName }))
    .output(LoadBalancerView)
    .query(({ ctx, input }) => service(ctx.deps).get(input.name)),

  /** What the create dialog offers: hosts with HAProxy (their agent reports an `lb` section) and services publishing TCP ports. */
  options: staffProcedure("read:fleet")
    .output(z.object({ edgeHosts: z.array(z.string()), services: z.array(z.object({ name: z.string(), ports: z.array(z.number()) })) }))
    .query(({ ctx }) => {
      const hosts = ctx.deps.fleet.hosts();
      const swarm = swarmManager(hosts)?.inventory.swarm;
      return {
        edgeHosts: hosts.filter((h) => h.inventory.lb && h.connection.state === "online").map((h) => h.name).sort(),
        services: (swarm?.services ?? [])
          .map((s) => ({ name: s.name, ports: s.ports.filter((p) => p.protocol === "tcp").map((p) => p.published) }))
          .filter((s) => s.ports.length)
          .sort((a, b) => a.name.localeCompare(b.name)),
      };
    }),

  create: staffProcedure("lb:manage")
    .input(LoadBalancerSpec)
    .mutation(({ ctx, input }): Promise<Operation> => service(ctx.deps).create(input, ctx.viewer.name)),

  update: staffProcedure("lb:manage")
    .input(LoadBalancerSpec)
    .mutation(({ ctx, input }): Promise<Operation> => service(ctx.deps).update(input, ctx.viewer.name)),

  /** Runs lb-apply again with the servers the inventory lists now. */
  reapply: staffProcedure("lb:manage")
    .input(z.object({ name: LbName }))
    .mutation(({ ctx, input }): Promise<Operation> => service(ctx.deps).apply(input.name, ctx.viewer.name)),

  delete: staffProcedure("lb:manage")
    .input(z.object({ name: LbName }))
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      await service(ctx.deps).delete(input.name);
      return { ok: true as const };
    }),
});
