import { randomUUID } from "node:crypto";
import {
  DEFAULT_POLICY,
  MaintenanceRequest,
  MigrateRequest,
  MoveDiskRequest,
  NimbusError,
  hostMaintenanceView,
  isFinal,
  type EvacuationPlan,
  type HostMaintenanceView,
  type HostRecord,
  type Job,
  type Operation,
  type OperationKind,
  type OperationListQuery,
  type OperationPage,
  type OperationScope,
  type OperationStep,
  type CreateInstanceParams,
  type ImageBuildRequest,
  type ImageImportRequest,
  type PendingCreate,
  type PreflightPolicy,
} from "@nimbus/domain";
import { pino, type Logger } from "pino";
import type { z } from "zod";
import { recheckOnAgents } from "./agent-preflight.js";
import type { FleetEvent, FleetView, OperationStore } from "./contract.js";
import { ListenerSet } from "./listeners.js";
import { findService, swarmManager } from "./locate.js";
import { applyJob, settleLostJob } from "./operation-rules.js";
import { MaintenanceRunner } from "./operations-maintenance.js";
import { assertOnline, refuseOnFailure, routeMigration } from "./operations-migrate.js";
import { planStorageMove } from "./operations-storage.js";
import { createOperation, lostCreateCleanup, pendingCreates, planDelete } from "./operations-provision.js";
import { PEER_STEP_ID, peerStep, peerTunnelPlan, type PeerTunnelPlan } from "./operations-peer-tunnels.js";
import { ThrottledOperationWriter } from "./throttled-writer.js";
import { stackDeployFields, stackRemoveFields, type StackDeployPlan } from "./operations-stacks.js";
import { imageBuildFields, imageImportFields } from "./operations-images.js";
import { SWARM_NODE_KINDS, SwarmNodeRunner } from "./operations-swarm-nodes.js";

export interface OperationManagerOptions {
  /** VNI of a tenant, for the migration preflight's VNI check; null skips it. */
  tenantVni?: (tenant: string) => number | null;
  policy?: PreflightPolicy;
  /** Progress is persisted at most this often per operation; final states always at once. */
  persistIntervalMs?: number;
  logger?: Logger;
  newId?: () => string;
  /** Evacuations: how long a drained swarm node's tasks may take to leave (default 60 s). */
  drainTimeoutMs?: number;
  /** Remove-worker: how long a drained worker's tasks may take to move (default 120 s). */
  swarmDrainTimeoutMs?: number;
  /**
   * Replica mode (packages/cluster): start() loads no unfinished operations; they arrive through
   * adopt() as this replica takes the leases of their hosts, and leave through disown().
   */
  adoptOnly?: boolean;
}

type NewOperation = Pick<Operation, "kind" | "target" | "host" | "tenant" | "requestedBy" | "summary" | "params">;
/** Run by the server itself (no agent job behind them), so agents are never asked about them. */
const serverSide = (op: Operation) => op.kind === "maintenance" || SWARM_NODE_KINDS.has(op.kind) || op.kind === "lb-apply";

/**
 * Long work (migrate, scale) as operations: created and returned at once, settled by the agent's
 * job updates, recorded in the store so they survive a server restart, and reconciled with the
 * agents' job lists whenever a host comes (back) online.
 */
