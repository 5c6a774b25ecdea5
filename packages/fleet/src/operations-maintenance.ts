import {
  MaintenanceRequest,
  NimbusError,
  initialMaintenanceProgress,
  isFinal,
  maintenanceOutcome,
  maintenanceProgress,
  planEvacuation,
  swarmRoleOfVm,
  type EvacuationPlan,
  type MaintenanceDrain,
  type MaintenanceItem,
  type MaintenanceProgress,
  type MigrateOptions,
  type Operation,
  type PreflightPolicy,
} from "@nimbus/domain";
import type { Logger } from "pino";
import type { z } from "zod";
import type { FleetEvent, FleetView } from "./contract.js";
import { swarmManager } from "./locate.js";

/** What the runner needs from the OperationManager (kept narrow so the dependency is one way). */
export interface OperationsCore {
  busyInstances(): Set<string>;
  startMigration(request: { instance: string; destination: string; options: MigrateOptions }, requestedBy: string, tenant: null, context: { maintenanceId: string }): Promise<Operation>;
  cancel(id: string): Promise<void>;
  get(id: string): Promise<Operation | null>;
  subscribe(listener: (op: Operation) => void): () => void;
  recordServerSide(fields: Pick<Operation, "kind" | "target" | "host" | "tenant" | "requestedBy" | "summary" | "params" | "progress">): Promise<Operation>;
  updateServerSide(op: Operation): void;
  assertIdle(type: "host", name: string): void;
}

export interface MaintenanceOptions {
  tenantVni?: (tenant: string) => number | null;
  policy?: PreflightPolicy;
  /** How long a drained node's tasks may take to leave before its VM moves anyway. */
  drainTimeoutMs?: number;
  logger: Logger;
}

interface Run {
  op: Operation;
  aborted: boolean;
  requestedBy: string;
  options: MigrateOptions;
}

const progressOf = (op: Operation) => op.progress as MaintenanceProgress;

/**
 * "Enter maintenance" as an operation of its own: the host is flagged at once (nothing new lands
 * on it), then the dry-run plan runs with at most `parallelism` migrations at a time, each a
 * migrate operation of its own; swarm workers are drained before their VM moves and given back
 * afterwards. Abort stops what has not started and cancels the migrations in flight. The host
 * keeps its flag whatever happens; "exit maintenance" is a separate, explicit step.
 */
export class MaintenanceRunner {
  private readonly runs = new Map<string, Run>();

  constructor(
    private readonly fleet: FleetView,
    private readonly ops: OperationsCore,
    private readonly opts: MaintenanceOptions,
  ) {}

  plan(host: string): EvacuationPlan {
    this.hypervisor(host);
    return planEvacuation({ host, hosts: this.fleet.hosts(), tenantVni: (t) => this.opts.tenantVni?.(t) ?? null, busyInstances: this.ops.busyInstances(), policy: this.opts.policy });
  }

  async start(request: z.input<typeof MaintenanceRequest>, requestedBy: string): Promise<Operation> {
    const { host, parallelism, options } = MaintenanceRequest.parse(request);
    const record = this.hypervisor(host);
    if (record.connection.state !== "online")
      throw new NimbusError("HOST_UNREACHABLE", `cannot evacuate ${host}: it is ${record.connection.state} (its agent runs the migrations)`, { host });
    this.ops.assertIdle("host", host);
    const plan = this.plan(host);
    await this.fleet.setMaintenance(host, true);
    const blocked = plan.blocked.length ? `, ${plan.blocked.length} cannot move` : "";
    const op = await this.ops.recordServerSide({
      kind: "maintenance",
      target: { type: "host", name: host },
      host,
      tenant: null,
      requestedBy,
      summary: `Evacuate ${host} for maintenance: ${plan.moves.length} VM(s) to move${blocked}`,
      params: { parallelism, options, staying: plan.staying, managers: plan.managers },
      progress: initialMaintenanceProgress(plan, parallelism),
    });
    const run: Run = { op, aborted: false, requestedBy, options };
    this.runs.set(op.id, run);
    void this.execute(run).catch((err) => this.opts.logger.error({ err, operation: op.id }, "maintenance runner failed"));
    return op;
  }

