import { z } from "zod";
import type { HostRecord } from "../fleet.js";
import type { SwarmNode, SwarmService, SwarmTask } from "../inventory.js";
import { ServiceName } from "../names.js";

/**
 * Autoscaling of swarm services, as pure decisions over what the inventory pushes (the server's
 * driver only gathers samples and carries the decisions out). A policy holds a service between
 * bounds and aims its CPU at a target averaged over a window, like Kubernetes' HPA:
 * desired = ceil(running x average / target), with a 10 % dead band and a cool-down between
 * changes. When tasks cannot be placed because every node is full, the answer is another worker:
 * proposed, or built when the admin consented (`addWorkers: "perform"`). Workers idle for the
 * idle time are removed when the admin consented too.
 */
export const ScalingPolicy = z
  .object({
    service: ServiceName,
    enabled: z.boolean().default(true),
    minReplicas: z.number().int().min(0).max(100),
    maxReplicas: z.number().int().min(1).max(100),
    /** CPU (percent of the nodes running the service) to aim at. */
    cpuTargetPct: z.number().int().min(5).max(95).default(60),
    windowSeconds: z.number().int().min(30).max(3600).default(120),
    cooldownSeconds: z.number().int().min(30).max(86_400).default(300),
    /** When tasks cannot be placed for lack of room: do nothing, show a suggestion, or add a worker. */
    addWorkers: z.enum(["off", "suggest", "perform"]).default("suggest"),
    /** Remove workers that ran no task for `idleMinutes` (the admin's consent). */
    removeIdleWorkers: z.boolean().default(false),
    idleMinutes: z.number().int().min(5).max(1440).default(30),
  })
  .refine((p) => p.minReplicas <= p.maxReplicas, { message: "the minimum is above the maximum", path: ["minReplicas"] });
export type ScalingPolicy = z.infer<typeof ScalingPolicy>;

export const DEAD_BAND = 0.1;

export interface CpuSample {
  /** ms */
  at: number;
  pct: number;
}

export type AutoscaleDecision =
  | { kind: "scale"; service: string; from: number; to: number; reason: string }
  | { kind: "add-worker"; service: string; perform: boolean; reason: string }
  | { kind: "remove-worker"; node: string; reason: string };

/** Samples inside the window ending now. */
export const inWindow = (samples: readonly CpuSample[], now: number, windowSeconds: number) => samples.filter((s) => s.at > now - windowSeconds * 1000 && s.at <= now);

/** Tasks of the service the scheduler cannot place: docker leaves them pending with "no suitable node". */
export const unplaceableTasks = (tasks: readonly SwarmTask[], service: string): SwarmTask[] =>
  tasks.filter((t) => t.serviceName === service && t.desiredState === "running" && t.state === "pending" && /no suitable node|insufficient resources/i.test(t.error ?? ""));

/**
 * One service's decision at `now`, or null to hold. `lastScaleAt`/`lastWorkerAt` are the last
 * actions taken for it (cool-down); `workerBusy` is true while an add or remove of a worker runs.
 */
