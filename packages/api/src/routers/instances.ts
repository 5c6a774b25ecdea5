import { z } from "zod";
import {
  DEFAULT_POLICY,
  DomainName,
  InstanceIndex,
  InstanceListQuery,
  HostName,
  MigrateOptions,
  NimbusError,
  canPower,
  canSeeTenantObject,
  describePolicy,
  preflight,
  rankDestinations,
  swarmRoleOfVm,
  type Domain,
  type HostRecord,
  type Operation,
  type Viewer,
} from "@nimbus/domain";
import type { ApiDeps } from "../deps.js";
import { notFound, router, staffProcedure, tenantProcedure } from "../trpc.js";
import { instancesFor, maskHost, maskInstance, operationFor } from "../services/projections.js";
import { instanceView } from "@nimbus/domain";
import { movesFor } from "./history.js";
import { provisionProcedures } from "./instances-provision.js";
import { snapshotProcedures } from "./instances-snapshots.js";
import { consoleProcedures } from "./instances-console.js";

/** Finds a VM the viewer may see; another tenant's VM is "not found", exactly like a missing one. */
export function findInstance(deps: ApiDeps, viewer: Viewer, name: string): { host: HostRecord; domain: Domain } {
  const found = deps.fleet
    .hosts()
    .flatMap((host) => (host.inventory.virt?.domains ?? []).filter((d) => d.name === name).map((domain) => ({ host, domain })))
    .sort((a, b) => Number(b.domain.state === "running") - Number(a.domain.state === "running"))[0];
  if (!found || !canSeeTenantObject(viewer, found.domain.tenant)) throw notFound(`instance ${name}`);
  return found;
}

/** One index per fleet (a process serves one), refreshed from memory at each query: no SSH, no database. */
const indexes = new WeakMap<object, InstanceIndex>();
function instanceIndex(deps: ApiDeps): InstanceIndex {
  let index = indexes.get(deps.fleet);
  if (!index) indexes.set(deps.fleet, (index = new InstanceIndex()));
  index.refresh(deps.fleet.hosts(), deps.tenants.directory());
  return index;
}
/** A tenant's host column is a token; a search or filter by host compares tokens (computed once per host). */
const tokens = new Map<string, string>();
const hostToken = (host: string) => {
  let t = tokens.get(host);
  if (t === undefined) {
    if (tokens.size > 100_000) tokens.clear();
    tokens.set(host, (t = maskHost(host)));
  }
  return t;
};

const busyInstances = (deps: ApiDeps) =>
  new Set(deps.operations.running().filter((o) => o.target.type === "instance").map((o) => o.target.name));