export class OperationManager {
  /** Unfinished operations, the freshest copy (the store may lag by the persistence interval). */
  private readonly active = new Map<string, Operation>();
  /** Operations that just ended, kept until their final row is surely written (the store may lag). */
  private readonly recentlyFinished = new Map<string, Operation>();
  /** Operations whose job the agent did not know when asked, waiting for another host's inventory. */
  private readonly agentLostJob = new Set<string>();
  private readonly listeners: ListenerSet<Operation>;
  private readonly writer: ThrottledOperationWriter;
  private readonly logger: Logger;
  private readonly maintenance: MaintenanceRunner;
  /** Swarm workers and managers as server-side operations (operations-swarm-nodes.ts). */
  readonly swarmNodes: SwarmNodeRunner;
  /** Targets whose operation is being started (checks awaited on agents), so a second start waits its turn. */
  private readonly starting = new Set<string>();
  /** Creates and deletes whose job succeeded and whose peers' tunnels the server is changing now. */
  private readonly peerStepRunning = new Set<string>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly fleet: FleetView,
    private readonly store: OperationStore,
    private readonly opts: OperationManagerOptions = {},
  ) {
    this.logger = opts.logger ?? pino({ level: "silent" });
    this.listeners = new ListenerSet(this.logger, "operation");
    this.writer = new ThrottledOperationWriter(store, opts.persistIntervalMs ?? 1_000, this.logger);
    this.maintenance = new MaintenanceRunner(fleet, this, { tenantVni: opts.tenantVni, policy: opts.policy, drainTimeoutMs: opts.drainTimeoutMs, logger: this.logger });
    this.swarmNodes = new SwarmNodeRunner(fleet, this, { drainTimeoutMs: opts.swarmDrainTimeoutMs, logger: this.logger });
  }

  /** Loads unfinished operations and starts following the fleet; reconciles hosts already online. */
  async start(): Promise<void> {
    const unfinished = this.opts.adoptOnly ? [] : await this.store.listUnfinished();
    for (const op of unfinished) this.active.set(op.id, op);
    this.unsubscribe = this.fleet.subscribe((e) => this.onFleetEvent(e));
    this.recoverServerSide(unfinished);
    await Promise.all(this.fleet.hosts().filter((h) => h.connection.state === "online").map((h) => this.reconcileHost(h.name)));
  }

  /** An evacuation cut short by the restart settles once its migrations have (reconciled by the caller). */
  private recoverServerSide(unfinished: readonly Operation[]) {
    for (const op of unfinished.filter(serverSide)) {
      // An lb-apply takes seconds; one cut short by the restart is over: its steps say how far it got.
      if (op.kind === "lb-apply") this.commit({ ...op, state: "failed", error: "interrupted: the server restarted during the apply (apply again)", finishedAt: new Date().toISOString(), updatedAt: new Date().toISOString() });
      else if (SWARM_NODE_KINDS.has(op.kind)) this.swarmNodes.recover(op);
      else void this.maintenance.recover(op).catch((err) => this.logger.error({ err, operation: op.id }, "could not recover an evacuation"));
    }
  }

  /**
   * Replica mode: takes over unfinished operations (as stored) of hosts this replica now watches,
   * because the replica that ran them died or gave the host up. They are settled exactly as after a
   * restart: the agent's job.list (the job id is the operation id, so nothing is started again),
   * now if the host is online, else when it comes online. Operations already followed (or just
   * finished) here are skipped.
   */
  async adopt(ops: readonly Operation[]): Promise<Operation[]> {
    const taken = ops.filter((op) => !isFinal(op.state) && !this.active.has(op.id) && !this.recentlyFinished.has(op.id));
    for (const op of taken) this.active.set(op.id, op);
    this.recoverServerSide(taken);
    const hosts = new Set(taken.filter((op) => !serverSide(op)).map((op) => op.host));
    await Promise.all([...hosts].filter((h) => this.fleet.host(h)?.connection.state === "online").map((h) => this.reconcileHost(h)));
    return taken;
  }

  /**
   * Replica mode: forgets the agent-job operations of a host this replica no longer watches (its
   * new owner adopts them from the store). Nothing is written: the new owner's reconciliation is.
   */
  disown(host: string): Operation[] {
    const dropped = [...this.active.values()].filter((op) => op.host === host && !serverSide(op) && !this.peerStepRunning.has(op.id));
    for (const op of dropped) {
      this.active.delete(op.id);
      this.agentLostJob.delete(op.id);
    }
    return dropped;
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
    return this.freshest(id) ?? (await this.store.get(id));
  }

  async list(filter: { limit: number; target?: { type: string; name: string }; kinds?: OperationKind[] }): Promise<Operation[]> {
    return (await this.store.list(filter)).map((op) => this.freshest(op.id) ?? op);
  }

  async page(query: OperationListQuery, scope: OperationScope): Promise<OperationPage> {
    const page = await this.store.page(query, scope);
    return { ...page, items: page.items.map((op) => this.freshest(op.id) ?? op) };
  }

  /** Instances with an operation running (or being started). */
  busyInstances(): Set<string> {
    const busy = [...this.active.values()].filter((o) => o.target.type === "instance").map((o) => o.target.name);
    const starting = [...this.starting].filter((k) => k.startsWith("instance:")).map((k) => k.slice("instance:".length));
    return new Set([...busy, ...starting]);
  }

  /** Operations not finished yet, freshest copies. */
  running(): Operation[] {
    return [...this.active.values()];
  }

  /**
   * Checks the migration against the inventory, then again on both agents (the inventory may be
   * seconds old), and only then records the operation and starts the source's job.
   */
  async startMigration(
    request: z.input<typeof MigrateRequest>,
    requestedBy: string,
    tenant?: string | null,
    context: { maintenanceId?: string } = {},
  ): Promise<Operation> {
    const route = routeMigration(this.fleet, request, {
      tenant,
      tenantVni: this.opts.tenantVni,
      policy: this.opts.policy,
      beforeDestination: (instance) => this.assertIdle("instance", instance),
    });
    const { instance, source, domain, destination, uri, options } = route;
    return this.reserved("instance", instance, async () => {
      const checks = await recheckOnAgents(this.fleet, { source: source.name, destination: destination.name, domain, policy: this.opts.policy ?? DEFAULT_POLICY });
      refuseOnFailure(instance, destination.name, checks);
      const op = this.create({
        kind: "migrate",
        target: { type: "instance", name: instance },
        host: source.name,
        tenant: domain.tenant,
        requestedBy,
        summary: `Migrate ${instance} from ${source.name} to ${destination.name}`,
        params: { source: source.name, destination: destination.name, uri, options, ...(context.maintenanceId ? { maintenanceId: context.maintenanceId } : {}) },
      });
      return this.launch(op, () =>
        this.fleet.request(source.name, "virt.migrate", { jobId: op.id, domain: instance, destination: { host: destination.name, uri }, options }),
      );
    });
  }

  /** Moves one disk of a VM to another datastore (live block copy, or offline copy when it is off). */
  async startStorageMove(request: z.input<typeof MoveDiskRequest>, requestedBy: string, tenant?: string | null): Promise<Operation> {
    const { fields, host, plan, request: req } = planStorageMove(this.fleet, request, requestedBy, this.busyInstances(), tenant);
    assertOnline(host, `cannot move the disk of ${req.instance}`);
    return this.reserved("instance", req.instance, () => {
      const op = this.create(fields);
      return this.launch(op, () =>
        this.fleet.request(host.name, "virt.moveDisk", { jobId: op.id, domain: req.instance, disk: req.disk, destinationPath: plan.destinationPath, bandwidthMiBps: req.bandwidthMiBps }),
      );
    });
  }

  /**
   * Starts a create on the host placement chose, as an operation with its steps. The caller
   * decided placement and quota (holding the tenant's lock until this resolves, so the next
   * create counts this one: it is in `running()` from the moment it is recorded).
   */
  async startCreate(host: string, params: Omit<CreateInstanceParams, "jobId">, requestedBy: string): Promise<Operation> {
    const record = this.fleet.host(host);
    if (!record) throw new NimbusError("NOT_FOUND", `host ${host} not found`, { host });
    assertOnline(record, `cannot create ${params.name}`);
    return this.reserved("instance", params.name, () => {
      const id = (this.opts.newId ?? randomUUID)();
      const job: CreateInstanceParams = { ...params, jobId: id };
      const fields = createOperation(host, job, requestedBy);
      const op = { ...this.create(fields), id, steps: fields.steps };
      return this.launch(op, () => this.fleet.request(host, "virt.create", job));
    });
  }

  /** Deletes an instance: force off, undefine, release its tenant's network on the host if it was the last there, remove its datastore volumes. */
  async startDelete(name: string, requestedBy: string, tenant?: string | null): Promise<Operation> {
    const { fields, host, job } = planDelete(this.fleet, name, requestedBy, this.opts.tenantVni ?? (() => null), tenant);
    assertOnline(host, `cannot delete ${name}`);
    return this.reserved("instance", job.name, () => {
      const op = this.create(fields);
      return this.launch(op, () => this.fleet.request(host.name, "virt.delete", { ...job, jobId: op.id }));
    });
  }

  /** Creates recorded and not finished: placement holds their RAM and vCPUs, quotas count them. */
  pendingCreates(): (PendingCreate & { diskGiB: number })[] {
    return pendingCreates([...this.active.values()]);
  }

  /** The dry run of "enter maintenance": where each VM would go and why, what blocks, what gets drained. */
  planMaintenance(host: string): EvacuationPlan {
    return this.maintenance.plan(host);
  }

  /** Flags the host and evacuates it as a "maintenance" operation (see MaintenanceRunner). */
  startMaintenance(request: z.input<typeof MaintenanceRequest>, requestedBy: string): Promise<Operation> {
    return this.maintenance.start(request, requestedBy);
  }

  /** Gives the host back to placement; refused while it is being evacuated (abort first). */
  exitMaintenance(host: string): HostMaintenanceView {
    const record = this.fleet.host(host);
    if (!record) throw new NimbusError("NOT_FOUND", `host ${host} not found`, { host });
    const evacuation = this.evacuationOf(host);
    if (evacuation) throw new NimbusError("CONFLICT", `${host} is being evacuated (${evacuation.summary}); abort that first`, { operation: evacuation.id });
    this.fleet.setMaintenance(host, false);
    return hostMaintenanceView(this.fleet.host(host) ?? record, null);
  }

  /** Where each host stands with maintenance. */
  maintenanceViews(): HostMaintenanceView[] {
    return this.fleet.hosts().map((h) => hostMaintenanceView(h, this.evacuationOf(h.name)));
  }

  /** For the evacuation runner: records a server-side operation, running, and announces it. */
  async recordServerSide(fields: NewOperation & Pick<Operation, "progress">): Promise<Operation> {
    const op = { ...this.create(fields), progress: fields.progress };
    await this.store.insert(op);
    this.active.set(op.id, op);
    this.emit(op);
    return op;
  }

  /** For the evacuation runner: makes `op` the current state of its server-side operation. */
  updateServerSide(op: Operation): void {
    this.commit(op);
  }

  async startScale(request: { service: string; replicas: number }, requestedBy: string, tenant?: string | null): Promise<Operation> {
    const { service, replicas } = request;
    const manager = swarmManager(this.fleet.hosts());
    if (!manager) throw new NimbusError("PRECONDITION_FAILED", `cannot scale ${service}: no swarm manager is online`, { service });
    const svc = findService(manager, service);
    if (!svc || (tenant && svc.tenant !== tenant)) throw new NimbusError("NOT_FOUND", `service ${service} not found`, { service });
    if (svc.mode === "global")
      throw new NimbusError("PRECONDITION_FAILED", `cannot scale ${service}: a global service runs one task per node`, { service });
    // Held while the operation is stored: two requests at once (a double click) both passed
    // assertIdle during that await and started two operations.
    return this.reserved("service", service, () => {
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
    });
  }

  /**
   * Deploys a checked stack (the API ran planStack on the same inventory) on the swarm manager:
   * the agent's job runs `docker stack deploy` and follows every service until it converges or fails.
   */
  async startStackDeploy(plan: StackDeployPlan, requestedBy: string): Promise<Operation> {
    const manager = swarmManager(this.fleet.hosts());
    if (!manager) throw new NimbusError("PRECONDITION_FAILED", `cannot deploy ${plan.stack}: no swarm manager is online`, { stack: plan.stack });
    return this.reserved("stack", plan.stack, () => {
      const fields = stackDeployFields(manager.name, plan, requestedBy);
      const op = { ...this.create(fields), steps: fields.steps };
      const timeoutMs = Number(fields.params.timeoutMs);
      return this.launch(op, () =>
        this.fleet.request(manager.name, "swarm.stackDeploy", { jobId: op.id, stack: plan.stack, compose: plan.labelled, services: plan.services, prune: true, timeoutMs }),
      );
    });
  }

  /**
   * Builds a base image on the storage server exporting the datastore (the API picked it, VIP
   * holder first): the agent's job builds or reuses its cache and publishes into the repository.
   * One build of a recipe at a time.
   */
  async startImageBuild(server: string, req: ImageBuildRequest, requestedBy: string): Promise<Operation> {
    return this.reserved("image", req.recipe, () => {
      const fields = imageBuildFields(server, req, requestedBy);
      const op = { ...this.create(fields), steps: fields.steps };
      return this.launch(op, () => this.fleet.request(server, "storage.imageBuild", { jobId: op.id, datastore: req.datastore, recipe: req.recipe }));
    });
  }

  /** Imports an image on the storage server `server` (it fetches or copies, verifies, publishes); one operation per image name at a time. */
  async startImageImport(server: string, req: ImageImportRequest, requestedBy: string): Promise<Operation> {
    return this.reserved("image", req.name, () => {
      const fields = imageImportFields(server, req, requestedBy);
      const op = { ...this.create(fields), steps: fields.steps };
      return this.launch(op, () => this.fleet.request(server, "storage.imageImport", { ...req, jobId: op.id }));
    });
  }

  /** Removes a stack (`docker stack rm`) and waits until its services are gone. The caller checked who may. */
  async startStackRemove(stack: string, tenant: string | null, services: string[], requestedBy: string): Promise<Operation> {
    const manager = swarmManager(this.fleet.hosts());
    if (!manager) throw new NimbusError("PRECONDITION_FAILED", `cannot remove ${stack}: no swarm manager is online`, { stack });
    return this.reserved("stack", stack, () => {
      const fields = stackRemoveFields(manager.name, stack, tenant, services, requestedBy);
      const op = { ...this.create(fields), steps: fields.steps };
      return this.launch(op, () => this.fleet.request(manager.name, "swarm.stackRemove", { jobId: op.id, stack, timeoutMs: Number(fields.params.timeoutMs) }));
    });
  }

  /**
   * A service's new image, or a rollback to its previous one, on the swarm manager: docker's own
   * rolling update, followed by the agent's job until docker completes, pauses or rolls it back.
   */
  async startServiceUpdate(request: { service: string; image: string | null }, requestedBy: string, tenant?: string | null): Promise<Operation> {
    const { service, image } = request;
    const verb = image ? "update" : "roll back";
    const manager = swarmManager(this.fleet.hosts());
    if (!manager) throw new NimbusError("PRECONDITION_FAILED", `cannot ${verb} ${service}: no swarm manager is online`, { service });
    const svc = findService(manager, service);
    if (!svc || (tenant && svc.tenant !== tenant)) throw new NimbusError("NOT_FOUND", `service ${service} not found`, { service });
    return this.reserved("service", service, () => {
      const op = this.create({
        kind: image ? "service-update" : "service-rollback",
        target: { type: "service", name: service },
        host: manager.name,
        tenant: svc.tenant,
        requestedBy,
        summary: image ? `Update ${service} from ${svc.image} to ${image}` : `Roll back ${service} from ${svc.image}`,
        params: image ? { service, image, from: svc.image } : { service, from: svc.image },
      });
      return this.launch(op, () =>
        image
          ? this.fleet.request(manager.name, "swarm.serviceUpdate", { jobId: op.id, service, image })
          : this.fleet.request(manager.name, "swarm.serviceRollback", { jobId: op.id, service }),
      );
    });
  }

  /** Asks the agent to cancel; the operation settles when the agent reports the job cancelled. */
  async cancel(id: string): Promise<void> {
    const op = this.active.get(id);
    if (!op) {
      const stored = await this.store.get(id);
      if (!stored) throw new NimbusError("NOT_FOUND", `operation ${id} not found`, { operation: id });
      throw new NimbusError("CONFLICT", `operation ${id} is already ${stored.state}`, { operation: id });
    }
    if (SWARM_NODE_KINDS.has(op.kind)) return this.swarmNodes.cancel(op);
    if (op.kind === "lb-apply") throw new NimbusError("CONFLICT", `operation ${id} (lb-apply) takes seconds and cannot be cancelled`, { operation: id });
    if (serverSide(op)) return this.maintenance.abort(id);
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
    const mine = [...this.active.values()].filter((op) => op.host === name && !serverSide(op));
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
      if (job) this.onJob(current, job, now);
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
    if (settled?.kind === "create" && settled.state === "failed") void this.cleanUpLostCreate(settled);
  }

  /** Removes what a create left when its agent died with it (see lostCreateCleanup); best effort, logged. */
  private async cleanUpLostCreate(op: Operation): Promise<void> {
    const job = lostCreateCleanup(op);
    if (!job) return;
    try {
      await this.fleet.request(op.host, "virt.delete", { ...job, jobId: `${op.id}-cleanup` });
    } catch (err) {
      this.logger.warn({ operation: op.id, err }, "could not clean up after a create its agent lost");
    }
  }

  private onFleetEvent(e: FleetEvent) {
    if (e.type === "job") {
      const op = this.active.get(e.job.id);
      if (!op) return;
      // A job is bound to the host that runs it: another host (compromised, or confused) naming
      // an operation it does not run must not move it.
      if (serverSide(op) || op.host !== e.host || op.kind !== e.job.kind)
        return this.logger.warn({ operation: op.id, from: e.host, runsOn: serverSide(op) ? null : op.host, kind: e.job.kind }, "job update ignored: not from the host running that job");
      this.onJob(op, e.job, new Date().toISOString());
    } else if (e.type === "host" && e.changed.includes("connection") && e.host.connection.state === "online" && this.active.size) {
      // Nothing unfinished: nothing to settle (a fleet's start, every host coming online, costs no call each).
      void this.reconcileHost(e.host.name);
    }
  }

  /** Applies a job's report; a create or delete that succeeded may still have its peers' tunnels to change. */
  private onJob(op: Operation, job: Job, now: string) {
    if (this.peerStepRunning.has(op.id)) return;
    const next = applyJob(op, job, now);
    // Also after a restart cut the step short (the job's steps replace it; each request is idempotent).
    const plan = next.state === "succeeded" ? peerTunnelPlan(next, this.fleet.hosts()) : null;
    if (!plan) return this.commit(next);
    this.peerStepRunning.add(op.id);
    void this.runPeerStep(next, plan)
      .catch((err) => this.logger.error({ err, operation: op.id }, "peer tunnel step failed unexpectedly"))
      .finally(() => this.peerStepRunning.delete(op.id));
  }

  /**
   * One request per peer, logged in the step. A create whose peer fails releases the ports
   * already added back (the peer is named in the error); a delete's failure names the peer.
   */
  private async runPeerStep(done: Operation, plan: PeerTunnelPlan) {
    const stamp = () => new Date().toISOString();
    let op: Operation = { ...done, state: "running", finishedAt: null, steps: [...done.steps, peerStep(plan, stamp())] };
    const step = (patch: Partial<OperationStep>, lines: string[] = []) => {
      const steps = op.steps.map((s) => (s.id === PEER_STEP_ID ? { ...s, ...patch, log: [...s.log, ...lines].slice(-200) } : s));
      op = { ...op, steps, progress: op.progress && "steps" in op.progress ? { ...op.progress, steps } : op.progress, updatedAt: stamp() };
    };
    this.commit(op);
    const added: PeerTunnelPlan["requests"] = [];
    let failure: string | null = plan.problem;
    for (const r of failure ? [] : plan.requests) {
      try {
        const res = await this.fleet.request(r.host, plan.method, r.params);
        const verb = plan.method === "net.ensureTunnel" ? (res.changed ? "added" : "already has") : res.changed ? "removed" : "had no";
        step({}, [`${r.host}: ${verb} ${res.port ?? "a port"} of VNI ${r.params.vni} to ${r.params.remoteIp} on ${r.params.bridge}`]);
        if (res.changed && plan.method === "net.ensureTunnel") added.push(r);
      } catch (err) {
        failure = `${r.host}: ${err instanceof Error ? err.message : String(err)}`;
        break;
      }
    }
    if (failure === null) {
      step({ state: "succeeded", finishedAt: stamp() });
      return this.commit({ ...op, state: "succeeded", finishedAt: stamp() });
    }
    step({}, [failure]);
    const undone: string[] = [];
    for (const r of added) {
      try {
        await this.fleet.request(r.host, "net.releaseTunnel", r.params);
        undone.push(`removed the tunnel on ${r.host} back to ${op.host}`);
      } catch (err) {
        undone.push(`could not remove the tunnel on ${r.host} back to ${op.host}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    step({ state: "failed", finishedAt: stamp() }, undone);
    const error = `${plan.label} failed: ${failure}${undone.length ? `; undone: ${undone.join(", ")}` : ""}`;
    this.commit({ ...op, state: "failed", error, finishedAt: stamp() });
  }

  private create(fields: NewOperation): Operation {
    const now = new Date().toISOString();
    return { id: (this.opts.newId ?? randomUUID)(), state: "running", progress: null, steps: [], error: null, createdAt: now, updatedAt: now, finishedAt: null, ...fields };
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
      this.recentlyFinished.set(next.id, next);
      for (const id of this.recentlyFinished.keys()) if (this.recentlyFinished.size > 200) this.recentlyFinished.delete(id);
    } else this.active.set(next.id, next);
    this.writer.write(next, final);
    this.emit(next);
  }

  /** Refuses a second operation on one target (a VM, a service, a host's evacuation). */
  assertIdle(type: "instance" | "service" | "host" | "stack" | "image", name: string): void {
    const busy = [...this.active.values()].find((op) => op.target.type === type && op.target.name === name);
    if (busy) throw new NimbusError("CONFLICT", `${type} ${name} already has an operation running (${busy.summary})`, { operation: busy.id });
    if (this.starting.has(`${type}:${name}`)) throw new NimbusError("CONFLICT", `${type} ${name} already has an operation starting`, { [type]: name });
  }

  /** Holds the target while `start` awaits (agents' checks), so two starts cannot both pass assertIdle. */
  private async reserved<T>(type: "instance" | "service" | "stack" | "image", name: string, start: () => Promise<T>): Promise<T> {
    this.assertIdle(type, name);
    const key = `${type}:${name}`;
    this.starting.add(key);
    try {
      return await start();
    } finally {
      this.starting.delete(key);
    }
  }

  private freshest(id: string): Operation | undefined {
    return this.active.get(id) ?? this.recentlyFinished.get(id);
  }

  private evacuationOf(host: string): Operation | null {
    return [...this.active.values()].find((op) => op.kind === "maintenance" && op.target.name === host) ?? null;
  }

  private hostMap(): Map<string, HostRecord> {
    return new Map(this.fleet.hosts().map((h) => [h.name, h]));
  }

  private emit(op: Operation) {
    this.listeners.emit(op);
  }
}

