import { z } from "zod";
import {
  CAPACITY_THRESHOLDS,
  DomainName,
  MoveDiskRequest,
  datastoreCapacity,
  disksOnDatastores,
  preflightVerdict,
  storageMovePreflight,
  suggestStorageMoves,
  type Operation,
} from "@nimbus/domain";
import { router, staffProcedure } from "../trpc.js";
import { findInstance } from "./instances.js";

const busyInstances = (ops: readonly Operation[]) => new Set(ops.filter((o) => o.target.type === "instance").map((o) => o.target.name));

/** Datastore capacity and storage migration (moving disks between datastores). Staff only. */
export const datastoresRouter = router({
  /**
   * Usage with thresholds (warn 80 %, crit 90 %), which disks to move where to get back under,
   * and the disks of `datastore` when one is asked for (not all of them: a fleet has thousands,
   * and the Storage page refetches this whenever usage changes).
   */
  capacity: staffProcedure("read:fleet")
    .input(z.object({ datastore: z.string().max(512).optional() }).default({}))
    .query(({ ctx, input }) => {
      const hosts = ctx.deps.fleet.hosts();
      const disks = disksOnDatastores(hosts);
      const datastores = datastoreCapacity(hosts, disks);
      return {
        thresholds: CAPACITY_THRESHOLDS,
        datastores,
        disks: input.datastore ? disks.filter((d) => d.datastore === input.datastore) : [],
        suggestions: suggestStorageMoves({ datastores, disks, busyInstances: busyInstances(ctx.deps.operations.running()) }),
      };
    }),

  /** Each datastore as a destination for one disk of a VM: the checks, the new path, live or offline. */
  moveTargets: staffProcedure("workload:migrate")
    .input(z.object({ instance: DomainName, disk: MoveDiskRequest.shape.disk }))
    .query(({ ctx, input }) => {
      const { host, domain } = findInstance(ctx.deps, ctx.viewer, input.instance);
      const hosts = ctx.deps.fleet.hosts();
      const capacities = datastoreCapacity(hosts);
      const busy = busyInstances(ctx.deps.operations.running());
      const rank = { pass: 0, warn: 1, fail: 2 } as const;
      return capacities
        .map((c) => {
          const plan = storageMovePreflight({ domain, host, hosts, disk: input.disk, datastore: c.path, capacities, busyInstances: busy });
          return { datastore: c.path, usedPct: c.usedPct, freeBytes: c.freeBytes, level: c.level, verdict: preflightVerdict(plan.checks), ...plan };
        })
        .sort((a, b) => rank[a.verdict] - rank[b.verdict] || a.usedPct - b.usedPct || a.datastore.localeCompare(b.datastore));
    }),

  /** Starts the move as an operation (live block copy, or offline copy when the VM is off). */
  moveDisk: staffProcedure("workload:migrate")
    .input(MoveDiskRequest)
    .mutation(({ ctx, input }): Promise<Operation> => {
      findInstance(ctx.deps, ctx.viewer, input.instance);
      return ctx.deps.operations.startStorageMove(input, ctx.viewer.name);
    }),
});
