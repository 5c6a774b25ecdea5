import { HealthListQuery, queryHealth, scopeFindings, storageOverview, tenantTable, visibleTopology, vlanTable, vniTable, type HostNetworkView, type StorageOverview } from "@nimbus/domain";
import { z } from "zod";
import { notFound, router, staffProcedure, tenantProcedure } from "../trpc.js";
import { networkOf } from "../services/projections.js";

export const networkRouter = router({
  /**
   * The topology, its findings and the cluster tables, as the viewer may see them: staff see
   * everything, a tenant only its own VNI, VLANs and VMs (host names replaced by tokens).
   */
  topology: tenantProcedure.query(({ ctx }) => {
    const { version, topology, findings } = ctx.topology.current();
    if (ctx.viewer.role !== "tenant") {
      return { version, topology, findings, tables: { vlans: vlanTable(topology), vnis: vniTable(topology), tenants: tenantTable(topology) } };
    }
    const scoped = visibleTopology(ctx.viewer, topology);
    // Host names in ids and findings become tokens at the tenant boundary.
    return { version, topology: scoped, findings: scopeFindings(findings, scoped), tables: { vlans: vlanTable(scoped), vnis: vniTable(scoped), tenants: tenantTable(scoped) } };
  }),

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
  /** One page of checks (open problems first), filtered on the server, with the fleet's counts (the Health page). */
  page: staffProcedure("read:fleet")
    .input(HealthListQuery.optional())
    .query(({ ctx, input }) => queryHealth([...ctx.health.checks()], input ?? {})),
  // Both are mutations, so the audit trail says who acknowledged what, with which note, and who took it back.
  acknowledge: staffProcedure("alerts:ack")
    .input(z.object({ id: z.string().max(200), note: z.string().trim().max(500).optional() }))
    .mutation(({ ctx, input }) => {
      if (!ctx.health.acknowledge(input.id, ctx.viewer.name, new Date().toISOString(), input.note || undefined)) throw notFound(`failing check ${input.id}`);
      return { ok: true as const };
    }),
  unacknowledge: staffProcedure("alerts:ack")
    .input(z.object({ id: z.string().max(200) }))
    .mutation(({ ctx, input }) => {
      if (!ctx.health.unacknowledge(input.id)) throw notFound(`acknowledged check ${input.id}`);
      return { ok: true as const };
    }),
});
