import { z } from "zod";
import {
  CreateInstanceRequest,
  DatastoreImages,
  DeleteInstanceRequest,
  NimbusError,
  OperationStarted,
  PlacementView,
  QuotaView,
  canCreateFor,
  checkQuota,
  chooseImage,
  createInstanceParams,
  datastoreCapacity,
  deleteConfirmationProblem,
  imageCatalog,
  networkProblem,
  placeInstance,
  quotaRefusal,
  quotaRows,
  selfServiceProblem,
  tenantUsage,
  tenantVlan,
  type Quota,
  type Viewer,
} from "@nimbus/domain";
import type { ApiDeps } from "../deps.js";
import { TenantLocks } from "../services/tenant-lock.js";
import { notFound, tenantProcedure } from "../trpc.js";
import { findInstance } from "./instances.js";

/** Creates and deletes of one tenant are serialized here (quota check + recording, see TenantLocks); replicas lock in the database. */
const processLocks = new TenantLocks();
const locksOf = (deps: ApiDeps) => deps.tenantLocks ?? processLocks;

const forbidden = (message: string) => new NimbusError("FORBIDDEN", message);

/**
 * The request as the server will run it: a tenant's is forced to its own tenant, VNI and (when
 * it has instances) VLAN, and may not pin a host or pick a bridge; staff need workload:create.
 */
export function resolveRequest(deps: ApiDeps, viewer: Viewer, raw: CreateInstanceRequest): CreateInstanceRequest {
  const isTenant = viewer.role === "tenant";
  if (isTenant && raw.host) throw forbidden("tenants cannot choose the host: placement does");
  if (isTenant && raw.network.bridge) throw forbidden("tenants cannot choose the bridge: placement does");
  const tenant = isTenant ? viewer.tenant! : raw.tenant;
  if (!canCreateFor(viewer, tenant)) throw forbidden(`your role (${viewer.role}) may not create instances`);
  const info = deps.tenants.directory().get(tenant);
  if (!info) throw notFound(`tenant ${tenant}`);
  const vlan = isTenant ? (tenantVlan(tenant, deps.fleet.hosts()) ?? raw.network.vlan) : raw.network.vlan;
  const network = { ...raw.network, vlan, vni: isTenant && info.vni !== null ? info.vni : raw.network.vni };
  const problem = networkProblem(network, { slug: tenant, vni: info.vni });
  if (problem) throw new NimbusError("BAD_INPUT", problem);
  return { ...raw, tenant, network };
}

async function quotaView(deps: ApiDeps, tenant: string): Promise<QuotaView> {
  const { quota, custom } = await deps.tenants.quota(tenant);
  const inFlight = deps.operations.pendingCreates().flatMap((p) => (p.tenant ? [{ ...p, tenant: p.tenant }] : []));
  const usage = tenantUsage(tenant, deps.fleet.hosts(), inFlight);
  return { tenant, quota, usage, rows: quotaRows(quota, usage), custom };
}

/** Placement and quota for a resolved request, from the inventory and the creates in flight. */
async function plan(deps: ApiDeps, viewer: Viewer, request: CreateInstanceRequest) {
  const hosts = deps.fleet.hosts();
  const datastores = datastoreCapacity(hosts);
  const image = chooseImage(imageCatalog(hosts), request.image, datastores);
  if (!image) throw notFound(`image ${request.image}`);
  const placement = placeInstance({ request, image, hosts, datastores, pending: deps.operations.pendingCreates() });
  const quota = await quotaView(deps, request.tenant);
  const quotaProblem =
    (viewer.role === "tenant" ? selfServiceProblem(request.tenant, quota.custom) : null) ?? quotaRefusal(request.tenant, checkQuota(quota.quota, quota.usage, request));
  return { image, placement, quota, quotaProblem };
}

const quotaState = (q: QuotaView) => ({ tenant: q.tenant, quota: q.quota, usage: q.usage });

