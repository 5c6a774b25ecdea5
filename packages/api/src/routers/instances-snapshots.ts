import { z } from "zod";
import { DomainName, NimbusError, Snapshot, SnapshotDescription, SnapshotListResult, SnapshotName, canSnapshot, type Viewer } from "@nimbus/domain";
import type { ApiDeps } from "../deps.js";
import { tenantProcedure } from "../trpc.js";
import { findInstance } from "./instances.js";

/**
 * Instance snapshots, answered by the VM's host (its agent applies the qcow2 rule on the live
 * domain). Tenants reach their own instances only: findInstance answers another tenant's like a
 * missing one. Mutations are audited by the middleware, with the instance as target.
 */
function snapshotTarget(deps: ApiDeps, viewer: Viewer, instance: string) {
  const { host, domain } = findInstance(deps, viewer, instance);
  if (!canSnapshot(viewer, domain.tenant)) throw new NimbusError("FORBIDDEN", "your role may not take, revert or delete snapshots");
  return { host, domain };
}

const Target = z.object({ instance: DomainName, name: SnapshotName });
const ok = z.object({ ok: z.literal(true) });

/** A mutation naming one snapshot of one instance, answered ok by its host. */
const targetMutation = (method: "virt.snapshotRevert" | "virt.snapshotDelete") =>
  tenantProcedure
    .input(Target)
    .output(ok)
    .mutation(async ({ ctx, input }) => {
      const { host, domain } = snapshotTarget(ctx.deps, ctx.viewer, input.instance);
      await ctx.deps.fleet.request(host.name, method, { domain: domain.name, name: input.name });
      return { ok: true as const };
    });

export const snapshotProcedures = {
  snapshots: tenantProcedure
    .input(z.object({ instance: DomainName }))
    .output(SnapshotListResult)
    .query(async ({ ctx, input }) => {
      const { host, domain } = findInstance(ctx.deps, ctx.viewer, input.instance);
      return ctx.deps.fleet.request(host.name, "virt.snapshotList", { domain: domain.name });
    }),

  snapshotCreate: tenantProcedure
    .input(z.object({ instance: DomainName, name: SnapshotName, description: SnapshotDescription.default("") }))
    .output(Snapshot)
    .mutation(async ({ ctx, input }) => {
      const { host, domain } = snapshotTarget(ctx.deps, ctx.viewer, input.instance);
      return ctx.deps.fleet.request(host.name, "virt.snapshotCreate", { domain: domain.name, name: input.name, description: input.description });
    }),

  /** The VM returns to the snapshot: a running one's memory too (the UI asks first when the VM runs). */
  snapshotRevert: targetMutation("virt.snapshotRevert"),
  snapshotDelete: targetMutation("virt.snapshotDelete"),
};
