import { z } from "zod";
import { TRPCError } from "@trpc/server";
import {
  COMPOSE_LIMITS,
  NimbusError,
  StackName,
  TenantSlug,
  canManageStack,
  publishedPortsForTenant,
  stacksOf,
  visibleTo,
  type HostRecord,
  type Operation,
  type StackValidation,
  type StackView,
  type SwarmSection,
  type Viewer,
} from "@nimbus/domain";
import { planStack, type StackPlan } from "@nimbus/domain/compose";
import { notFound, router, tenantProcedure } from "../trpc.js";

/**
 * Stacks from compose files. Tenants deploy and remove within their own namespace (their stacks
 * are named `<tenant>-…` and labelled `nimbus.tenant`; another tenant's stack answers as a missing
 * one); staff with swarm:stacks deploy for any tenant or none. The compose travels in chunks of
 * at most 8 KiB: every text in a request is bounded (input-limits.ts), and a file is at most 64 KiB.
 */

const CHUNK = 8 * 1024;
export const ComposeChunks = z
  .array(z.string().max(CHUNK))
  .min(1)
  .max(Math.ceil(COMPOSE_LIMITS.bytes / CHUNK) + 1)
  .transform((chunks) => chunks.join(""));

const DeployInput = z.object({
  /** The stack's name; a tenant member's gets the tenant's prefix. */
  name: z.string().min(1).max(64),
  compose: ComposeChunks,
  /** Staff only: the tenant the stack belongs to (null: no tenant, staff only). A member's is always its own. */
  tenant: TenantSlug.nullable().optional(),
});

/** The manager the swarm is asked through: the leader when it reports itself, else any online manager. */
function managerOf(hosts: readonly HostRecord[]): HostRecord | null {
  const managers = hosts.filter((h) => h.connection.state === "online" && h.inventory.swarm?.role === "manager");
  return managers.find((h) => h.inventory.swarm!.nodes.some((n) => n.leader && n.id === h.inventory.swarm!.nodeId)) ?? managers[0] ?? null;
}

function tenantFor(viewer: Viewer, asked: string | null | undefined): string | null {
  if (viewer.role === "tenant") return viewer.tenant;
  return asked ?? null;
}

/** Staff without swarm:stacks are refused before anything is looked up (a missing stack must not answer them NOT_FOUND). */
function mayManage(viewer: Viewer, tenant: string | null) {
  if (!canManageStack(viewer, tenant)) throw new TRPCError({ code: "FORBIDDEN", message: `your role (${viewer.role}) may not deploy or remove stacks` });
}
const staffMayManage = (viewer: Viewer) => viewer.role === "tenant" || mayManage(viewer, null);

function plan(hosts: readonly HostRecord[], viewer: Viewer, input: z.infer<typeof DeployInput>): StackPlan {
  const manager = managerOf(hosts)?.inventory.swarm ?? null;
  const engines = hosts.filter((h) => h.connection.state === "online" && h.inventory.swarm).map((h) => ({ host: h.name, swarm: h.inventory.swarm as SwarmSection }));
  return planStack({ name: input.name, tenant: tenantFor(viewer, input.tenant), compose: input.compose, manager, engines });
}

export const stacksRouter = router({
  /** Stacks with their services, replicas running/desired and published ports; a tenant member sees its own only. */
  list: tenantProcedure.query(({ ctx }): StackView[] => {
    const manager = managerOf(ctx.deps.fleet.hosts());
    const stacks = visibleTo(ctx.viewer, stacksOf(manager?.inventory.swarm), (s) => s.tenant);
    if (ctx.viewer.role !== "tenant") return stacks;
    // Nodes are infrastructure: a tenant reads how many answer a host-mode port, not which.
    return stacks.map((st) => ({ ...st, ports: publishedPortsForTenant(st.ports), services: st.services.map((sv) => ({ ...sv, ports: publishedPortsForTenant(sv.ports) })) }));
  }),

  /**
   * Checks a compose file and says what a deploy would change; sends nothing to any host. A
   * mutation only because a 64 KiB file does not belong in a URL.
   */
  validate: tenantProcedure
    // No row per check: it changes nothing, runs at each pause in typing, and would store the file (its environment too).
    .meta({ scope: "tenant-scoped", audit: false })
    .input(DeployInput)
    .mutation(({ ctx, input }): StackValidation => {
    const tenant = tenantFor(ctx.viewer, input.tenant);
    mayManage(ctx.viewer, tenant);
    return plan(ctx.deps.fleet.hosts(), ctx.viewer, input).validation;
  }),

  /** Checks again (the inventory may have changed since the dialog's check), then deploys as an operation. */
  deploy: tenantProcedure.input(DeployInput).mutation(async ({ ctx, input }): Promise<Operation> => {
    const tenant = tenantFor(ctx.viewer, input.tenant);
    mayManage(ctx.viewer, tenant);
    const p = plan(ctx.deps.fleet.hosts(), ctx.viewer, input);
    ctx.auditNote.input = { name: input.name, stack: p.stack, tenant: p.tenant, services: p.services, bytes: input.compose.length, errors: p.validation.errors.length };
    if (!p.validation.valid || !p.labelled) {
      const first = p.validation.errors[0];
      throw new NimbusError("BAD_INPUT", `the compose file has ${p.validation.errors.length} error${p.validation.errors.length === 1 ? "" : "s"}${first ? `: ${first.path}: ${first.message}` : ""}`, {
        errors: p.validation.errors.slice(0, 20),
      });
    }
    return ctx.deps.operations.startStackDeploy({ stack: p.stack, tenant: p.tenant, labelled: p.labelled, services: p.services, diff: p.validation.diff }, ctx.viewer.name);
  }),

  /** `docker stack rm` as an operation; another tenant's stack answers as a missing one. */
  remove: tenantProcedure.input(z.object({ name: StackName })).mutation(async ({ ctx, input }): Promise<Operation> => {
    staffMayManage(ctx.viewer);
    const manager = managerOf(ctx.deps.fleet.hosts());
    const stack = stacksOf(manager?.inventory.swarm).find((s) => s.name === input.name);
    if (!stack || !visibleTo(ctx.viewer, [stack], (s) => s.tenant).length) throw notFound(`stack ${input.name}`);
    mayManage(ctx.viewer, stack.tenant);
    return ctx.deps.operations.startStackRemove(stack.name, stack.tenant, stack.services.map((s) => s.name), ctx.viewer.name);
  }),
});
