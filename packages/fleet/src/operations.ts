import { randomUUID } from "node:crypto";
import {
  MigrateRequest,
  NimbusError,
  isFinal,
  preflight,
  preflightVerdict,
  type HostRecord,
  type Job,
  type Operation,
  type PreflightPolicy,
} from "@nimbus/domain";
import { pino, type Logger } from "pino";
import type { z } from "zod";
import type { FleetEvent, FleetView, OperationStore } from "./contract.js";
import { ListenerSet } from "./listeners.js";
import { findService, locateInstance, swarmManager } from "./locate.js";
import { applyJob, settleLostJob } from "./operation-rules.js";
import { ThrottledOperationWriter } from "./throttled-writer.js";

export interface OperationManagerOptions {
  /** VNI of a tenant, for the migration preflight's VNI check; null skips it. */
  tenantVni?: (tenant: string) => number | null;
  policy?: PreflightPolicy;
  /** Progress is persisted at most this often per operation; final states always at once. */
  persistIntervalMs?: number;
  logger?: Logger;
  newId?: () => string;
}

type NewOperation = Pick<Operation, "kind" | "target" | "host" | "tenant" | "requestedBy" | "summary" | "params">;

/**
 * Long work (migrate, scale) as operations: created and returned at once, settled by the agent's
 * job updates, recorded in the store so they survive a server restart, and reconciled with the
 * agents' job lists whenever a host comes (back) online.
 */
