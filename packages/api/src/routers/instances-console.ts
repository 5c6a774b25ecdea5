import { z } from "zod";
import { tracked } from "@trpc/server";
import { DomainName, NimbusError, canOpenConsole, type Viewer } from "@nimbus/domain";
import type { ApiDeps } from "../deps.js";
import { tenantProcedure } from "../trpc.js";
import { MAX_CONSOLE_INPUT, consoleService } from "../services/console-sessions.js";
import { findInstance } from "./instances.js";

/**
 * The serial console of an instance (services/console-sessions.ts): an SSE subscription for the
 * output and a mutation for batched keystrokes, over the one origin like live.events. Tenants
 * open their own instances' consoles (another tenant's answers like a missing one); staff need
 * workload:console. The session is audited as a whole (open, close with its duration), so the
 * keystroke mutation is not audited call by call (that would store what was typed, passwords
 * included, and a row per keystroke batch).
 */
function consoleTarget(deps: ApiDeps, viewer: Viewer, instance: string) {
  const { host, domain } = findInstance(deps, viewer, instance);
  if (!canOpenConsole(viewer, domain.tenant)) throw new NimbusError("FORBIDDEN", `your role (${viewer.role}) may not open consoles`);
  return { host: host.name, domain: domain.name };
}

export const consoleProcedures = {
  console: tenantProcedure
    .input(
      z.object({
        instance: DomainName,
        cols: z.number().int().min(10).max(500).default(80),
        rows: z.number().int().min(2).max(300).default(24),
        lastEventId: z.string().max(64).nullish(),
      }),
    )
    .subscription(async ({ ctx, input, signal }) => {
      const target = consoleTarget(ctx.deps, ctx.viewer, input.instance);
      const service = consoleService(ctx);
      service.assertRoom(ctx.viewer, input.instance);
      const viewer = ctx.viewer;
      const check = async () => {
        if (ctx.revalidate && !(await ctx.revalidate())) return "your session ended or your access changed: sign in again";
        try {
          return consoleTarget(ctx.deps, viewer, input.instance);
        } catch {
          return "you no longer have access to this instance";
        }
      };
      const events = service.stream(viewer, { instance: input.instance, ...target, cols: input.cols, rows: input.rows }, check, signal, input.lastEventId);
      return (async function* () {
        for await (const { id, event } of events) yield tracked(id, event);
      })();
    }),

  /** Keystrokes, batched by the browser (at most 1,024 characters a call). */
  consoleInput: tenantProcedure
    .meta({ scope: "tenant-scoped", audit: false })
    .input(z.object({ instance: DomainName, data: z.string().min(1).max(MAX_CONSOLE_INPUT) }))
    .mutation(async ({ ctx, input }) => {
      consoleTarget(ctx.deps, ctx.viewer, input.instance);
      await consoleService(ctx).input(ctx.viewer, input.instance, input.data);
      return { ok: true as const };
    }),

  /** Ends the console now (otherwise it outlives a closed tab by a short grace period, for a reload). */
  consoleClose: tenantProcedure.input(z.object({ instance: DomainName })).mutation(({ ctx, input }) => {
    consoleTarget(ctx.deps, ctx.viewer, input.instance);
    consoleService(ctx).closeFor(ctx.viewer, input.instance);
    return { ok: true as const };
  }),
};
