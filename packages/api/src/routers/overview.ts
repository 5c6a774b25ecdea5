import { instanceCounts, worstState, type OverviewCounts } from "@nimbus/domain";
import { router, staffProcedure } from "../trpc.js";
import { swarmOverview } from "../services/projections.js";

export const overviewRouter = router({
  get: staffProcedure("read:fleet").query(({ ctx }): OverviewCounts & { worst: string } => {
    const hosts = ctx.deps.fleet.hosts();
    const swarm = swarmOverview(hosts, ctx.viewer);
    const checks = ctx.health.checks();
    // An acknowledged check has someone on it: it no longer counts toward the red numbers.
    const open = checks.filter((c) => !c.ack);
    return {
      hosts: { total: hosts.length, online: hosts.filter((h) => h.connection.state === "online").length, problem: hosts.filter((h) => h.connection.state !== "online" && h.connection.state !== "connecting").length },
      instances: instanceCounts(hosts),
      services: { total: swarm.services.length, converged: swarm.services.filter((s) => s.replicasRunning === s.replicasDesired).length },
      health: { crit: open.filter((c) => c.state === "crit").length, warn: open.filter((c) => c.state === "warn").length },
      operationsRunning: ctx.deps.operations.running().length,
      problems: checks.filter((c) => c.state === "crit" || c.state === "warn").slice(0, 20),
      worst: worstState(open),
    };
  }),
});