export const instancesRouter = router({
  ...provisionProcedures,
  ...snapshotProcedures,
  ...consoleProcedures,
  list: tenantProcedure.query(({ ctx }) => {
    const directory = ctx.deps.tenants.directory();
    return ctx.deps.fleet.hosts().flatMap((h) => instancesFor(ctx.viewer, h, directory));
  }),

  /**
   * One page of instances, filtered, searched and sorted on the server, with counts: what the
   * Instances page shows (a fleet of 20,000 VMs is never shipped whole). A tenant sees only its
   * own, with host tokens, and cannot find a VM by a host's name.
   */
  page: tenantProcedure.input(InstanceListQuery.optional()).query(({ ctx, input }) => {
    const staff = ctx.viewer.role !== "tenant";
    const page = instanceIndex(ctx.deps).query(input ?? {}, staff ? { tenant: null } : { tenant: ctx.viewer.tenant ?? "\u0000", hostLabel: hostToken });
    return staff ? page : { ...page, items: page.items.map(maskInstance) };
  }),

  get: tenantProcedure.input(z.object({ name: DomainName })).query(async ({ ctx, input }) => {
    const { host, domain } = findInstance(ctx.deps, ctx.viewer, input.name);
    const view = instanceView(host, domain, ctx.deps.tenants.directory());
    const ops = await ctx.deps.operations.list({ limit: 50, target: { type: "instance", name: input.name } });
    const staff = ctx.viewer.role !== "tenant";
    return {
      instance: staff ? view : maskInstance(view),
      domain: staff ? domain : { ...domain, nics: domain.nics.map((n) => ({ ...n, bridge: "", device: null })) },
      operations: ops.map((o) => operationFor(ctx.viewer, o)).filter((o): o is Operation => o !== null),
    };
  }),

  migrationTargets: staffProcedure("workload:migrate")
    .input(z.object({ name: DomainName }))
    .query(({ ctx, input }) => {
      const { host: source, domain } = findInstance(ctx.deps, ctx.viewer, input.name);
      const tenantVni = domain.tenant ? (ctx.deps.tenants.directory().get(domain.tenant)?.vni ?? null) : null;
      const busy = busyInstances(ctx.deps);
      const candidates = ctx.deps.fleet
        .hosts()
        .filter((h) => h.name !== source.name && (h.inventory.virt || h.connection.capabilities.includes("virt")))
        .map((destination) => ({ host: destination, checks: preflight({ domain, source, destination, tenantVni, busyInstances: busy }) }));
      return rankDestinations(candidates);
    }),

  /**
   * Everything the migrate dialog shows: destinations ranked by fit with every check, the
   * headroom policy, and what the VM runs as a swarm node (with the drain to offer first).
   * The checks run again on both agents when the migration starts.
   */
  preflight: staffProcedure("workload:migrate")
    .input(z.object({ name: DomainName }))
    .query(({ ctx, input }) => {
      const { host: source, domain } = findInstance(ctx.deps, ctx.viewer, input.name);
      const tenantVni = domain.tenant ? (ctx.deps.tenants.directory().get(domain.tenant)?.vni ?? null) : null;
      const busy = busyInstances(ctx.deps);
      const hosts = ctx.deps.fleet.hosts();
      const candidates = hosts
        .filter((h) => h.name !== source.name && (h.inventory.virt || h.connection.capabilities.includes("virt")))
        .map((destination) => ({ host: destination, checks: preflight({ domain, source, destination, tenantVni, busyInstances: busy }) }));
      return {
        instance: domain.name,
        source: source.name,
        state: domain.state,
        memoryMiB: domain.memoryMiB,
        vcpus: domain.vcpus,
        busy: busy.has(domain.name),
        policy: { ...DEFAULT_POLICY, description: describePolicy(DEFAULT_POLICY) },
        destinations: rankDestinations(candidates),
        swarm: swarmRoleOfVm(domain, hosts),
        recheckedOnAgents: true as const,
      };
    }),

  /** Moves of this VM (migrations and disk moves), newest first: who, from, to, options, duration, downtime, result. */
  history: staffProcedure("read:fleet")
    .input(z.object({ name: DomainName, limit: z.number().int().min(1).max(200).default(50) }))
    .query(async ({ ctx, input }) => {
      findInstance(ctx.deps, ctx.viewer, input.name);
      return movesFor(ctx.deps, { instance: input.name }, input.limit);
    }),

  migrate: staffProcedure("workload:migrate")
    .input(z.object({ instance: DomainName, destination: HostName, options: MigrateOptions }))
    .mutation(async ({ ctx, input }): Promise<Operation> => {
      findInstance(ctx.deps, ctx.viewer, input.instance);
      if (!ctx.deps.fleet.host(input.destination)) throw notFound(`host ${input.destination}`);
      return ctx.deps.operations.startMigration(input, ctx.viewer.name);
    }),

  power: tenantProcedure
    .input(z.object({ name: DomainName, action: z.enum(["start", "shutdown", "reboot", "destroy"]) }))
    .mutation(async ({ ctx, input }) => {
      const { host, domain } = findInstance(ctx.deps, ctx.viewer, input.name);
      const tenant = domain.tenant ? await ctx.deps.tenants.get(domain.tenant) : null;
      if (!canPower(ctx.viewer, tenant?.allowPower ?? false))
        throw new NimbusError("FORBIDDEN", "your role may not change the power state of this instance");
      await ctx.deps.fleet.request(host.name, "virt.power", { domain: domain.name, action: input.action });
      return { ok: true as const };
    }),
});
