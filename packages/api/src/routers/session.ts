import { z } from "zod";
import { Role, can, type Permission } from "@nimbus/domain";
import { publicProcedure, router } from "../trpc.js";

const ALL: Permission[] = [
  "read:fleet", "read:tenant", "workload:migrate", "workload:scale", "workload:power", "host:maintenance",
  "host:keys", "swarm:tokens", "alerts:ack", "admin:users", "audit:read",
];

const Me = z
  .object({
    user: z.object({ id: z.string(), name: z.string(), role: Role, tenant: z.string().nullable() }),
    permissions: z.array(z.string()),
    lab: z.boolean(),
    /** For tenant members: whether their tenant lets them start, stop and reboot their instances. */
    tenantAllowsPower: z.boolean(),
  })
  .nullable();

export const sessionRouter = router({
  me: publicProcedure.output(Me).query(async ({ ctx }) => {
    const v = ctx.viewer;
    if (!v) return null;
    const tenant = v.role === "tenant" && v.tenant ? await ctx.deps.tenants.get(v.tenant) : null;
    return {
      user: { id: v.userId, name: v.name, role: v.role, tenant: v.tenant },
      permissions: ALL.filter((p) => can(v, p)),
      lab: !!ctx.deps.lab && v.role === "admin",
      tenantAllowsPower: tenant?.allowPower ?? false,
    };
  }),
});
