import { z } from "zod";

/**
 * Who may do what. The API's middleware asks these functions; the UI asks them too, but only to
 * hide buttons — the server never trusts that.
 */
export const Role = z.enum(["admin", "operator", "oncall", "tenant"]);
export type Role = z.infer<typeof Role>;

export interface Viewer {
  userId: string;
  name: string;
  role: Role;
  /** Set for tenant members; null for staff roles, who see every tenant. */
  tenant: string | null;
}

export type Permission =
  | "read:fleet" // hosts, bridges, storage servers: infrastructure beyond one tenant
  | "read:tenant" // instances, services and network of the viewer's own tenant
  | "workload:migrate"
  | "workload:scale"
  | "workload:power"
  | "workload:create" // create and delete instances for any tenant, pin hosts, pick bridges
  | "workload:console" // open any instance's serial console (tenants: their own, see canOpenConsole)
  | "tenant:quota" // set tenants' quotas
  | "images:manage" // import and delete base images
  | "host:maintenance"
  | "host:keys"
  | "swarm:tokens"
  | "lb:manage" // create, change, apply and delete load balancers (HAProxy on edge hosts)
  | "swarm:stacks" // deploy and remove stacks for any tenant (tenants: their own, see canManageStack)
  | "alerts:ack"
  | "alerts:manage" // notification channels (with their secrets) and alert rules
  | "admin:users"
  | "audit:read";

const grants: Record<Role, readonly Permission[]> = {
  admin: [
    "read:fleet", "read:tenant", "workload:migrate", "workload:scale", "workload:power", "workload:create", "workload:console", "tenant:quota", "images:manage",
    "host:maintenance", "host:keys", "swarm:tokens", "lb:manage", "swarm:stacks", "alerts:ack", "alerts:manage", "admin:users", "audit:read",
  ],
  operator: ["read:fleet", "read:tenant", "workload:migrate", "workload:scale", "workload:power", "workload:create", "workload:console", "host:maintenance", "lb:manage", "alerts:ack", "swarm:stacks"],
  oncall: ["read:fleet", "read:tenant", "alerts:ack", "audit:read"],
  // Tenant power actions depend on the tenant's own setting (see canPower); tenants create and
  // delete their own instances within their quota (see canCreateFor).
  tenant: ["read:tenant"],
};

export const can = (viewer: Pick<Viewer, "role">, permission: Permission): boolean =>
  grants[viewer.role].includes(permission);

/** Staff see everything; a tenant member sees objects labelled with their tenant only. */
export const canSeeTenantObject = (viewer: Pick<Viewer, "role" | "tenant">, objectTenant: string | null): boolean =>
  viewer.role !== "tenant" || (viewer.tenant !== null && objectTenant === viewer.tenant);

export function visibleTo<T>(viewer: Pick<Viewer, "role" | "tenant">, items: readonly T[], tenantOf: (t: T) => string | null): T[] {
  if (viewer.role !== "tenant") return [...items];
  return items.filter((i) => canSeeTenantObject(viewer, tenantOf(i)));
}

export const canPower = (viewer: Pick<Viewer, "role" | "tenant">, tenantAllowsPower: boolean): boolean =>
  can(viewer, "workload:power") || (viewer.role === "tenant" && tenantAllowsPower);

/** Staff with workload:create create for any tenant; a tenant member only for its own (within its quota, checked by the server). */
/** Staff with swarm:stacks deploy and remove any stack; a tenant member only its own tenant's (the API names them `<tenant>-…`). */
export const canManageStack = (viewer: Pick<Viewer, "role" | "tenant">, stackTenant: string | null): boolean =>
  can(viewer, "swarm:stacks") || (viewer.role === "tenant" && viewer.tenant !== null && viewer.tenant === stackTenant);

export const canCreateFor = (viewer: Pick<Viewer, "role" | "tenant">, tenant: string): boolean =>
  can(viewer, "workload:create") || (viewer.role === "tenant" && viewer.tenant === tenant);

/** Staff with workload:console open any instance's serial console; a tenant member only its own tenant's. */
export const canOpenConsole = (viewer: Pick<Viewer, "role" | "tenant">, instanceTenant: string | null): boolean =>
  viewer.role === "tenant" ? viewer.tenant !== null && viewer.tenant === instanceTenant : can(viewer, "workload:console");

/** What a tenant member may start itself, so may cancel for its own tenant. */
const TENANT_CANCELLABLE = new Set(["create", "stack-deploy", "stack-remove", "service-update", "service-rollback"]);

/**
 * Staff with workload:migrate cancel any operation; a tenant member only a create, stack deploy or
 * removal, service update or rollback of its own tenant (what it may start itself). Another
 * tenant's operation is not even visible to it (the API answers as for a missing one).
 */
export const canCancelOperation = (viewer: Pick<Viewer, "role" | "tenant">, op: { kind: string; tenant: string | null }): boolean =>
  (viewer.role !== "tenant" && can(viewer, "workload:migrate")) || (viewer.role === "tenant" && TENANT_CANCELLABLE.has(op.kind) && !!op.tenant && viewer.tenant === op.tenant);

/**
 * Snapshots (take, revert, delete): staff with workload:power (a revert starts or stops the VM);
 * a tenant member on its own tenant's instances (the API finds only those for it anyway).
 */
export const canSnapshot = (viewer: Pick<Viewer, "role" | "tenant">, objectTenant: string | null): boolean =>
  can(viewer, "workload:power") || (viewer.role === "tenant" && viewer.tenant !== null && viewer.tenant === objectTenant);