  /** Abort: nothing new starts, migrations in flight are cancelled (their VMs stay on the host). */
  async abort(id: string): Promise<void> {
    const run = this.runs.get(id);
    if (!run) throw new NimbusError("CONFLICT", `operation ${id} is not an evacuation in progress`, { operation: id });
    run.aborted = true;
    await this.cancelChildren(run);
  }

  /** After a server restart: settles what ran, starts nothing new, and records the interruption. */
  async recover(op: Operation): Promise<void> {
    const p = progressOf(op);
    const run: Run = { op, aborted: false, requestedBy: op.requestedBy, options: op.params.options as MigrateOptions };
    this.runs.set(op.id, run);
    for (const item of p.items)
      if (item.state === "pending" || item.state === "draining" || (item.state === "migrating" && !item.operationId))
        this.setItem(run, item.instance, { state: "cancelled", reason: "not started: the server restarted" });
    const inFlight = progressOf(run.op).items.filter((i) => i.state === "migrating" && i.operationId);
    await Promise.all(inFlight.map((item) => this.follow(run, item.instance, item.operationId!)));
    this.finish(run, run.aborted ? "aborted" : "interrupted");
  }

  private async execute(run: Run): Promise<void> {
    const p = progressOf(run.op);
    // Workers that cannot move are drained first and stay drained: their host is going down.
    for (const item of p.items.filter((i) => i.state === "blocked" && i.swarmNode)) await this.drain(run, item.swarmNode!);
    const queue = p.items.filter((i) => i.state === "pending").map((i) => i.instance);
    const worker = async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        if (run.aborted) this.setItem(run, next, { state: "cancelled", reason: "not started: the evacuation was aborted" });
        else await this.moveOne(run, next);
      }
    };
    await Promise.all(Array.from({ length: Math.min(p.parallelism, queue.length) }, worker));
    this.finish(run, run.aborted ? "aborted" : "ran");
  }

  private async moveOne(run: Run, instance: string): Promise<void> {
    const item = this.item(run, instance);
    if (item.swarmNode) {
      this.setItem(run, instance, { state: "draining" });
      await this.drain(run, item.swarmNode);
      if (run.aborted) return this.setItem(run, instance, { state: "cancelled", reason: "not started: the evacuation was aborted" });
    }
    this.setItem(run, instance, { state: "migrating", percent: 0 });
    let child: Operation;
    try {
      child = await this.ops.startMigration({ instance, destination: item.destination!, options: run.options }, run.requestedBy, null, { maintenanceId: run.op.id });
    } catch (err) {
      return this.setItem(run, instance, { state: "failed", percent: null, reason: err instanceof Error ? err.message : String(err) });
    }
    this.setItem(run, instance, { operationId: child.id });
    // An abort that came while the migration was being started must reach it too.
    if (run.aborted) await this.ops.cancel(child.id).catch(() => undefined);
    await this.follow(run, instance, child.id, child);
  }

  /** Mirrors a child migration into its item until it ends; gives a drained worker back after a move. */
  private async follow(run: Run, instance: string, childId: string, initial?: Operation): Promise<void> {
    const final = await this.untilFinal(run, instance, childId, initial);
    const state = final.state === "succeeded" ? "succeeded" : final.state === "cancelled" ? "cancelled" : "failed";
    this.setItem(run, instance, { state, percent: state === "succeeded" ? 100 : null, reason: final.error ?? `now on ${this.item(run, instance).destination}` });
    const drain = this.drainOf(run, this.item(run, instance).swarmNode);
    if (state === "succeeded" && drain?.restoreTo) await this.restore(run, drain.node, drain.restoreTo);
  }

  private untilFinal(run: Run, instance: string, childId: string, initial?: Operation): Promise<Operation> {
    return new Promise((resolve) => {
      const seen = (o: Operation) => {
        if (o.id !== childId) return;
        if (o.progress?.kind === "migrate" && !isFinal(o.state)) this.setItem(run, instance, { percent: o.progress.percent });
        if (isFinal(o.state)) {
          off();
          resolve(o);
        }
      };
      const off = this.ops.subscribe(seen);
      if (initial) seen(initial);
      void this.ops.get(childId).then((o) => o && seen(o));
    });
  }

  private async drain(run: Run, node: string): Promise<void> {
    const manager = swarmManager(this.fleet.hosts());
    if (!manager) return this.setDrain(run, node, { state: "failed", error: "no swarm manager is online; moved without draining" });
    try {
      await this.fleet.request(manager.name, "swarm.availability", { node, availability: "drain" });
    } catch (err) {
      return this.setDrain(run, node, { state: "failed", error: `${err instanceof Error ? err.message : String(err)}; moved without draining` });
    }
    const left = await this.tasksLeave(node);
    this.setDrain(run, node, { state: "drained", error: left ? null : `tasks still running after ${(this.drainTimeout() / 1000).toFixed(0)} s; moved anyway` });
  }

  private async restore(run: Run, node: string, availability: "active" | "pause"): Promise<void> {
    const manager = swarmManager(this.fleet.hosts());
    try {
      if (!manager) throw new Error("no swarm manager is online");
      await this.fleet.request(manager.name, "swarm.availability", { node, availability });
      this.setDrain(run, node, { state: "restored", error: null });
    } catch (err) {
      this.setDrain(run, node, { state: "failed", error: `could not set ${node} back to ${availability}: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  /** Resolves true once the swarm runs no task on the node any more (false after the timeout). */
  private tasksLeave(node: string): Promise<boolean> {
    const busy = () => {
      const domain = { name: node, nics: [] };
      return (swarmRoleOfVm(domain, this.fleet.hosts())?.tasks.length ?? 0) > 0;
    };
    if (!busy()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        off();
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), this.drainTimeout());
      const off = this.fleet.subscribe((e: FleetEvent) => {
        if (e.type === "host" && e.changed.includes("swarm") && !busy()) done(true);
      });
    });
  }

  private async cancelChildren(run: Run): Promise<void> {
    const children = progressOf(run.op).items.filter((i) => i.state === "migrating" && i.operationId);
    await Promise.all(children.map((i) => this.ops.cancel(i.operationId!).catch((err) => this.opts.logger.warn({ err, operation: i.operationId }, "could not cancel a migration of an aborted evacuation"))));
  }

  private finish(run: Run, how: "ran" | "aborted" | "interrupted"): void {
    const outcome = maintenanceOutcome(run.op.host, progressOf(run.op), how);
    const now = new Date().toISOString();
    this.commit(run, { ...run.op, state: outcome.state, error: outcome.error, updatedAt: now, finishedAt: now });
    this.runs.delete(run.op.id);
  }

  private setItem(run: Run, instance: string, patch: Partial<MaintenanceItem>): void {
    const p = progressOf(run.op);
    const items = p.items.map((i) => (i.instance === instance ? { ...i, ...patch } : i));
    this.commit(run, { ...run.op, progress: maintenanceProgress(items, p.drains, p.parallelism, p.percent), updatedAt: new Date().toISOString() });
  }

  private setDrain(run: Run, node: string, patch: Partial<MaintenanceDrain>): void {
    const p = progressOf(run.op);
    const drains = p.drains.map((d) => (d.node === node ? { ...d, ...patch } : d));
    this.commit(run, { ...run.op, progress: maintenanceProgress(p.items, drains, p.parallelism, p.percent), updatedAt: new Date().toISOString() });
  }

  private commit(run: Run, next: Operation): void {
    run.op = next;
    this.ops.updateServerSide(next);
  }

  private item = (run: Run, instance: string) => progressOf(run.op).items.find((i) => i.instance === instance)!;
  private drainOf = (run: Run, node: string | null) => (node ? progressOf(run.op).drains.find((d) => d.node === node) : undefined);
  private drainTimeout = () => this.opts.drainTimeoutMs ?? 60_000;

  private hypervisor(host: string) {
    const record = this.fleet.host(host);
    if (!record) throw new NimbusError("NOT_FOUND", `host ${host} not found`, { host });
    if (!record.inventory.virt && !record.connection.capabilities.includes("virt"))
      throw new NimbusError("PRECONDITION_FAILED", `${host} is not a hypervisor: it runs no VMs to evacuate`, { host });
    return record;
  }
}
