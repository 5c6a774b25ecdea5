import { z } from "zod";
import { tracked } from "@trpc/server";
import { TRPCError } from "@trpc/server";
import { router, tenantProcedure } from "../trpc.js";
import { StreamLimitReached, StreamRevoked } from "../services/live-hub.js";

export const liveRouter = router({
  /**
   * The one push channel: every change this viewer may see, already projected and filtered. The
   * last event id is this process's position and, in replica mode, the cluster cursor (at most
   * 1,200 characters: cluster/src/replay.ts); anything it cannot use is answered with a reset.
   */
  events: tenantProcedure.input(z.object({ lastEventId: z.string().max(1400).nullish() }).optional()).subscription(async function* ({ ctx, input, signal }) {
    try {
      for await (const msg of ctx.live.stream(ctx.viewer, input?.lastEventId, signal, { revalidate: ctx.revalidate, address: ctx.ip })) {
        yield tracked(msg.id, msg.event);
      }
    } catch (err) {
      // Thrown mid-stream, after the middleware that maps NimbusError has returned.
      if (err instanceof StreamRevoked) throw new TRPCError({ code: "UNAUTHORIZED", message: err.message });
      if (err instanceof StreamLimitReached) throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: err.message });
      throw err;
    }
  }),
});
