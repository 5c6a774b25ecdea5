import { storageOverview, type HostNetworkView, type StorageOverview } from "@nimbus/domain";
import { z } from "zod";
import { notFound, router, staffProcedure, tenantProcedure } from "../trpc.js";
import { networkOf } from "../services/projections.js";

export const networkRouter = router({
  /** Bridges and ports per host. Tenants get their scoped view from network.map (topology). */
  overview: tenantProcedure.query(({ ctx }): HostNetworkView[] =>
    ctx.viewer.role === "tenant" ? [] : ctx.deps.fleet.hosts().filter((h) => h.inventory.net).map(networkOf),
  ),
});

export const storageRouter = router({
  overview: staffProcedure("read:fleet").query(({ ctx }): StorageOverview => storageOverview(ctx.deps.fleet.hosts())),
});

export const healthRouter = router({
  list: staffProcedure("read:fleet").query(({ ctx }) => [...ctx.health.checks()]),
  acknowledge: staffProcedure("alerts:ack")
    .input(z.object({ id: z.string().max(200) }))
    .mutation(({ ctx, input }) => {
      if (!ctx.health.acknowledge(input.id, ctx.viewer.name)) throw notFound(`failing check ${input.id}`);
      return { ok: true as const };
    }),
});
