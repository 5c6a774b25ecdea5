import { z } from "zod";
import { TRPCError } from "@trpc/server";
import { NimbusError, OperationListQuery, OperationTarget, can, canCancelOperation, type Operation } from "@nimbus/domain";
import { notFound, router, tenantProcedure } from "../trpc.js";
import { operationFor } from "../services/projections.js";

const Target = z.object({ type: OperationTarget.shape.type, name: z.string().max(64) });

export const operationsRouter = router({
  list: tenantProcedure
    .input(z.object({ target: Target.optional(), limit: z.number().int().min(1).max(500).default(100) }).default({ limit: 100 }))
    .query(async ({ ctx, input }) => {
      // Tenants' rows are filtered after the query; ask for more so a busy fleet still fills a page.
      const rows = await ctx.deps.operations.list({ limit: ctx.viewer.role === "tenant" ? 500 : input.limit, target: input.target });
      return rows
        .map((o) => operationFor(ctx.viewer, o))
        .filter((o): o is Operation => o !== null)
        .slice(0, input.limit);
    }),

  /**
   * One page of operations, filtered and sorted by the database, with counts (the Operations page).
   * A tenant's page holds only its tenant's rows, searched without host text, each masked.
   */
  page: tenantProcedure.input(OperationListQuery.optional()).query(async ({ ctx, input }) => {
    const staff = ctx.viewer.role !== "tenant";
    if (staff) return ctx.deps.operations.page(input ?? {}, { tenant: null });
    const page = await ctx.deps.operations.page({ ...input, host: "" }, { tenant: ctx.viewer.tenant ?? "\u0000" });
    return { ...page, items: page.items.map((o) => operationFor(ctx.viewer, o)).filter((o): o is Operation => o !== null) };
  }),

  get: tenantProcedure.input(z.object({ id: z.string().max(64) })).query(async ({ ctx, input }) => {
    const op = await ctx.deps.operations.get(input.id);
    const visible = op && operationFor(ctx.viewer, op);
    if (!visible) throw notFound(`operation ${input.id}`);
    return visible;
  }),

  /** Staff (workload:migrate) cancel any operation; a tenant member its own tenant's creates, stacks and service updates (canCancelOperation). */
  cancel: tenantProcedure
    .input(z.object({ id: z.string().max(64) }))
    .mutation(async ({ ctx, input }) => {
      const viewer = ctx.viewer;
      if (viewer.role !== "tenant" && !can(viewer, "workload:migrate"))
        throw new TRPCError({ code: "FORBIDDEN", message: `your role (${viewer.role}) may not do this` });
      const op = await ctx.deps.operations.get(input.id);
      // Another tenant's operation answers exactly as a missing one.
      if (!op || !operationFor(viewer, op)) throw notFound(`operation ${input.id}`);
      if (op.state !== "running" && op.state !== "pending") throw new NimbusError("CONFLICT", `operation ${input.id} is already ${op.state}`);
      if (!canCancelOperation(viewer, op)) throw new TRPCError({ code: "FORBIDDEN", message: "tenant members cancel only their own creates, stack deploys and removals, and service updates" });
      await ctx.deps.operations.cancel(input.id);
      return { ok: true as const };
    }),
});
