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
  consoleClose: tenantProcedure.input(z.object({ instance: DomainName })).mutation(async ({ ctx, input }) => {
    consoleTarget(ctx.deps, ctx.viewer, input.instance);
    await consoleService(ctx).closeFor(ctx.viewer, input.instance);
    return { ok: true as const };
  }),
};

/**
 * Replica mode: what this replica does with keystrokes and closes a peer relays for a console it
 * holds (`cluster/src/console-relay.ts`). The user is the one the peer authenticated; it is
 * checked again here exactly as for a call from a browser (the instance visible to them on this
 * replica's inventory, the role's console rule, the same bounds), then the console is looked up
 * by (user, instance) and the keystroke limit is this replica's, the holder's.
 */
export function consoleRelayHandlers(ctx: { deps: ApiDeps; live: Parameters<typeof consoleService>[0]["live"] }) {
  const deps = ctx.deps;
  const service = () => consoleService(ctx);
  const parse = (instance: string) => {
    const name = DomainName.safeParse(instance);
    if (!name.success) throw new NimbusError("BAD_INPUT", "not an instance name");
    return name.data;
  };
  return {
    async input(viewer: Viewer, instance: string, data: string): Promise<void> {
      const name = parse(instance);
      if (data.length < 1 || data.length > MAX_CONSOLE_INPUT) throw new NimbusError("BAD_INPUT", `at most ${MAX_CONSOLE_INPUT} characters a call`);
      consoleTarget(deps, viewer, name);
      await service().inputHere(viewer, name, data);
    },
    async close(viewer: Viewer, instance: string): Promise<boolean> {
      const name = parse(instance);
      consoleTarget(deps, viewer, name);
      return service().closeHere(viewer, name);
    },
  };
}
