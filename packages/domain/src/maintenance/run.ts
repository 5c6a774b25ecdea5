import type { OperationState } from "../operations.js";
import type { EvacuationPlan } from "./planner.js";
import type { MaintenanceDrain, MaintenanceItem, MaintenanceProgress } from "./progress.js";

/**
 * The pure side of running an evacuation: the items and drains a plan starts with, the progress
 * they add up to, and how the whole ends. The server's runner only moves items between states.
 */
export function initialMaintenanceProgress(plan: EvacuationPlan, parallelism: number): MaintenanceProgress {
  const items: MaintenanceItem[] = [
    ...plan.moves.map((m): MaintenanceItem => ({
      instance: m.instance,
      destination: m.destination,
      state: "pending",
      operationId: null,
      percent: null,
      reason: m.reason,
      swarmNode: m.swarm?.role === "worker" ? m.swarm.node : null,
    })),
    ...plan.blocked.map((b): MaintenanceItem => ({
      instance: b.instance,
      destination: null,
      state: "blocked",
      operationId: null,
      percent: null,
      reason: b.reason,
      swarmNode: b.swarm?.role === "worker" ? b.swarm.node : null,
    })),
  ];
  const drains = plan.drains.map((d): MaintenanceDrain => ({ node: d.node, state: "pending", restoreTo: d.restoreTo, error: null }));
  return maintenanceProgress(items, drains, parallelism, 0);
}

const finished = (i: MaintenanceItem) => i.state === "succeeded" || i.state === "failed" || i.state === "cancelled";

/** Counts and a percent over the movable VMs that never goes down (a migration's own percent counts in part). */
export function maintenanceProgress(items: MaintenanceItem[], drains: MaintenanceDrain[], parallelism: number, previousPercent: number): MaintenanceProgress {
  const movable = items.filter((i) => i.state !== "blocked");
  const done = movable.filter(finished).length;
  const partial = movable.filter((i) => i.state === "migrating").reduce((s, i) => s + (i.percent ?? 0) / 100, 0);
  const raw = movable.length ? (100 * (done + partial)) / movable.length : 100;
  return {
    kind: "maintenance",
    parallelism,
    total: movable.length,
    moved: items.filter((i) => i.state === "succeeded").length,
    failed: items.filter((i) => i.state === "failed" || i.state === "cancelled").length,
    blocked: items.filter((i) => i.state === "blocked").length,
    percent: Math.round(Math.min(100, Math.max(previousPercent, raw)) * 10) / 10,
    items,
    drains,
  };
}

export interface MaintenanceOutcome {
  state: Extract<OperationState, "succeeded" | "failed" | "cancelled">;
  error: string | null;
}

/** How an evacuation ended, with the sentence that says what is left on the host and what to do. */
export function maintenanceOutcome(host: string, p: MaintenanceProgress, how: "ran" | "aborted" | "interrupted"): MaintenanceOutcome {
  const moved = `${p.moved} of ${p.total + p.blocked} VM(s) moved`;
  if (how === "aborted") return { state: "cancelled", error: `aborted: ${moved}; ${host} stays in maintenance (exit maintenance to give it back to placement)` };
  if (how === "interrupted") return { state: "failed", error: `interrupted by a server restart: ${moved}; run maintenance again to move the rest` };
  const stuck = p.items.filter((i) => i.state !== "succeeded");
  if (!stuck.length) return { state: "succeeded", error: null };
  return { state: "failed", error: `${stuck.length} VM(s) still on ${host}: ${stuck.map((i) => `${i.instance} (${i.reason ?? i.state})`).join("; ")}` };
}