export class OperationManager {
  /** Unfinished operations, the freshest copy (the store may lag by the persistence interval). */
  private readonly active = new Map<string, Operation>();
  /** Operations whose job the agent did not know when asked, waiting for another host's inventory. */
  private readonly agentLostJob = new Set<string>();
  private readonly listeners: ListenerSet<Operation>;
  private readonly writer: ThrottledOperationWriter;
  private readonly logger: Logger;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly fleet: FleetView,
    private readonly store: OperationStore,
    private readonly opts: OperationManagerOptions = {},
  ) {
    this.logger = opts.logger ?? pino({ level: "silent" });
    this.listeners = new ListenerSet(this.logger, "operation");
    this.writer = new ThrottledOperationWriter(store, opts.persistIntervalMs ?? 1_000, this.logger);
  }

  /** Loads unfinished operations and starts following the fleet; reconciles hosts already online. */
  async start(): Promise<void> {
    for (const op of await this.store.listUnfinished()) this.active.set(op.id, op);
    this.unsubscribe = this.fleet.subscribe((e) => this.onFleetEvent(e));
    await Promise.all(this.fleet.hosts().filter((h) => h.connection.state === "online").map((h) => this.reconcileHost(h.name)));
  }

  /** Stops following the fleet and writes whatever progress is still waiting. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.writer.drain();
  }

  subscribe(listener: (op: Operation) => void): () => void {
    return this.listeners.add(listener);
  }

  async get(id: string): Promise<Operation | null> {
    return this.active.get(id) ?? (await this.store.get(id));
  }

  async list(filter: { limit: number; target?: { type: string; name: string } }): Promise<Operation[]> {
    return (await this.store.list(filter)).map((op) => this.active.get(op.id) ?? op);
  }

  /** Operations not finished yet, freshest copies. */
  running(): Operation[] {
    return [...this.active.values()];
  }

  async startMigration(request: z.input<typeof MigrateRequest>, requestedBy: string, tenant?: string | null): Promise<Operation> {
    const { instance, destination, options } = MigrateRequest.parse(request);
    const found = locateInstance(this.fleet.hosts(), instance);
    if (!found || (tenant && found.domain.tenant !== tenant)) throw new NimbusError("NOT_FOUND", `instance ${instance} not found`, { instance });
    const { host: source, domain } = found;
    this.assertIdle("instance", instance);
    const dest = this.fleet.host(destination);
    if (!dest) throw new NimbusError("NOT_FOUND", `host ${destination} not found`, { host: destination });
    assertOnline(source, `cannot migrate ${instance}`);

    const checks = preflight({
      domain,
      source,
      destination: dest,
      tenantVni: domain.tenant ? (this.opts.tenantVni?.(domain.tenant) ?? null) : null,
      busyInstances: new Set(),
      policy: this.opts.policy,
    });
    if (preflightVerdict(checks) === "fail") {
      const failing = checks.filter((c) => c.result === "fail");
      throw new NimbusError(
        "PRECONDITION_FAILED",
        `cannot migrate ${instance} to ${destination}: ${failing.map((c) => c.reason).join("; ")}`,
        { instance, destination, checks: failing },
      );
    }
    const uri = this.fleet.hostConfig?.(destination)?.migrationUri ?? `qemu+ssh://${dest.address}/system`;
    const op = this.create({
      kind: "migrate",
      target: { type: "instance", name: instance },
      host: source.name,
      tenant: domain.tenant,
      requestedBy,
      summary: `Migrate ${instance} from ${source.name} to ${destination}`,
      params: { source: source.name, destination, uri, options },
    });
    return this.launch(op, () =>
      this.fleet.request(source.name, "virt.migrate", { jobId: op.id, domain: instance, destination: { host: destination, uri }, options }),
    );
  }

  async startScale(request: { service: string; replicas: number }, requestedBy: string, tenant?: string | null): Promise<Operation> {
    const { service, replicas } = request;
    const manager = swarmManager(this.fleet.hosts());
    if (!manager) throw new NimbusError("PRECONDITION_FAILED", `cannot scale ${service}: no swarm manager is online`, { service });
    const svc = findService(manager, service);
    if (!svc || (tenant && svc.tenant !== tenant)) throw new NimbusError("NOT_FOUND", `service ${service} not found`, { service });
    if (svc.mode === "global")
      throw new NimbusError("PRECONDITION_FAILED", `cannot scale ${service}: a global service runs one task per node`, { service });
    this.assertIdle("service", service);
    const op = this.create({
      kind: "scale",
      target: { type: "service", name: service },
      host: manager.name,
      tenant: svc.tenant,
      requestedBy,
      summary: `Scale ${service} from ${svc.replicasDesired} to ${replicas} replicas`,
      params: { service, replicas, from: svc.replicasDesired },
    });
    return this.launch(op, () => this.fleet.request(manager.name, "swarm.scale", { jobId: op.id, service, replicas }));
  }

  /** Asks the agent to cancel; the operation settles when the agent reports the job cancelled. */
  async cancel(id: string): Promise<void> {
    const op = this.active.get(id);
    if (!op) {
      const stored = await this.store.get(id);
      if (!stored) throw new NimbusError("NOT_FOUND", `operation ${id} not found`, { operation: id });
      throw new NimbusError("CONFLICT", `operation ${id} is already ${stored.state}`, { operation: id });
    }
    try {
      await this.fleet.request(op.host, "job.cancel", { jobId: id });
    } catch (err) {
      // The agent no longer knows the job: settle it from what the hosts report now.
      if (err instanceof NimbusError && err.code === "NOT_FOUND") await this.reconcileHost(op.host);
      throw err;
    }
  }

  /**
   * Asks a host's agent how its jobs ended and settles our operations accordingly. Operations whose
   * job the agent lost are settled from the inventory (possibly once another host is online).
   */
  async reconcileHost(name: string): Promise<void> {
    const mine = [...this.active.values()].filter((op) => op.host === name);
    let jobs: Job[] = [];
    if (mine.length) {
      try {
        jobs = await this.fleet.request(name, "job.list", {});
      } catch (err) {
        this.logger.warn({ host: name, err }, "could not list jobs for reconciliation");
        return;
      }
    }
    const now = new Date().toISOString();
    for (const op of mine) {
      const job = jobs.find((j) => j.id === op.id);
      const current = this.active.get(op.id);
      if (!current) continue;
      if (job) this.commit(applyJob(current, job, now));
      else this.settleLost(current, now);
    }
    // Operations elsewhere that were waiting for this host's inventory (a migration's destination).
    for (const op of this.active.values())
      if (op.host !== name && op.params.destination === name && this.agentLostJob.has(op.id)) this.settleLost(op, now);
  }

  private settleLost(op: Operation, now: string) {
    const settled = settleLostJob(op, this.hostMap(), now);
    if (settled) this.commit(settled);
    else this.agentLostJob.add(op.id);
  }

  private onFleetEvent(e: FleetEvent) {
    if (e.type === "job") {
      const op = this.active.get(e.job.id);
      if (op) this.commit(applyJob(op, e.job, new Date().toISOString()));
    } else if (e.type === "host" && e.changed.includes("connection") && e.host.connection.state === "online") {
      void this.reconcileHost(e.host.name);
    }
  }

  private create(fields: NewOperation): Operation {
    const now = new Date().toISOString();
    return { id: (this.opts.newId ?? randomUUID)(), state: "running", progress: null, error: null, createdAt: now, updatedAt: now, finishedAt: null, ...fields };
  }

  /**
   * Records the operation, then sends the request that starts the agent's job. A refusal fails the
   * operation (and is thrown); a lost answer leaves it running for reconciliation to settle.
   */
  private async launch(op: Operation, send: () => Promise<unknown>): Promise<Operation> {
    await this.store.insert(op);
    // The job may report (even finish) before its start is acknowledged; return the latest state.
    let latest = op;
    const unfollow = this.listeners.add((o) => void (o.id === op.id && (latest = o)));
    this.active.set(op.id, op);
    this.emit(op);
    try {
      await send();
      return latest;
    } catch (err) {
      const outcomeUnknown = err instanceof NimbusError && (err.code === "TIMEOUT" || (err.code === "HOST_UNREACHABLE" && err.details?.method));
      if (outcomeUnknown) {
        this.logger.warn({ operation: op.id, err }, "no answer to the job request; reconciliation will settle it");
        return latest;
      }
      const now = new Date().toISOString();
      this.commit({ ...latest, state: "failed", error: err instanceof Error ? err.message : String(err), updatedAt: now, finishedAt: now });
      throw err;
    } finally {
      unfollow();
    }
  }

  /** Makes `next` the current state of its operation: remembers, persists and announces it. */
  private commit(next: Operation | null) {
    if (!next) return;
    const prev = this.active.get(next.id);
    if (!prev || prev === next) return;
    const final = isFinal(next.state);
    if (final) {
      this.active.delete(next.id);
      this.agentLostJob.delete(next.id);
    } else this.active.set(next.id, next);
    this.writer.write(next, final);
    this.emit(next);
  }

  private assertIdle(type: "instance" | "service", name: string) {
    const busy = [...this.active.values()].find((op) => op.target.type === type && op.target.name === name);
    if (busy) throw new NimbusError("CONFLICT", `${type} ${name} already has an operation running (${busy.summary})`, { operation: busy.id });
  }

  private hostMap(): Map<string, HostRecord> {
    return new Map(this.fleet.hosts().map((h) => [h.name, h]));
  }

  private emit(op: Operation) {
    this.listeners.emit(op);
  }
}

function assertOnline(host: HostRecord, what: string) {
  const { state, message } = host.connection;
  if (state !== "online")
    throw new NimbusError("HOST_UNREACHABLE", `${what}: ${host.name} is ${state}${message ? ` (${message})` : ""}`, { host: host.name, state });
}
