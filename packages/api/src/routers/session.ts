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
  })
  .nullable();

export const sessionRouter = router({
  me: publicProcedure.output(Me).query(({ ctx }) => {
    const v = ctx.viewer;
    if (!v) return null;
    return {
      user: { id: v.userId, name: v.name, role: v.role, tenant: v.tenant },
      permissions: ALL.filter((p) => can(v, p)),
      lab: !!ctx.deps.lab && v.role === "admin",
    };
  }),
});
