import { z } from "zod";
import {
  DomainName,
  HostName,
  MAX_SEARCH,
  PageWindow,
  NimbusError,
  TIMELINE_MAX_ITEMS,
  TimelineRange,
  ackEvent,
  failoverEvent,
  failovers,
  moveHistory,
  moveRecord,
  operationEvent,
  operationTouches,
  pageEvents,
  stateSpans,
  vipLane,
  type MoveHistoryFilter,
  type MoveRecord,
  type Timeline,
  type TimelineLane,
} from "@nimbus/domain";
import type { ApiDeps } from "../deps.js";
import { router, staffProcedure } from "../trpc.js";

/** The Moves page's filters as its URL carries them ("" = any), newest first unless asked otherwise. */
export const MovesPageQuery = z.object({
  instance: z.union([DomainName, z.literal("")]).default(""),
  host: z.union([HostName, z.literal("")]).default(""),
  kind: z.enum(["", "migrate", "storage-move"]).default(""),
  result: z.enum(["", "succeeded", "failed", "cancelled", "running"]).default(""),
  requestedBy: z.string().max(128).default(""),
  q: z.string().max(MAX_SEARCH).default(""),
  desc: z.boolean().default(true),
  ...PageWindow,
});

/** Enough rows to filter by host or result in memory and still fill a page. */
const SCAN = 1_000;

export async function movesFor(deps: ApiDeps, filter: MoveHistoryFilter, limit: number): Promise<MoveRecord[]> {
  const target = filter.instance ? { type: "instance", name: filter.instance } : undefined;
  const ops = await deps.operations.list({ limit: SCAN, target, kinds: ["migrate", "storage-move"] });
  return moveHistory(ops, filter, new Date().toISOString()).slice(0, limit);
}


/** What a timeline is about: the whole fleet (the health page) or one object's page. */
export const TimelineSubject = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("fleet") }),
  z.object({ kind: z.literal("host"), name: HostName }),
  z.object({ kind: z.literal("instance"), name: DomainName }),
  z.object({ kind: z.literal("service"), name: z.string().trim().min(1).max(253) }),
  z.object({ kind: z.literal("datastore"), name: z.string().trim().min(1).max(512) }),
]);
export type TimelineSubject = z.infer<typeof TimelineSubject>;

/** Transitions one timeline reads at most; lanes shown at most (worst first). */
const TRANSITIONS_MAX = 5_000;
const LANES_MAX = 40;

/** The health checks that are about a subject (their ids, domain/health-rules). */
function checkIdsOf(s: TimelineSubject): string[] | null {
  switch (s.kind) {
    case "fleet":
      return null;
    case "host":
      return [`host:${s.name}`, `storage:server:${s.name}`, `swarm:node:${s.name}`];
    case "instance":
      return [`instance:${s.name}`];
    case "service":
      return [`swarm:service:${s.name}`];
    case "datastore":
      return [`storage:capacity:${s.name}`, "storage:vip"];
  }
}

const severity = { crit: 0, warn: 1, unknown: 2, ok: 3 } as const;

