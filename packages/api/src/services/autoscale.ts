import {
  NimbusError,
  ScalingPolicy,
  cutText,
  decideIdleWorker,
  decideService,
  idleSince,
  serviceCpu,
  swarmOverview,
  unplaceableTasks,
  type AutoscaleDecision,
  type CpuSample,
  type HostRecord,
  type Operation,
} from "@nimbus/domain";
import { z } from "zod";
import type { FleetView } from "@nimbus/fleet";
import type { AuditService, SwarmNodesService } from "../deps.js";

/** Where policies live (packages/db's ScalingPolicies). */
export interface PolicyStore {
  list(): Promise<(ScalingPolicy & { updatedBy: string; updatedAt: string })[]>;
  set(policy: ScalingPolicy, by: string): Promise<ScalingPolicy>;
  remove(service: string): Promise<boolean>;
}

export const AutoscaleEvent = z.object({
  at: z.string(),
  kind: z.enum(["scale", "add-worker", "suggest-add-worker", "remove-worker"]),
  subject: z.string(),
  reason: z.string(),
  outcome: z.enum(["started", "suggested", "failed"]),
  operationId: z.string().nullable(),
  error: z.string().nullable(),
});
export type AutoscaleEvent = z.infer<typeof AutoscaleEvent>;

export const AutoscaleView = z.object({
  policies: z.array(z.object({ policy: ScalingPolicy, updatedBy: z.string(), updatedAt: z.string(), cpuPct: z.number().nullable(), replicas: z.number().nullable() })),
  /** Open suggestions: a worker would let pending tasks run; an admin accepts or it goes when the tasks do. */
  suggestions: z.array(z.object({ service: z.string(), reason: z.string(), since: z.string() })),
  decisions: z.array(AutoscaleEvent),
});
export type AutoscaleView = z.infer<typeof AutoscaleView>;

/**
 * Replica mode: the leader's open suggestions and recent decisions, as it sends them to the other
 * replicas on the bus (bounded: they are read from a peer's message).
 */
export const AutoscaleState = z.object({
  suggestions: z.array(z.object({ service: z.string().min(1).max(200), reason: z.string().max(1_000), since: z.string().max(40) })).max(200),
  decisions: z
    .array(AutoscaleEvent.extend({ at: z.string().max(40), subject: z.string().max(200), reason: z.string().max(1_000), operationId: z.string().max(200).nullable(), error: z.string().max(1_000).nullable() }))
    .max(100),
});
export type AutoscaleState = z.infer<typeof AutoscaleState>;

/** Replica mode: where a suggestion accepted on a replica that does not lead goes (the leader, which made it). */
export interface AutoscaleLeaderPort {
  isLeader(): boolean;
  accept(service: string, by: string): Promise<Operation>;
}

export interface AutoscalerDeps {
  fleet: FleetView;
  operations: { startScale(req: { service: string; replicas: number }, by: string): Promise<Operation>; running(): readonly Operation[]; swarmNodes?: SwarmNodesService };
  audit: AuditService;
  policies: PolicyStore;
}

const ACTOR = "autoscaler";
const MAX_SAMPLES = 720;
const MAX_EVENTS = 100;

/**
 * The autoscaler's driver: every tick it samples each policy's service CPU from the pushed
 * inventory (no request to any host), asks the domain's pure decisions (decideService,
 * decideIdleWorker) and carries them out through the same operations a user starts (swarm.scale,
 * add/remove worker). Every decision is written to the audit trail with its reason, as the
 * autoscaler; a suggestion once, until it is accepted or its cause is gone.
 */
export class Autoscaler {
  private policies: (ScalingPolicy & { updatedBy: string; updatedAt: string })[] = [];
  private readonly samples = new Map<string, CpuSample[]>();
  private readonly lastScale = new Map<string, number>();
  private lastWorkerAt: number | null = null;
  private idle = new Map<string, number>();
  private readonly suggestions = new Map<string, { reason: string; since: string }>();
  private readonly events: AutoscaleEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(
    private readonly deps: AutoscalerDeps,
    private readonly opts: { tickMs?: number; now?: () => number } = {},
  ) {}

  private readonly storedListeners = new Set<(service: string) => void>();
  private readonly stateListeners = new Set<() => void>();
  private stateQueued = false;
  /** Replica mode: suggestions are the leader's; one accepted elsewhere is sent there. */
  leader: AutoscaleLeaderPort | null = null;

  /** Replica mode: reads the policies again after another replica changed one. */
  async reload(): Promise<void> {
    this.policies = await this.deps.policies.list();
    // A policy removed through another replica takes its open suggestion with it.
    const services = new Set(this.policies.map((p) => p.service));
    for (const service of [...this.suggestions.keys()]) if (!services.has(service)) this.dropSuggestion(service);
  }