export function decideService(o: {
  policy: ScalingPolicy;
  service: Pick<SwarmService, "name" | "mode" | "replicasDesired" | "replicasRunning">;
  samples: readonly CpuSample[];
  unplaceable: number;
  now: number;
  lastScaleAt: number | null;
  lastWorkerAt: number | null;
  workerBusy: boolean;
}): AutoscaleDecision | null {
  const { policy: p, service: s, now } = o;
  if (!p.enabled || s.mode === "global") return null;
  const cooling = (at: number | null) => at !== null && now - at < p.cooldownSeconds * 1000;
  const scale = (to: number, reason: string): AutoscaleDecision => ({ kind: "scale", service: s.name, from: s.replicasDesired, to, reason });

  // Tasks waiting for room: more replicas would wait too; another node is the answer.
  if (o.unplaceable > 0) {
    if (p.addWorkers === "off" || o.workerBusy || cooling(o.lastWorkerAt)) return null;
    return {
      kind: "add-worker",
      service: s.name,
      perform: p.addWorkers === "perform",
      reason: `${o.unplaceable} task${o.unplaceable === 1 ? "" : "s"} of ${s.name} cannot be placed: no node has room`,
    };
  }
  // Bounds hold whatever the load (an admin narrowed them, or someone scaled by hand).
  if (s.replicasDesired < p.minReplicas) return scale(p.minReplicas, `${s.replicasDesired} replicas is below the policy's minimum of ${p.minReplicas}`);
  if (s.replicasDesired > p.maxReplicas) return scale(p.maxReplicas, `${s.replicasDesired} replicas is above the policy's maximum of ${p.maxReplicas}`);
  if (cooling(o.lastScaleAt)) return null;

  const window = inWindow(o.samples, now, p.windowSeconds);
  // A decision needs the window half covered by at least two samples.
  if (window.length < 2 || window.at(-1)!.at - window[0]!.at < (p.windowSeconds * 1000) / 2) return null;
  const avg = window.reduce((t, x) => t + x.pct, 0) / window.length;
  const ratio = avg / p.cpuTargetPct;
  if (Math.abs(ratio - 1) <= DEAD_BAND) return null;
  const base = Math.max(1, s.replicasRunning);
  const wanted = Math.min(p.maxReplicas, Math.max(p.minReplicas, Math.ceil(base * ratio)));
  if (wanted === s.replicasDesired) return null;
  const avgText = `${Math.round(avg)} % CPU over ${p.windowSeconds} s against a target of ${p.cpuTargetPct} %`;
  return scale(wanted, `${avgText}: ${s.replicasRunning} running x ${ratio.toFixed(2)} -> ${wanted}${wanted === p.maxReplicas && Math.ceil(base * ratio) > wanted ? " (the maximum)" : wanted === p.minReplicas && Math.ceil(base * ratio) < wanted ? " (the minimum)" : ""}`);
}

/** Since when each worker has run no task; a node with a task (or not ready) leaves the map. */
export function idleSince(prev: ReadonlyMap<string, number>, nodes: readonly SwarmNode[], tasks: readonly SwarmTask[], now: number): Map<string, number> {
  const next = new Map<string, number>();
  for (const n of nodes) {
    if (n.role !== "worker" || n.status !== "ready") continue;
    const busy = tasks.some((t) => (t.node === n.hostname || t.node === n.id) && t.desiredState === "running");
    if (!busy) next.set(n.hostname, prev.get(n.hostname) ?? now);
  }
  return next;
}

/**
 * A worker to remove, or null: idle for `idleMinutes`, while another worker is ready and
 * active (the swarm keeps at least one), only when some policy consented and none wants a
 * worker now. The longest idle goes first, one at a time.
 */
export function decideIdleWorker(o: {
  policies: readonly ScalingPolicy[];
  nodes: readonly SwarmNode[];
  idle: ReadonlyMap<string, number>;
  now: number;
  workerBusy: boolean;
  /** A service has tasks waiting for room: removing a node now would be wrong. */
  unplaceable: number;
}): AutoscaleDecision | null {
  const consenting = o.policies.filter((p) => p.enabled && p.removeIdleWorkers);
  if (!consenting.length || o.workerBusy || o.unplaceable > 0) return null;
  const idleMs = Math.min(...consenting.map((p) => p.idleMinutes)) * 60_000;
  const activeWorkers = o.nodes.filter((n) => n.role === "worker" && n.status === "ready" && n.availability === "active");
  if (activeWorkers.length <= 1) return null;
  const oldest = [...o.idle.entries()].filter(([name, since]) => o.now - since >= idleMs && activeWorkers.some((n) => n.hostname === name)).sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))[0];
  if (!oldest) return null;
  const minutes = Math.floor((o.now - oldest[1]) / 60_000);
  return { kind: "remove-worker", node: oldest[0], reason: `${oldest[0]} ran no task for ${minutes} min (idle limit ${idleMs / 60_000} min) and ${activeWorkers.length - 1} other worker${activeWorkers.length === 2 ? "" : "s"} remain` };
}

/**
 * The CPU sample of a service: the mean CPU of the nodes running its tasks that report node facts
 * (swarm VMs with a Nimbus agent). Null when none does: no decision is made on no data.
 */
export function serviceCpu(hosts: readonly HostRecord[], tasks: readonly SwarmTask[], service: string): number | null {
  const nodes = new Set(tasks.filter((t) => t.serviceName === service && t.state === "running" && t.node).map((t) => t.node!));
  const values = hosts.filter((h) => nodes.has(h.name) && h.connection.state === "online" && h.inventory.node).map((h) => h.inventory.node!.cpuUsagePct);
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}
