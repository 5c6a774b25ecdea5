import { z } from "zod";
import { HostListQuery, HostName, queryHosts, type HostPage, type HostRecord, type HostSummary, type InstanceView } from "@nimbus/domain";
import { notFound, router, staffProcedure } from "../trpc.js";
import { hostSummary } from "../services/projections.js";
import { instancesOf } from "@nimbus/domain";

const byName = z.object({ name: HostName });

export const hostsRouter = router({
  list: staffProcedure("read:fleet").query(({ ctx }): HostSummary[] => ctx.deps.fleet.hosts().map(hostSummary)),

  /** One page of hosts, filtered and sorted on the server, with counts (2,000 hosts are not shipped whole). */
  page: staffProcedure("read:fleet")
    .input(HostListQuery.optional())
    .query(({ ctx, input }): HostPage => queryHosts(ctx.deps.fleet.hosts().map(hostSummary), input ?? {})),

  get: staffProcedure("read:fleet")
    .input(byName)
    .query(({ ctx, input }): { host: HostRecord; summary: HostSummary; instances: InstanceView[] } => {
      const host = ctx.deps.fleet.host(input.name);
      if (!host) throw notFound(`host ${input.name}`);
      return { host, summary: hostSummary(host), instances: instancesOf(host, ctx.deps.tenants.directory()) };
    }),

  /**
   * Names the fingerprint being accepted (the one the admin saw): refused when the host presents
   * another one now. The audit record keeps it with the request's input.
   */
  acceptKey: staffProcedure("host:keys")
    .input(byName.extend({ fingerprint: z.string().min(1).max(200) }))
    .mutation(async ({ ctx, input }) => {
      const host = ctx.deps.fleet.host(input.name);
      if (!host) throw notFound(`host ${input.name}`);
      const replaced = host.connection.pinnedKey;
      await ctx.deps.fleet.acceptHostKey(input.name, input.fingerprint, ctx.viewer.name);
      return { ok: true as const, fingerprint: input.fingerprint, replaced };
    }),

  setMaintenance: staffProcedure("host:maintenance")
    .input(byName.extend({ on: z.boolean() }))
    .mutation(async ({ ctx, input }): Promise<HostSummary> => {
      const host = ctx.deps.fleet.host(input.name);
      if (!host) throw notFound(`host ${input.name}`);
      // Turning it off goes through exit, which refuses while the host is being evacuated.
      // Replica mode: both wait for the host's owner (its error is the caller's).
      if (!input.on) await ctx.deps.operations.exitMaintenance(input.name);
      else await ctx.deps.fleet.setMaintenance(input.name, true);
      return hostSummary(ctx.deps.fleet.host(input.name)!);
    }),
});
