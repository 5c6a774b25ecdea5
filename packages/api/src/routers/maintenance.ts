import { z } from "zod";
import { HostName, MaintenanceRequest, NimbusError, hostMaintenanceView, type HostMaintenanceView, type Operation } from "@nimbus/domain";
import { notFound, router, staffProcedure } from "../trpc.js";

const byHost = z.object({ host: HostName });

/**
 * Host maintenance: a dry-run plan first, then the evacuation as an operation (abort cancels
 * what is in flight), then "exit" to give the host back to placement.
 */
export const maintenanceRouter = router({
  /** Where each host stands: active, evacuating, in maintenance (empty), or flagged but not empty. */
  list: staffProcedure("read:fleet").query(({ ctx }): HostMaintenanceView[] => ctx.deps.operations.maintenanceViews()),

  /** The dry run: which VM goes where and why, what cannot move (failing check), which workers get drained. */
  plan: staffProcedure("host:maintenance")
    .input(byHost)
    .query(({ ctx, input }) => {
      const host = ctx.deps.fleet.host(input.host);
      if (!host) throw notFound(`host ${input.host}`);
      const view = ctx.deps.operations.maintenanceViews().find((v) => v.host === input.host) ?? hostMaintenanceView(host, null);
      return { ...ctx.deps.operations.planMaintenance(input.host), view };
    }),

  start: staffProcedure("host:maintenance")
    .input(MaintenanceRequest)
    .mutation(({ ctx, input }): Promise<Operation> => {
      if (!ctx.deps.fleet.host(input.host)) throw notFound(`host ${input.host}`);
      return ctx.deps.operations.startMaintenance(input, ctx.viewer.name);
    }),

  /** Stops the evacuation: nothing new starts, migrations in flight are cancelled. The host stays flagged. */
  abort: staffProcedure("host:maintenance")
    .input(z.object({ id: z.string().max(64) }))
    .mutation(async ({ ctx, input }) => {
      const op = await ctx.deps.operations.get(input.id);
      if (!op || op.kind !== "maintenance") throw notFound(`evacuation ${input.id}`);
      if (op.state !== "running" && op.state !== "pending") throw new NimbusError("CONFLICT", `evacuation of ${op.target.name} is already ${op.state}`);
      await ctx.deps.operations.cancel(input.id);
      return { ok: true as const };
    }),

  exit: staffProcedure("host:maintenance")
    .input(byHost)
    .mutation(async ({ ctx, input }): Promise<HostMaintenanceView> => {
      if (!ctx.deps.fleet.host(input.host)) throw notFound(`host ${input.host}`);
      return await ctx.deps.operations.exitMaintenance(input.host);
    }),
});