/** Builds the timeline of a subject over a range: state lanes, acks, VIP failovers and operations, newest events first. */
export async function timelineFor(deps: ApiDeps, subject: TimelineSubject, range: TimelineRange, now = Date.now()): Promise<Timeline> {
  if (!deps.history) throw new NimbusError("PRECONDITION_FAILED", "this server keeps no health history");
  const window = { from: range.from, to: Math.min(range.to, range.before ?? range.to) };
  const ids = checkIdsOf(subject);
  const transitions = await deps.history.transitions(ids ? { ids } : { all: true }, range, TRANSITIONS_MAX);
  const spans = stateSpans(transitions.rows, transitions.before, range);
  const lanes: TimelineLane[] = [...spans]
    .map(([id, s]) => ({ id, label: id, spans: s }))
    // The fleet's timeline shows what failed at some point (not "unknown" while hosts connect);
    // one object's shows all its checks.
    .filter((l) => ids !== null || l.spans.some((x) => x.state === "warn" || x.state === "crit"))
    .sort((a, b) => Math.min(...a.spans.map((x) => severity[x.state])) - Math.min(...b.spans.map((x) => severity[x.state])) || a.id.localeCompare(b.id))
    .slice(0, LANES_MAX);

  const withVip = subject.kind !== "service";
  const kinds = withVip ? (["ack", "unack", "vip-lost", "vip-held"] as const) : (["ack", "unack"] as const);
  const stored = await deps.history.list({ from: range.from, to: window.to, kinds: [...kinds], limit: TIMELINE_MAX_ITEMS * 2 });
  const acks = stored.filter((e) => (e.kind === "ack" || e.kind === "unack") && (!ids || ids.includes(e.subject)));
  let vipEvents = stored.filter((e) => e.kind === "vip-lost" || e.kind === "vip-held");
  if (subject.kind === "host") vipEvents = vipEvents.filter((e) => e.actor === subject.name || e.previous === subject.name);
  const fo = failovers(vipEvents, now);
  const vips = [...new Set(vipEvents.map((e) => e.subject))];
  const before = withVip ? await deps.history.lastVipEvents(range.from) : [];
  if (withVip && subject.kind !== "host") for (const b of before) if (!vips.includes(b.subject)) vips.push(b.subject);
  for (const vip of vips) {
    const lane = vipLane(vip, vipEvents, before.find((b) => b.subject === vip) ?? null, range);
    if (lane.spans.length) lanes.unshift(lane);
  }

  const ops = (await deps.operations.list({ limit: 1_000 })).filter((op) => {
    const start = Date.parse(op.createdAt);
    const end = op.finishedAt ? Date.parse(op.finishedAt) : now;
    const about = subject.kind === "fleet" ? {} : subject.kind === "host" ? { host: subject.name } : subject.kind === "instance" ? { instance: subject.name } : subject.kind === "service" ? { service: subject.name } : null;
    return start <= window.to && end >= range.from && (about ? operationTouches(op, about) : subject.kind === "datastore" && op.kind === "storage-move" && JSON.stringify(op.params).includes(subject.name));
  });
  const events = [...acks.map(ackEvent), ...fo.map(failoverEvent), ...ops.map(operationEvent)].filter((e) => e.at >= range.from && e.at < (range.before ?? Number.POSITIVE_INFINITY) && e.at <= range.to);
  const page = pageEvents(events, range.limit);
  return { from: range.from, to: range.to, lanes, events: page.events, failovers: fo, nextBefore: page.nextBefore };
}

export const timelineProcedures = {
  /** The health timeline of the fleet or of one host, instance, service or datastore (staff: it names hosts). */
  timeline: staffProcedure("read:fleet")
    .input(z.object({ subject: TimelineSubject, range: TimelineRange }))
    .query(({ ctx, input }) => timelineFor(ctx.deps, input.subject, input.range)),
};

/** The moves history across the fleet (staff only: it names hosts and datastores). */
export const historyRouter = router({
  ...timelineProcedures,
  moves: staffProcedure("read:fleet")
    .input(
      z
        .object({
          instance: DomainName.optional(),
          host: HostName.optional(),
          kind: z.enum(["migrate", "storage-move"]).optional(),
          result: z.enum(["succeeded", "failed", "cancelled", "running"]).optional(),
          requestedBy: z.string().max(128).optional(),
          limit: z.number().int().min(1).max(500).default(100),
        })
        .default({ limit: 100 }),
    )
    .query(({ ctx, input }) => {
      const { limit, ...filter } = input;
      return movesFor(ctx.deps, filter, limit);
    }),
  /** One page of the moves history, filtered and sorted by the database, with counts (the Moves page). */
  movesPage: staffProcedure("read:fleet")
    .input(MovesPageQuery.optional())
    .query(async ({ ctx, input }) => {
      const q = MovesPageQuery.parse(input ?? {});
      const page = await ctx.deps.operations.page(
        {
          kinds: q.kind ? [q.kind] : ["migrate", "storage-move"],
          targetType: "instance",
          target: q.instance,
          host: q.host,
          state: q.result === "running" ? "active" : q.result,
          requestedBy: q.requestedBy,
          q: q.q,
          sort: "createdAt",
          desc: q.desc,
          offset: q.offset,
          limit: q.limit,
        },
        { tenant: null },
      );
      const now = new Date().toISOString();
      return { ...page, items: page.items.map((op) => moveRecord(op, now)).filter((m): m is MoveRecord => m !== null) };
    }),
});
