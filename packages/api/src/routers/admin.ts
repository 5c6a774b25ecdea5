import { z } from "zod";
import { NimbusError, PASSWORD_MAX_LENGTH, Role, TenantSlug, Vni } from "@nimbus/domain";
import { notFound, router, staffProcedure } from "../trpc.js";

const admin = staffProcedure("admin:users");
const UserId = z.string().min(1).max(64);

const tenantFor = (role: z.infer<typeof Role>, tenant: string | null | undefined) => {
  if (role === "tenant" && !tenant) throw new NimbusError("BAD_INPUT", "a tenant member needs a tenant");
  return role === "tenant" ? tenant! : null;
};

export const adminRouter = router({
  users: router({
    list: admin.query(({ ctx }) => ctx.deps.auth.listUsers()),
    create: admin
      .input(
        z.object({
          email: z.email(),
          name: z.string().min(1).max(80),
          // Only bounded here: the one password policy (domain/password-policy.ts) is applied with
          // the email by auth.createUser and says in words what is wrong.
          password: z.string().max(PASSWORD_MAX_LENGTH * 2),
          role: Role,
          tenant: TenantSlug.nullable().optional(),
        }),
      )
      .mutation(async ({ ctx, input }) => {
        const tenant = tenantFor(input.role, input.tenant);
        if (tenant && !(await ctx.deps.tenants.get(tenant))) throw notFound(`tenant ${tenant}`);
        return ctx.deps.auth.createUser({ ...input, tenant });
      }),
    setRole: admin
      .input(z.object({ userId: UserId, role: Role, tenant: TenantSlug.nullable().optional() }))
      .mutation(async ({ ctx, input }) => {
        const tenant = tenantFor(input.role, input.tenant);
        if (tenant && !(await ctx.deps.tenants.get(tenant))) throw notFound(`tenant ${tenant}`);
        if (input.userId === ctx.viewer.userId && input.role !== "admin") throw new NimbusError("CONFLICT", "you cannot remove your own admin role");
        const row = await ctx.deps.auth.setRole(input.userId, input.role, tenant);
        // What the user may see changed: their open live streams must not keep the old view.
        ctx.live.revokeUser(input.userId);
        return row;
      }),
    resetPassword: admin.input(z.object({ userId: UserId })).mutation(async ({ ctx, input }) => {
      const result = await ctx.deps.auth.resetPassword(input.userId);
      ctx.live.revokeUser(input.userId);
      return result;
    }),
    setDisabled: admin.input(z.object({ userId: UserId, disabled: z.boolean() })).mutation(({ ctx, input }) => {
      if (input.userId === ctx.viewer.userId && input.disabled) throw new NimbusError("CONFLICT", "you cannot disable yourself");
      return ctx.deps.auth.setDisabled(input.userId, input.disabled).then((row) => {
        if (input.disabled) ctx.live.revokeUser(input.userId);
        return row;
      });
    }),
  }),
  tenants: router({
    list: staffProcedure("read:fleet").query(({ ctx }) => ctx.deps.tenants.list()),
    create: admin
      .input(z.object({ slug: TenantSlug, name: z.string().min(1).max(80), vni: Vni.nullable().default(null), allowPower: z.boolean().default(false) }))
      .mutation(({ ctx, input }) => ctx.deps.tenants.create(input)),
    update: admin
      .input(z.object({ slug: TenantSlug, name: z.string().min(1).max(80).optional(), allowPower: z.boolean().optional() }))
      .mutation(async ({ ctx, input }) => {
        if (!(await ctx.deps.tenants.get(input.slug))) throw notFound(`tenant ${input.slug}`);
        return ctx.deps.tenants.update(input.slug, input);
      }),
  }),
});

const AuditFilter = z.object({
  user: z.string().max(120).optional(),
  action: z.string().max(120).optional(),
  target: z.string().max(120).optional(),
  result: z.enum(["ok", "error"]).optional(),
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
});

export const auditRouter = router({
  list: staffProcedure("audit:read")
    .input(AuditFilter.extend({ limit: z.number().int().min(1).max(200).default(100), offset: z.number().int().min(0).max(1_000_000).default(0) }))
    // Newest first; `offset` comes back so a page read by offset (the Audit page's sparse table) knows where it sits.
    .query(async ({ ctx, input: { limit, offset, ...filter } }) => ({ ...(await ctx.deps.audit.query(filter, { limit, offset })), offset })),
  /** CSV in chunks, for the server's streamed download (GET /api/audit.csv), which calls it. */
  csv: staffProcedure("audit:read")
    .input(AuditFilter)
    .query(({ ctx, input }) => ctx.deps.audit.exportCsv(input)),
});

export const labRouter = router({
  faults: admin.query(({ ctx }) => ctx.deps.lab?.faults ?? []),
  inject: admin
    .input(z.object({ name: z.string().regex(/^[a-z-]+$/).max(40), args: z.array(z.string().regex(/^[A-Za-z0-9_./:-]{1,64}$/)).max(4) }))
    .mutation(async ({ ctx, input }) => {
      if (!ctx.deps.lab) throw new NimbusError("PRECONDITION_FAILED", "no lab is running: fault injection exists only in the embedded lab");
      await ctx.deps.lab.inject(input.name, input.args);
      return { ok: true as const };
    }),
});
