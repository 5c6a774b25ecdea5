import { z } from "zod";
import { LogsRequest, NimbusError, ServiceName, ServiceUpdateRequest, canSeeTenantObject, canUpdateService, type Operation, type Viewer } from "@nimbus/domain";
import { notFound, router, tenantProcedure } from "../trpc.js";
import { swarmOverview } from "../services/projections.js";
import { serviceLogStreams, type LogBatch } from "../services/service-logs.js";
import type { FleetView } from "@nimbus/fleet";

/**
 * One service: update its image, roll it back (operations), and stream its logs. Tenants act on
 * and read their own tenant's services only; another tenant's service answers exactly like a
 * missing one. Mounted as `swarm.services`.
 */
function visibleService(fleet: FleetView, viewer: Viewer, service: string) {
  const swarm = swarmOverview(fleet.hosts(), viewer);
  const svc = swarm.services.find((s) => s.name === service);
  if (!svc || !canSeeTenantObject(viewer, svc.tenant)) throw notFound(`service ${service}`);
  return { swarm, svc };
}

function mayUpdate(viewer: Viewer, svc: { name: string; tenant: string | null }) {
  if (!canUpdateService(viewer, svc.tenant)) throw new NimbusError("FORBIDDEN", `your role may not update ${svc.name}`, { service: svc.name });
}

export const swarmServicesRouter = router({
  update: tenantProcedure.input(ServiceUpdateRequest).mutation(async ({ ctx, input }): Promise<Operation> => {
    const { svc } = visibleService(ctx.deps.fleet, ctx.viewer, input.service);
    mayUpdate(ctx.viewer, svc);
    if (svc.image === input.image && svc.update?.state !== "paused")
      throw new NimbusError("CONFLICT", `${input.service} already runs ${input.image}`, { service: input.service });
    return ctx.deps.operations.startServiceUpdate({ service: input.service, image: input.image }, ctx.viewer.name, ctx.viewer.role === "tenant" ? ctx.viewer.tenant : null);
  }),

  rollback: tenantProcedure.input(z.object({ service: ServiceName })).mutation(async ({ ctx, input }): Promise<Operation> => {
    const { svc } = visibleService(ctx.deps.fleet, ctx.viewer, input.service);
    mayUpdate(ctx.viewer, svc);
    return ctx.deps.operations.startServiceUpdate({ service: input.service, image: null }, ctx.viewer.name, ctx.viewer.role === "tenant" ? ctx.viewer.tenant : null);
  }),

  /**
   * The service's logs from the manager (`docker service logs`): the tail, then new lines while
   * following; ends with `end` (and its reason). Asked of the manager only while a browser reads.
   */
  logs: tenantProcedure.input(LogsRequest).subscription(async ({ ctx, input, signal }): Promise<AsyncGenerator<LogBatch>> => {
    const { swarm } = visibleService(ctx.deps.fleet, ctx.viewer, input.service);
    if (!swarm.managerHost) throw new NimbusError("PRECONDITION_FAILED", "no swarm manager is online to read the logs from");
    const streams = serviceLogStreams(ctx.deps.fleet);
    streams.assertRoom(ctx.viewer);
    return streams.stream(ctx.viewer, swarm.managerHost, input, signal);
  }),
});
