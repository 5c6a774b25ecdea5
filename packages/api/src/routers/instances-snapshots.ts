import { z } from "zod";
import { DomainName, NimbusError, Snapshot, type DomainSnapshots, SnapshotDescription, SnapshotListResult, SnapshotName, canSnapshot, type Viewer } from "@nimbus/domain";
import type { ApiDeps } from "../deps.js";
import { tenantProcedure } from "../trpc.js";
import { findInstance } from "./instances.js";

/**
 * Instance snapshots: listed from the pushed virt section (the host reads them again only when
 * they change), taken, reverted and deleted by the VM's host (its agent applies the qcow2 rule on the live
 * domain). Tenants reach their own instances only: findInstance answers another tenant's like a
 * missing one. Mutations are audited by the middleware, with the instance as target.
 */
function snapshotTarget(deps: ApiDeps, viewer: Viewer, instance: string) {
  const { host, domain } = findInstance(deps, viewer, instance);
  if (!canSnapshot(viewer, domain.tenant)) throw new NimbusError("FORBIDDEN", "your role may not take, revert or delete snapshots");
  return { host, domain };
}

/**
 * After a snapshot mutation, waits (at most `timeoutMs`) until the host's pushed virt section
 * shows it, so a list read right after answers what was just done. An agent that reports no
 * snapshots in its section is asked each time anyway: nothing to wait for.
 */
function pushedSnapshots(deps: ApiDeps, host: string, domain: string, done: (s: DomainSnapshots) => boolean, timeoutMs = 5_000): Promise<void> {
  const now = () => deps.fleet.host(host)?.inventory.virt?.domains.find((d) => d.name === domain)?.snapshots;
  const settled = () => {
    const s = now();
    return !s || done(s);
  };
  if (settled()) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(finish, timeoutMs);
    timer.unref?.();
    const unsubscribe = deps.fleet.subscribe((e) => {
      if (e.type === "host" && e.host.name === host && e.changed.includes("virt") && settled()) finish();
    });
  });
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
      await pushedSnapshots(ctx.deps, host.name, domain.name, (s) =>
        method === "virt.snapshotDelete" ? !s.items.some((x) => x.name === input.name) : s.items.some((x) => x.name === input.name && x.current),
      );
      return { ok: true as const };
    });

export const snapshotProcedures = {
  snapshots: tenantProcedure
    .input(z.object({ instance: DomainName }))
    .output(SnapshotListResult)
    .query(async ({ ctx, input }) => {
      const { host, domain } = findInstance(ctx.deps, ctx.viewer, input.instance);
      // From memory: the host reports snapshots in its virt section. Only an agent that predates that is asked.
      if (domain.snapshots) return { allowed: domain.snapshots.allowed, snapshots: domain.snapshots.items };
      return ctx.deps.fleet.request(host.name, "virt.snapshotList", { domain: domain.name });
    }),

  snapshotCreate: tenantProcedure
    .input(z.object({ instance: DomainName, name: SnapshotName, description: SnapshotDescription.default("") }))
    .output(Snapshot)
    .mutation(async ({ ctx, input }) => {
      const { host, domain } = snapshotTarget(ctx.deps, ctx.viewer, input.instance);
      const taken = await ctx.deps.fleet.request(host.name, "virt.snapshotCreate", { domain: domain.name, name: input.name, description: input.description });
      await pushedSnapshots(ctx.deps, host.name, domain.name, (s) => s.items.some((x) => x.name === input.name));
      return taken;
    }),

  /** The VM returns to the snapshot: a running one's memory too (the UI asks first when the VM runs). */
  snapshotRevert: targetMutation("virt.snapshotRevert"),
  snapshotDelete: targetMutation("virt.snapshotDelete"),
};
