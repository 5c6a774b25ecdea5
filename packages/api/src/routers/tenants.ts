import { z } from "zod";
import { Quota, QuotaView, TenantSlug } from "@nimbus/domain";
import { router, staffProcedure } from "../trpc.js";
import { imageAdminProcedures } from "./images.js";
import { imageProcedures, quotaProcedures, setQuota } from "./instances-provision.js";

export const tenantsRouter = router({
  ...quotaProcedures,
  setQuota: staffProcedure("tenant:quota")
    .input(z.object({ tenant: TenantSlug, quota: Quota }))
    .output(QuotaView)
    .mutation(({ ctx, input }) => setQuota(ctx.deps, input.tenant, input.quota)),
});

export const imagesRouter = router({ ...imageProcedures, ...imageAdminProcedures });