  /** Replica mode: the open suggestions and recent decisions this replica has (the leader's own; the others' as last told). */
  sharedState(): AutoscaleState {
    return { suggestions: [...this.suggestions.entries()].map(([service, s]) => ({ service, ...s })), decisions: [...this.events] };
  }

  /** Replica mode: the leader's state, from its bus message; refused (false) when malformed. */
  adoptState(raw: unknown): boolean {
    const parsed = AutoscaleState.safeParse(raw);
    if (!parsed.success) return false;
    this.suggestions.clear();
    for (const { service, reason, since } of parsed.data.suggestions) this.suggestions.set(service, { reason, since });
    this.events.splice(0, this.events.length, ...parsed.data.decisions.slice(-MAX_EVENTS));
    return true;
  }

  /** Hears that the suggestions or decisions changed (replica mode: the leader tells the others). */
  onStateChange(listener: () => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Once per burst (a pass that records several decisions tells once). */
  private stateChanged() {
    if (this.stateQueued || !this.stateListeners.size) return;
    this.stateQueued = true;
    queueMicrotask(() => {
      this.stateQueued = false;
      for (const l of this.stateListeners) l();
    });
  }

  private dropSuggestion(service: string) {
    if (this.suggestions.delete(service)) this.stateChanged();
  }

  /** Hears each policy this replica stored or removed (replica mode: the others reload). */
  onStoredChange(listener: (service: string) => void): () => void {
    this.storedListeners.add(listener);
    return () => this.storedListeners.delete(listener);
  }

  async start(): Promise<void> {
    this.policies = await this.deps.policies.list();
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs ?? 5_000);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private now() {
    return (this.opts.now ?? Date.now)();
  }

  view(): AutoscaleView {
    const hosts = this.deps.fleet.hosts();
    const swarm = swarmOverview(hosts, { role: "admin", tenant: null });
    return {
      policies: this.policies.map(({ updatedBy, updatedAt, ...policy }) => ({
        policy,
        updatedBy,
        updatedAt,
        cpuPct: roundOrNull(serviceCpu(hosts, swarm.tasks, policy.service)),
        replicas: swarm.services.find((s) => s.name === policy.service)?.replicasDesired ?? null,
      })),
      suggestions: [...this.suggestions.entries()].map(([service, s]) => ({ service, ...s })),
      decisions: [...this.events].reverse(),
    };
  }

  async setPolicy(raw: ScalingPolicy, by: string): Promise<ScalingPolicy> {
    const policy = await this.deps.policies.set(ScalingPolicy.parse(raw), by);
    this.policies = await this.deps.policies.list();
    for (const l of this.storedListeners) l(policy.service);
    return policy;
  }

  async removePolicy(service: string): Promise<void> {
    if (!(await this.deps.policies.remove(service))) throw new NimbusError("NOT_FOUND", `no scaling policy for ${service}`);
    this.policies = await this.deps.policies.list();
    for (const l of this.storedListeners) l(service);
    this.samples.delete(service);
    this.dropSuggestion(service);
  }

  /**
   * An admin accepts a suggestion: the worker is added now, audited as theirs by the caller's
   * middleware. Replica mode: on a replica that does not lead, the leader (which made the
   * suggestion and decides on workers) does it.
   */
  async acceptSuggestion(service: string, by: string): Promise<Operation> {
    if (this.leader && !this.leader.isLeader()) return this.leader.accept(service, by);
    return this.acceptHere(service, by);
  }

  /** The leader's side of an accepted suggestion (replica mode: also when another replica sent it). */
  async acceptHere(service: string, by: string): Promise<Operation> {
    const s = this.suggestions.get(service);
    if (!s) throw new NimbusError("NOT_FOUND", `no open suggestion for ${service}`);
    const op = await this.addWorker(by);
    this.dropSuggestion(service);
    this.lastWorkerAt = this.now();
    this.record({ kind: "add-worker", subject: service, reason: `${s.reason} (suggestion accepted by ${by})`, outcome: "started", operationId: op.id, error: null });
    return op;
  }

  /** One pass over the policies; public for tests (fake timers drive it in the server). */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.pass();
    } finally {
      this.ticking = false;
    }
  }

  private async pass(): Promise<void> {
    const hosts: readonly HostRecord[] = this.deps.fleet.hosts();
    const swarm = swarmOverview(hosts, { role: "admin", tenant: null });
    if (!swarm.managerHost) return;
    const now = this.now();
    const running = this.deps.operations.running();
    const workerBusy = running.some((o) => o.kind === "swarm-add-worker" || o.kind === "swarm-remove-worker");
    let unplaceableTotal = 0;

    for (const policy of this.policies) {
      const service = swarm.services.find((s) => s.name === policy.service);
      if (!service) continue;
      const cpu = serviceCpu(hosts, swarm.tasks, service.name);
      const list = this.samples.get(service.name) ?? [];
      if (cpu !== null) list.push({ at: now, pct: cpu });
      this.samples.set(service.name, list.slice(-MAX_SAMPLES));
      const unplaceable = unplaceableTasks(swarm.tasks, service.name).length;
      unplaceableTotal += unplaceable;
      if (!unplaceable) this.dropSuggestion(service.name);
      // A scale still converging is left alone; tasks it cannot place still call for a worker.
      const scaling = running.some((o) => o.target.type === "service" && o.target.name === service.name);
      const decision = decideService({ policy, service, samples: list, unplaceable, now, lastScaleAt: this.lastScale.get(service.name) ?? null, lastWorkerAt: this.lastWorkerAt, workerBusy });
      if (decision && !(decision.kind === "scale" && scaling)) await this.act(decision, now);
    }

    this.idle = idleSince(this.idle, swarm.nodes, swarm.tasks, now);
    const idleDecision = decideIdleWorker({ policies: this.policies, nodes: swarm.nodes, idle: this.idle, now, workerBusy, unplaceable: unplaceableTotal });
    if (idleDecision && (this.lastWorkerAt === null || now - this.lastWorkerAt >= 60_000)) await this.act(idleDecision, now);
  }

  private async act(d: AutoscaleDecision, now: number): Promise<void> {
    if (d.kind === "scale") {
      this.lastScale.set(d.service, now);
      await this.attempt("scale", d.service, `${d.from} -> ${d.to} replicas: ${d.reason}`, () => this.deps.operations.startScale({ service: d.service, replicas: d.to }, ACTOR));
    } else if (d.kind === "add-worker" && !d.perform) {
      if (this.suggestions.has(d.service)) return;
      this.suggestions.set(d.service, { reason: cutText(d.reason, 1_000), since: new Date(now).toISOString() });
      this.record({ kind: "suggest-add-worker", subject: d.service, reason: d.reason, outcome: "suggested", operationId: null, error: null });
      await this.audit("autoscale.suggest-add-worker", d.service, { reason: d.reason }, "ok");
    } else if (d.kind === "add-worker") {
      this.lastWorkerAt = now;
      await this.attempt("add-worker", d.service, d.reason, () => this.addWorker(ACTOR));
    } else {
      this.lastWorkerAt = now;
      this.idle.delete(d.node);
      await this.attempt("remove-worker", d.node, d.reason, () => this.nodes().removeWorker(d.node, ACTOR));
    }
  }

  private async attempt(kind: "scale" | "add-worker" | "remove-worker", subject: string, reason: string, start: () => Promise<Operation>) {
    try {
      const op = await start();
      this.record({ kind, subject, reason, outcome: "started", operationId: op.id, error: null });
      await this.audit(`autoscale.${kind}`, subject, { reason, operation: op.id }, "ok");
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      this.record({ kind, subject, reason, outcome: "failed", operationId: null, error });
      await this.audit(`autoscale.${kind}`, subject, { reason, error }, "error", err instanceof NimbusError ? err.code : null);
    }
  }

  private nodes(): SwarmNodesService {
    const n = this.deps.operations.swarmNodes;
    if (!n) throw new NimbusError("PRECONDITION_FAILED", "swarm nodes cannot be added or removed here");
    return n;
  }

  /** A worker named after the first free "workerN" among the swarm's nodes and the fleet's VMs. */
  private addWorker(by: string): Promise<Operation> {
    const hosts = this.deps.fleet.hosts();
    const taken = new Set([...hosts.flatMap((h) => (h.inventory.virt?.domains ?? []).map((d) => d.name)), ...hosts.flatMap((h) => (h.inventory.swarm?.nodes ?? []).map((n) => n.hostname))]);
    let n = 1;
    while (taken.has(`worker${n}`)) n++;
    return this.nodes().addWorker({ name: `worker${n}`, image: "debian-12", vcpus: 2, memoryMiB: 2048, diskGiB: 20, joinTimeoutSeconds: 600, sshKeys: [] }, by);
  }

  private record(e: Omit<AutoscaleEvent, "at">) {
    this.events.push({ at: new Date(this.now()).toISOString(), ...e, subject: cutText(e.subject, 200), reason: cutText(e.reason, 1_000), error: e.error === null ? null : cutText(e.error, 1_000) });
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
    this.stateChanged();
  }

  private audit(action: string, target: string, input: Record<string, unknown>, result: "ok" | "error", errorCode: string | null = null) {
    return this.deps.audit.append({ userId: null, userName: ACTOR, role: "system", tenant: null, action, target, input, result, errorCode }).catch(() => undefined);
  }
}

const roundOrNull = (v: number | null) => (v === null ? null : Math.round(v));