export const provisionProcedures = {
  /** Where a create would go and why, every candidate's checks, and the tenant's quota against it. */
  placement: tenantProcedure
    .input(CreateInstanceRequest)
    .output(PlacementView)
    .query(async ({ ctx, input }) => {
      const request = resolveRequest(ctx.deps, ctx.viewer, input);
      const { placement, quota, quotaProblem } = await plan(ctx.deps, ctx.viewer, request);
      return {
        chosen: placement.chosen?.host ?? null,
        reason: placement.reason,
        candidates: placement.candidates.map((c) => ({ host: c.host, verdict: c.verdict, freeMemoryMiB: c.freeMemoryMiB, checks: c.checks, bridge: c.bridge })),
        tenant: request.tenant,
        network: { vlan: request.network.vlan, vni: request.network.vni, bridge: placement.chosen?.bridge?.name ?? request.network.bridge ?? null },
        quota,
        quotaProblem,
        ok: !!placement.chosen && !quotaProblem,
      };
    }),

  /**
   * Records the create and starts it on the chosen host. The quota check and the recording run
   * under the tenant's lock: a second create sent at once waits and then counts this one.
   */
  create: tenantProcedure
    .input(CreateInstanceRequest)
    .output(OperationStarted)
    .mutation(async ({ ctx, input }) => {
      const request = resolveRequest(ctx.deps, ctx.viewer, input);
      return locksOf(ctx.deps).run(request.tenant, async () => {
        const { image, placement, quota, quotaProblem } = await plan(ctx.deps, ctx.viewer, request);
        ctx.auditNote.quota = quotaState(quota);
        if (quotaProblem) throw new NimbusError("PRECONDITION_FAILED", quotaProblem, { quota: quota.rows });
        if (!placement.chosen) throw new NimbusError("PRECONDITION_FAILED", `cannot create ${request.name}: ${placement.reason}`);
        const { jobId: _jobId, ...params } = createInstanceParams("pending", request, image, placement.chosen);
        const op = await ctx.deps.operations.startCreate(placement.chosen.host, params, ctx.viewer.name);
        return { operationId: op.id };
      });
    }),

  /** Deletes an instance the viewer may create for, once its name is typed again. */
  delete: tenantProcedure
    .input(DeleteInstanceRequest)
    .output(OperationStarted)
    .mutation(async ({ ctx, input }) => {
      const { domain } = findInstance(ctx.deps, ctx.viewer, input.name);
      const tenant = domain.tenant;
      const allowed = tenant ? canCreateFor(ctx.viewer, tenant) : ctx.viewer.role !== "tenant" && canCreateFor(ctx.viewer, "");
      if (!allowed) throw forbidden(`your role (${ctx.viewer.role}) may not delete instances`);
      const problem = deleteConfirmationProblem(domain.name, input.confirm);
      if (problem) throw new NimbusError("BAD_INPUT", problem);
      const start = async () => {
        if (tenant) ctx.auditNote.quota = quotaState(await quotaView(ctx.deps, tenant));
        const op = await ctx.deps.operations.startDelete(domain.name, ctx.viewer.name, ctx.viewer.role === "tenant" ? ctx.viewer.tenant : null);
        return { operationId: op.id };
      };
      return tenant ? locksOf(ctx.deps).run(tenant, start) : start();
    }),
};

/** Quota of a tenant: a tenant member sees its own; staff name the tenant. */
export const quotaProcedures = {
  quota: tenantProcedure
    .input(z.object({ tenant: z.string().max(64).optional() }).default({}))
    .output(QuotaView)
    .query(async ({ ctx, input }) => {
      const tenant = ctx.viewer.role === "tenant" ? ctx.viewer.tenant! : input.tenant;
      if (!tenant) throw new NimbusError("BAD_INPUT", "name the tenant whose quota to show");
      if (!ctx.deps.tenants.directory().has(tenant)) throw notFound(`tenant ${tenant}`);
      return quotaView(ctx.deps, tenant);
    }),
};

export async function setQuota(deps: ApiDeps, tenant: string, quota: Quota): Promise<QuotaView> {
  if (!deps.tenants.directory().has(tenant)) throw notFound(`tenant ${tenant}`);
  await deps.tenants.setQuota(tenant, quota);
  return quotaView(deps, tenant);
}

/** Images per datastore; a tenant does not learn which hypervisors mount them. */
export const imageProcedures = {
  list: tenantProcedure.output(z.array(DatastoreImages)).query(({ ctx }) => {
    const catalog = imageCatalog(ctx.deps.fleet.hosts());
    return ctx.viewer.role === "tenant" ? catalog.map((d) => ({ ...d, mountedOn: [] })) : catalog;
  }),
};
