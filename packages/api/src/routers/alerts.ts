import { on } from "node:events";
import { EventEmitter } from "node:events";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { AlertRulePatch, ChannelId, NimbusError, SilenceMatch } from "@nimbus/domain";
import { router, staffProcedure, type Context } from "../trpc.js";
import { EmailConfig, WebhookConfig } from "../services/notify.js";
import type { AlertService } from "../services/alert-service.js";

/** The alert service, or a clear refusal when the server runs without one (API tests' fakes). */
function alertsOf(ctx: Context): AlertService {
  const a = ctx.deps.alerts;
  if (!a) throw new NimbusError("PRECONDITION_FAILED", "alerts are not configured on this server");
  return a;
}

const AlertId = z.string().min(1).max(500);
const Secret = z.string().min(1).max(500);

const ChannelInput = z.object({
  id: ChannelId,
  name: z.string().trim().min(1).max(120),
  enabled: z.boolean().default(true),
  target: z.discriminatedUnion("kind", [z.object({ kind: z.literal("webhook"), config: WebhookConfig }), z.object({ kind: z.literal("email"), config: EmailConfig })]),
  /** HMAC key or SMTP password; omitted keeps the stored one, null removes it. Never returned. */
  secret: Secret.nullable().optional(),
});

/** How often a quiet watch asks whether the session is still valid. */
const REVALIDATE_MS = 60_000;
/** Open watches per user (console tabs on the Health page), like the live channel's limit. */
const MAX_WATCHES_PER_USER = 8;
const watches = new Map<string, number>();

export const alertsRouter = router({
  /** Firing alerts (worst first, with the silence muting each) and the latest resolved ones. */
  list: staffProcedure("read:fleet").query(({ ctx }) => alertsOf(ctx).list()),

  /** The same list, pushed again whenever it changes (fired, acked, silenced, resolved). */
  watch: staffProcedure("read:fleet").subscription(async function* ({ ctx, signal }) {
    const alerts = alertsOf(ctx);
    const user = ctx.viewer.userId;
    const open = watches.get(user) ?? 0;
    if (open >= MAX_WATCHES_PER_USER) throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: `at most ${MAX_WATCHES_PER_USER} alert watches per user; close a tab` });
    watches.set(user, open + 1);
    const bell = new EventEmitter();
    const off = alerts.subscribe(() => bell.emit("change"));
    const tick = setInterval(() => bell.emit("change", "revalidate"), REVALIDATE_MS);
    try {
      // Listening before the first answer: a change while it is on its way is not lost.
      const changes = on(bell, "change", { signal });
      yield alerts.list();
      for await (const [why] of changes) {
        if (why === "revalidate") {
          if (ctx.revalidate && !(await ctx.revalidate())) throw new TRPCError({ code: "UNAUTHORIZED", message: "session ended" });
          continue;
        }
        yield alerts.list();
      }
    } catch (err) {
      if ((err as Error).name === "AbortError") return;
      throw err;
    } finally {
      off();
      clearInterval(tick);
      const left = (watches.get(user) ?? 1) - 1;
      if (left > 0) watches.set(user, left);
      else watches.delete(user);
    }
  }),

  acknowledge: staffProcedure("alerts:ack")
    .input(z.object({ id: AlertId, note: z.string().trim().max(500).optional() }))
    .mutation(({ ctx, input }) => alertsOf(ctx).acknowledge(input.id, ctx.viewer.name, input.note || null)),
  unacknowledge: staffProcedure("alerts:ack")
    .input(z.object({ id: AlertId }))
    .mutation(({ ctx, input }) => alertsOf(ctx).unacknowledge(input.id)),

  silences: staffProcedure("read:fleet").query(({ ctx }) => alertsOf(ctx).silenceList()),
  /** Mutes matching alerts' notifications (and escalation) for a while. */
  silence: staffProcedure("alerts:ack")
    .input(z.object({ match: SilenceMatch, minutes: z.number().int().min(5).max(7 * 24 * 60), comment: z.string().trim().max(500).default("") }))
    .mutation(({ ctx, input }) => alertsOf(ctx).silence(input.match, input.minutes, input.comment, ctx.viewer.name)),
  endSilence: staffProcedure("alerts:ack")
    .input(z.object({ id: z.string().uuid() }))
    .mutation(async ({ ctx, input }) => {
      await alertsOf(ctx).endSilence(input.id);
      return { ok: true as const };
    }),

  rules: staffProcedure("read:fleet").query(({ ctx }) => alertsOf(ctx).ruleList()),
  updateRule: staffProcedure("alerts:manage")
    .input(z.object({ id: z.string().min(1).max(64), patch: AlertRulePatch }))
    .mutation(({ ctx, input }) => alertsOf(ctx).updateRule(input.id, input.patch, ctx.viewer.name)),

  channels: staffProcedure("alerts:manage").query(({ ctx }) => alertsOf(ctx).channelList()),
  createChannel: staffProcedure("alerts:manage")
    .input(ChannelInput)
    .mutation(({ ctx, input }) => alertsOf(ctx).putChannel(input, true)),
  updateChannel: staffProcedure("alerts:manage")
    .input(ChannelInput)
    .mutation(({ ctx, input }) => alertsOf(ctx).putChannel(input, false)),
  deleteChannel: staffProcedure("alerts:manage")
    .input(z.object({ id: ChannelId }))
    .mutation(async ({ ctx, input }) => {
      await alertsOf(ctx).deleteChannel(input.id);
      return { ok: true as const };
    }),
  /** Sends one test notification through the channel now; the answer says what the other end said. */
  testChannel: staffProcedure("alerts:manage")
    .input(z.object({ id: ChannelId }))
    .mutation(({ ctx, input }) => alertsOf(ctx).testChannel(input.id, ctx.viewer.name)),
  deliveries: staffProcedure("alerts:manage")
    .input(z.object({ channel: ChannelId.optional(), limit: z.number().int().min(1).max(200).default(50) }).optional())
    .query(({ ctx, input }) => alertsOf(ctx).deliveries(input?.limit ?? 50, input?.channel)),
});
