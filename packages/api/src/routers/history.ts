import { z } from "zod";
import { DomainName, HostName, moveHistory, type MoveHistoryFilter, type MoveRecord } from "@nimbus/domain";
import type { ApiDeps } from "../deps.js";
import { router, staffProcedure } from "../trpc.js";

/** Enough rows to filter by host or result in memory and still fill a page. */
const SCAN = 1_000;

export async function movesFor(deps: ApiDeps, filter: MoveHistoryFilter, limit: number): Promise<MoveRecord[]> {
  const target = filter.instance ? { type: "instance", name: filter.instance } : undefined;
  const ops = await deps.operations.list({ limit: SCAN, target, kinds: ["migrate", "storage-move"] });
  return moveHistory(ops, filter, new Date().toISOString()).slice(0, limit);
}

/** The moves history across the fleet (staff only: it names hosts and datastores). */
export const historyRouter = router({
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
});
