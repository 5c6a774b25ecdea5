import { z } from "zod";
import { tracked } from "@trpc/server";
import { router, tenantProcedure } from "../trpc.js";

export const liveRouter = router({
  /** The one push channel: every change this viewer may see, already projected and filtered. */
  events: tenantProcedure.input(z.object({ lastEventId: z.string().max(64).nullish() }).optional()).subscription(async function* ({ ctx, input, signal }) {
    for await (const msg of ctx.live.stream(ctx.viewer, input?.lastEventId, signal)) {
      yield tracked(msg.id, msg.event);
    }
  }),
});
