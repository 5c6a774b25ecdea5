import type { AppRouter } from "@nimbus/api";
import type { inferRouterOutputs } from "@trpc/server";

export type Role = "admin" | "operator" | "oncall" | "tenant";

type Out = inferRouterOutputs<AppRouter>;
/** Rows as the admin and audit procedures return them (inferred, so they cannot drift). */
export type UserRow = Out["admin"]["users"]["list"][number];
export type TenantRow = Out["admin"]["tenants"]["list"][number];
export type AuditRow = Out["audit"]["list"]["records"][number];

export const ROLE_LABEL: Record<Role, string> = { admin: "Admin", operator: "Operator", oncall: "On-call", tenant: "Tenant member" };
export const ROLE_HINT: Record<Role, string> = {
  admin: "everything, including users, tenants and host keys",
  operator: "migrate, maintenance, scale; no user management",
  oncall: "reads everything, changes no workloads",
  tenant: "only their tenant's instances, services and network",
};
