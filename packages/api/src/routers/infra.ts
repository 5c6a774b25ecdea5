import { storageOverview, type HostNetworkView, type StorageOverview } from "@nimbus/domain";
import { router, staffProcedure, tenantProcedure } from "../trpc.js";
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
});
