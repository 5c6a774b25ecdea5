import {
  AddWorkerRequest,
  CreateSwarmRequest,
  NimbusError,
  addWorkerSteps,
  chooseImage,
  datastoreCapacity,
  imageCatalog,
  isFinal,
  joinAddress,
  managerFirstBoot,
  placeWorker,
  redactSwarmTokens,
  removeWorkerProblem,
  removeWorkerSteps,
  storageVip,
  swarmNetwork,
  swarmVmParams,
  tasksToMove,
  workerFirstBoot,
  workerLabels,
  type CreateInstanceParams,
  type HostRecord,
  type Operation,
  type OperationStep,
  type PendingCreate,
  type SwarmNetwork,
  type SwarmNode,
  type WorkerPlacement,
} from "@nimbus/domain";
import { pino, type Logger } from "pino";
import type { FleetView } from "./contract.js";
import { locateInstance, swarmManager } from "./locate.js";

/** What the runner needs from the OperationManager (narrow, so the dependency is one way). */
export interface SwarmNodesCore {
  startCreate(host: string, params: Omit<CreateInstanceParams, "jobId">, requestedBy: string): Promise<Operation>;
  startDelete(name: string, requestedBy: string, tenant?: string | null): Promise<Operation>;
  cancel(id: string): Promise<void>;
  get(id: string): Promise<Operation | null>;
  subscribe(listener: (op: Operation) => void): () => void;
  pendingCreates(): PendingCreate[];
  recordServerSide(fields: Pick<Operation, "kind" | "target" | "host" | "tenant" | "requestedBy" | "summary" | "params" | "progress">): Promise<Operation>;
  updateServerSide(op: Operation): void;
}

export interface SwarmNodesOptions {
  /** Remove-worker: how long the drained node's tasks may take to move (default 120 s). */
  drainTimeoutMs?: number;
  logger?: Logger;
}

export const SWARM_NODE_KINDS = new Set<Operation["kind"]>(["swarm-add-worker", "swarm-remove-worker", "swarm-create"]);

/**
 * Swarm nodes as server-side operations with steps (the server drives them; the agents' jobs
 * it starts are their own operations, mirrored here): add a worker (token, the create's own
 * steps, wait until Ready, label), remove one (drain, wait for its tasks to move, leave, rm,
 * delete the VM), create a swarm (a manager VM running `swarm init`).
 *
 * The worker join token is fetched from a manager when the create job is built and passed in
 * that job's first-boot commands only: the create's operation record keeps no first-boot
 * command (createOperation), every step log line is redacted (appendStepLog), and nothing here
 * logs or records it.
 */
export class SwarmNodeRunner {
  private readonly logger: Logger;
  /** Node names with an operation of ours running: a second add of one name waits for none. */
  private readonly busy = new Set<string>();
  private readonly cancelled = new Set<string>();

  constructor(
    private readonly fleet: FleetView,
    private readonly core: SwarmNodesCore,
    private readonly opts: SwarmNodesOptions = {},
  ) {
    this.logger = opts.logger ?? pino({ level: "silent" });
  }

  /** Where a worker of this size would go and why (the Add worker dialog shows it). */
  planWorker(raw: AddWorkerRequest | CreateSwarmRequest, role: "worker" | "manager" = "worker"): { placement: WorkerPlacement; network: SwarmNetwork | null; problem: string | null } {
    const hosts = this.fleet.hosts();
    const request = role === "worker" ? AddWorkerRequest.parse(raw) : CreateSwarmRequest.parse(raw);
    let network: SwarmNetwork | null;
    if (role === "worker") {
      const manager = swarmManager(hosts);
      if (!manager) return { placement: { chosen: null, reason: "no swarm manager is online", candidates: [] }, network: null, problem: "no swarm manager is online: create a swarm first, or bring the manager back" };
      const leader = leaderOf(manager);
      network = (request as AddWorkerRequest).network ?? (leader ? swarmNetwork(hosts, leader.hostname) : null);
      if (!network) return { placement: { chosen: null, reason: "the manager's VM is not in the inventory", candidates: [] }, network: null, problem: `Nimbus does not see the VM of manager ${leader?.hostname ?? manager.name}, so it cannot tell the swarm's network: name the bridge that reaches it` };
    } else {
      const r = request as CreateSwarmRequest;
      network = { bridge: r.bridge, vlan: r.vlan };
    }
    const datastores = datastoreCapacity(hosts);
    const image = chooseImage(imageCatalog(hosts), request.image, datastores);
    if (!image) return { placement: { chosen: null, reason: `image ${request.image} not found`, candidates: [] }, network, problem: `image ${request.image} is in no datastore's repository` };
    const placement = placeWorker({ request, image, network, hosts, datastores, pending: this.core.pendingCreates() });
    return { placement, network, problem: placement.chosen ? null : placement.reason };
  }

  async addWorker(raw: AddWorkerRequest, requestedBy: string): Promise<Operation> {
    return this.build(AddWorkerRequest.parse(raw), "worker", requestedBy);
  }

  async createSwarm(raw: CreateSwarmRequest, requestedBy: string): Promise<Operation> {
    const request = CreateSwarmRequest.parse(raw);
    const hosts = this.fleet.hosts();
    // A host that answers vouches for its swarm; an unreachable one's last report does not (its VM may be gone).
    const existing = hosts.find((h) => h.connection.state === "online" && h.inventory.swarm?.clusterId);
    if (existing) throw new NimbusError("CONFLICT", `a swarm exists already (${existing.name} reports cluster ${existing.inventory.swarm!.clusterId}): add workers to it instead`);
    // Nimbus reads a swarm through its manager's agent: the VM must be a host the fleet connects to.
    const planned = this.fleet.host(request.name);
    if (!planned)
      throw new NimbusError("PRECONDITION_FAILED", `${request.name} is not a host of the fleet: Nimbus reads a swarm through its manager's agent, so add ${request.name} to the fleet's hosts (the address its VM will have) and create the swarm again`, { node: request.name });
    if (planned.connection.state === "online") throw new NimbusError("CONFLICT", `${request.name} is a host that answers already: name the manager after a host whose machine is not built yet`, { node: request.name });
    return this.build(request, "manager", requestedBy);
  }

  private async build(request: AddWorkerRequest, role: "worker" | "manager", requestedBy: string): Promise<Operation> {
    if (this.busy.has(request.name)) throw new NimbusError("CONFLICT", `node ${request.name} already has an operation running`, { node: request.name });
    const { placement, network, problem } = this.planWorker(request, role);
    if (problem || !placement.chosen || !network) throw new NimbusError("PRECONDITION_FAILED", `cannot ${role === "worker" ? "add worker" : "create the swarm with"} ${request.name}: ${problem ?? placement.reason}`);
    const hosts = this.fleet.hosts();
    const vip = storageVip(hosts);
    if (!vip) throw new NimbusError("PRECONDITION_FAILED", `cannot add ${request.name}: no storage server reports the VIP the VM mounts the export through`);
    const manager = role === "worker" ? swarmManager(hosts) : null;
    const managerAddress = manager ? joinAddress(manager.inventory.swarm!.nodes) : null;
    if (role === "worker" && !managerAddress) throw new NimbusError("PRECONDITION_FAILED", `cannot add ${request.name}: the swarm reports no manager address to join`);
    const chosen = placement.chosen;
    const hypervisor = chosen.host;
    const datastores = datastoreCapacity(hosts);
    const image = chooseImage(imageCatalog(hosts), request.image, datastores)!;
    // The steps as they will run; the placeholder first boot names no token.
    const shape = swarmVmParams("preview", request, image, chosen, network, []);
    this.busy.add(request.name);
    try {
      const op = await this.core.recordServerSide({
        kind: role === "worker" ? "swarm-add-worker" : "swarm-create",
        target: { type: "node", name: request.name },
        host: hypervisor,
        tenant: null,
        requestedBy,
        summary: role === "worker" ? `Add worker ${request.name} on ${hypervisor} (${request.vcpus} vCPU, ${request.memoryMiB} MiB, ${request.diskGiB} GiB)` : `Create a swarm: manager ${request.name} on ${hypervisor}`,
        params: { hypervisor, image: image.name, vcpus: request.vcpus, memoryMiB: request.memoryMiB, diskGiB: request.diskGiB, bridge: network.bridge, manager: manager?.name ?? null, joinTimeoutSeconds: request.joinTimeoutSeconds, placement: placement.reason },
        progress: null,
      });
      const started = { ...op, steps: addWorkerSteps(shape, role, manager?.name ?? null) };
      this.core.updateServerSide(started);
      const run = new StepRun(this.core, started);
      void this.runBuild(run, { request, role, hypervisor, chosen, network, image, vip, manager, managerAddress, requestedBy })
        .catch((err) => this.logger.error({ err, operation: op.id }, "swarm node build failed unexpectedly"))
        .finally(() => {
          this.busy.delete(request.name);
          this.cancelled.delete(op.id);
        });
      return started;
    } catch (err) {
      this.busy.delete(request.name);
      throw err;
    }
  }

  private async runBuild(
    run: StepRun,
    c: {
      request: AddWorkerRequest;
      role: "worker" | "manager";
      hypervisor: string;
      chosen: NonNullable<WorkerPlacement["chosen"]>;
      network: SwarmNetwork;
      image: Parameters<typeof swarmVmParams>[2] & { datastore: string };
      vip: string;
      manager: HostRecord | null;
      managerAddress: string | null;
      requestedBy: string;
    },
  ): Promise<void> {
    const name = c.request.name;
    let firstBoot: string[];
    // The token lives in this function's locals only, until the create job is sent.
    try {
      run.start("token");
      if (c.role === "worker") {
        const tokens = await this.fleet.request(c.manager!.name, "swarm.joinTokens", {});
        firstBoot = workerFirstBoot({ vip: c.vip, exportPath: c.image.datastore, managerAddress: c.managerAddress!, token: tokens.worker });
        run.done("token", [`worker token fetched from ${c.manager!.name}; it goes to the create job's first boot only and is not recorded`]);
      } else {
        const appeared = this.fleet.hosts().find((h) => h.connection.state === "online" && h.inventory.swarm?.clusterId);
        if (appeared) throw new Error(`a swarm appeared meanwhile (${appeared.name} reports one)`);
        firstBoot = managerFirstBoot({ vip: c.vip, exportPath: c.image.datastore });
        const stale = this.fleet.hosts().filter((h) => h.connection.state !== "online" && h.inventory.swarm?.clusterId).map((h) => h.name);
        run.done("token", [`no host that answers reports a swarm${stale.length ? ` (${stale.join(", ")} last reported one, but do${stale.length === 1 ? "es" : ""} not answer)` : ""}`]);
      }
    } catch (err) {
      return run.fail("token", `could not get the join token: ${message(err)}`);
    }
    if (this.cancelled.has(run.id)) return run.finish("cancelled", "cancelled before the VM was built");

    let create: Operation;
    try {
      const { jobId: _j, ...params } = swarmVmParams("pending", c.request, c.image, c.chosen, c.network, firstBoot);
      create = await this.core.startCreate(c.hypervisor, params, c.requestedBy);
    } catch (err) {
      return run.fail("check", `the create was refused: ${message(err)}`);
    }
    firstBoot = [];
    run.note({ createOperation: create.id });
    const created = await this.follow(create.id, (child) => run.mirror(child.steps));
    if (created.state !== "succeeded")
      return run.finish(this.cancelled.has(run.id) ? "cancelled" : "failed", `the VM was not built (operation ${create.id}): ${created.error ?? created.state}`);

    // Wait for the node: Ready and active as the manager reports it (pushed inventory, no polling).
    run.start("join");
    // The new manager's host was unreachable while its VM was not there: try it now, not at the end of its backoff.
    if (c.role === "manager") this.fleet.reconnect?.(name);
    const timeoutMs = c.request.joinTimeoutSeconds * 1000;
    const seen = await this.waitFor(
      run.id,
      () => {
        const node = this.nodeNamed(name);
        if (c.role === "worker") return node && node.status === "ready" && node.availability === "active" ? node : null;
        return node && node.role === "manager" ? node : null;
      },
      timeoutMs,
    );
    if (seen === "cancelled" || seen === "timeout") {
      const node = this.nodeNamed(name);
      const why =
        seen === "cancelled"
          ? "cancelled while waiting for the node"
          : node
            ? `${name} joined but stayed ${node.status} for ${c.request.joinTimeoutSeconds} s`
            : `${name} did not join within ${c.request.joinTimeoutSeconds} s (its first-boot join failed: the token may have been rotated, or the manager was unreachable)`;
      run.log("join", [why]);
      const undone = await this.undoBuild(name, !!node, c.requestedBy);
      run.log("join", undone);
      return run.fail("join", `${why}; undone: ${undone.join(", ")}`, seen === "cancelled" ? "cancelled" : "failed");
    }
    run.done("join", [`${name} is ${seen.status} (${seen.role}, ${seen.availability})${seen.address ? ` at ${seen.address}` : ""}`]);

    run.start("label");
    const labeller = swarmManager(this.fleet.hosts());
    try {
      if (!labeller) throw new Error("no swarm manager is online");
      await this.fleet.request(labeller.name, "swarm.nodeUpdate", { action: "label", node: name, labels: workerLabels(c.hypervisor) });
      run.done("label", [`nimbus.managed=true nimbus.hypervisor=${c.hypervisor} on ${name}`]);
    } catch (err) {
      // The node works without its label; say so rather than undo a good worker.
      return run.fail("label", `${name} joined, but labelling it failed: ${message(err)}`);
    }
    run.finish("succeeded", null);
  }

  /** A timed-out or cancelled build: the node out of the swarm if it got in, the VM and its volume deleted. */
  private async undoBuild(name: string, joined: boolean, requestedBy: string): Promise<string[]> {
    const undone: string[] = [];
    const manager = swarmManager(this.fleet.hosts());
    if (joined && manager) {
      try {
        await this.fleet.request(manager.name, "swarm.nodeUpdate", { action: "remove", node: name });
        undone.push(`removed node ${name} from the swarm`);
      } catch (err) {
        undone.push(`could not remove node ${name}: ${message(err)}`);
      }
    }
    try {
      const del = await this.core.startDelete(name, requestedBy);
      const settled = await this.follow(del.id, () => {});
      undone.push(settled.state === "succeeded" ? `deleted VM ${name} and its volume` : `deleting VM ${name} failed: ${settled.error ?? settled.state}`);
    } catch (err) {
      undone.push(`could not delete VM ${name}: ${message(err)}`);
    }
    return undone;
  }

  /** The reason remove-worker refuses, or null (the capacity rule with what the manager and hypervisors report). */
  removeProblem(node: string): string | null {
    const hosts = this.fleet.hosts();
    const manager = swarmManager(hosts);
    if (!manager) return "no swarm manager is online";
    const sw = manager.inventory.swarm!;
    const globals = new Set(sw.services.filter((s) => s.mode === "global").map((s) => s.name));
    return removeWorkerProblem({ node, nodes: sw.nodes, tasks: sw.tasks, globalServices: globals, vmMemoryMiB: (h) => locateInstance(hosts, h)?.domain.memoryMiB ?? null });
  }

  async removeWorker(node: string, requestedBy: string): Promise<Operation> {
    if (this.busy.has(node)) throw new NimbusError("CONFLICT", `node ${node} already has an operation running`, { node });
    const problem = this.removeProblem(node);
    if (problem) throw new NimbusError("PRECONDITION_FAILED", `cannot remove ${node}: ${problem}`, { node });
    const hosts = this.fleet.hosts();
    const manager = swarmManager(hosts)!;
    const target = manager.inventory.swarm!.nodes.find((n) => n.hostname === node || n.id === node)!;
    const vm = locateInstance(hosts, target.hostname);
    const agentHost = hosts.find((h) => h.name === target.hostname && h.connection.state === "online" && h.connection.capabilities.includes("swarm"));
    this.busy.add(node);
    try {
      const op = await this.core.recordServerSide({
        kind: "swarm-remove-worker",
        target: { type: "node", name: target.hostname },
        host: vm?.host.name ?? manager.name,
        tenant: null,
        requestedBy,
        summary: `Remove worker ${target.hostname}${vm ? ` (VM on ${vm.host.name})` : ""}`,
        params: { manager: manager.name, vm: vm ? { host: vm.host.name, name: vm.domain.name } : null },
        progress: null,
      });
      const started = { ...op, steps: removeWorkerSteps(target.hostname, vm ? { host: vm.host.name } : null, agentHost?.name ?? null) };
      this.core.updateServerSide(started);
      void this.runRemove(new StepRun(this.core, started), target, !!vm, agentHost?.name ?? null, requestedBy)
        .catch((err) => this.logger.error({ err, operation: op.id }, "remove worker failed unexpectedly"))
        .finally(() => {
          this.busy.delete(node);
          this.cancelled.delete(op.id);
        });
      return started;
    } catch (err) {
      this.busy.delete(node);
      throw err;
    }
  }

  private async runRemove(run: StepRun, target: SwarmNode, hasVm: boolean, leaveOn: string | null, requestedBy: string): Promise<void> {
    const name = target.hostname;
    const manager = () => swarmManager(this.fleet.hosts());
    run.start("drain");
    try {
      const m = manager();
      if (!m) throw new Error("no swarm manager is online");
      await this.fleet.request(m.name, "swarm.availability", { node: name, availability: "drain" });
      run.done("drain", [`${name} drained on ${m.name}`]);
    } catch (err) {
      return run.fail("drain", `could not drain ${name}: ${message(err)}`);
    }

    run.start("tasks-moved");
    const moved = await this.waitFor(
      run.id,
      () => {
        const m = manager();
        if (!m) return null;
        const sw = m.inventory.swarm!;
        const node = sw.nodes.find((n) => n.hostname === name);
        if (!node) return true;
        const globals = new Set(sw.services.filter((s) => s.mode === "global").map((s) => s.name));
        const left = tasksToMove(node, sw.tasks, globals);
        // Replicated services back at their count on the other nodes.
        const short = sw.services.filter((s) => s.mode === "replicated" && s.replicasRunning < s.replicasDesired);
        return left.length === 0 && short.length === 0 ? true : null;
      },
      this.opts.drainTimeoutMs ?? 120_000,
    );
    if (moved !== true) {
      const why = moved === "cancelled" ? "cancelled while its tasks moved" : `its tasks did not all move within ${Math.round((this.opts.drainTimeoutMs ?? 120_000) / 1000)} s`;
      return run.fail("tasks-moved", `${why}; ${name} stays drained (set it active again to undo)`, moved === "cancelled" ? "cancelled" : "failed");
    }
    run.done("tasks-moved", [`no task of a replicated service is meant to run on ${name}; every service is at its count`]);

    if (leaveOn) {
      run.start("leave");
      try {
        await this.fleet.request(leaveOn, "swarm.leave", {});
        run.done("leave", [`${name} left the swarm`]);
      } catch (err) {
        run.skip("leave", [`${leaveOn} is unreachable (${message(err)}): skipped, docker node rm --force follows`]);
      }
    } else {
      // A finished operation shows no step as still to come.
      run.skip("leave", [`${name} runs no Nimbus agent: docker node rm --force and the VM's deletion stand for its leave`]);
    }

    run.start("node-rm");
    try {
      const m = manager();
      if (!m) throw new Error("no swarm manager is online");
      await this.fleet.request(m.name, "swarm.nodeUpdate", { action: "remove", node: name });
      run.done("node-rm", [`docker node rm --force ${name} on ${m.name}`]);
    } catch (err) {
      return run.fail("node-rm", `could not remove node ${name}: ${message(err)}`);
    }

    if (!hasVm) {
      run.skip("delete-vm", ["no VM of that name: nothing to delete"]);
      return run.finish("succeeded", null);
    }
    run.start("delete-vm");
    try {
      const del = await this.core.startDelete(name, requestedBy);
      run.note({ deleteOperation: del.id });
      const settled = await this.follow(del.id, (child) => run.log("delete-vm", child.steps.filter((s) => s.state === "succeeded" && s.finishedAt).map((s) => `${s.label}: ${s.log.at(-1) ?? "done"}`), true));
      if (settled.state !== "succeeded") return run.fail("delete-vm", `deleting VM ${name} failed (operation ${del.id}): ${settled.error ?? settled.state}`);
      run.done("delete-vm", []);
    } catch (err) {
      return run.fail("delete-vm", `could not delete VM ${name}: ${message(err)}`);
    }
    run.finish("succeeded", null);
  }

  /** Cancel: the running create is cancelled (its agent cleans up), a wait stops and undoes. */
  async cancel(op: Operation): Promise<void> {
    this.cancelled.add(op.id);
    const child = typeof op.params.createOperation === "string" ? op.params.createOperation : null;
    if (child) {
      const c = await this.core.get(child);
      if (c && !isFinal(c.state)) await this.core.cancel(child).catch(() => {});
    }
  }

  /** After a server restart: the wait and the steps were in this process; what was built is named for the admin. */
  recover(op: Operation): void {
    const now = new Date().toISOString();
    const child = typeof op.params.createOperation === "string" ? ` (the VM's create is operation ${op.params.createOperation})` : "";
    this.core.updateServerSide({ ...op, state: "failed", error: `interrupted: the server restarted during "${op.steps.find((s) => s.state === "running")?.label ?? op.summary}"${child}; check the swarm page before trying again`, updatedAt: now, finishedAt: now });
  }

  private nodeNamed(name: string): SwarmNode | null {
    for (const h of this.fleet.hosts()) {
      if (h.connection.state !== "online" || h.inventory.swarm?.role !== "manager") continue;
      const n = h.inventory.swarm.nodes.find((x) => x.hostname === name);
      if (n) return n;
    }
    return null;
  }

  /** Resolves with `probe`'s value once it has one (checked on every pushed host change), or "timeout"/"cancelled". */
  private waitFor<T>(opId: string, probe: () => T | null, timeoutMs: number): Promise<T | "timeout" | "cancelled"> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: T | "timeout" | "cancelled") => {
        if (done) return;
        done = true;
        unsubscribe();
        clearTimeout(timer);
        clearInterval(cancelCheck);
        resolve(v);
      };
      const check = () => {
        if (this.cancelled.has(opId)) return finish("cancelled");
        const v = probe();
        if (v !== null) finish(v);
      };
      const unsubscribe = this.fleet.subscribe((e) => void (e.type === "host" && check()));
      const timer = setTimeout(() => finish("timeout"), timeoutMs);
      // A cancel arrives outside the fleet's events.
      const cancelCheck = setInterval(() => void (this.cancelled.has(opId) && finish("cancelled")), 250);
      check();
    });
  }

  /** Follows another operation to its end, calling `onUpdate` with each state. */
  private follow(id: string, onUpdate: (op: Operation) => void): Promise<Operation> {
    return new Promise((resolve) => {
      const unsubscribe = this.core.subscribe((op) => {
        if (op.id !== id) return;
        onUpdate(op);
        if (isFinal(op.state)) {
          unsubscribe();
          resolve(op);
        }
      });
      void this.core.get(id).then((op) => {
        if (op && isFinal(op.state)) {
          unsubscribe();
          onUpdate(op);
          resolve(op);
        }
      });
    });
  }
}

/** One server-side operation's steps as they run; every change is committed (persisted and pushed). */
class StepRun {
  constructor(
    private readonly core: SwarmNodesCore,
    private op: Operation,
  ) {}

  get id() {
    return this.op.id;
  }

  private commit(patch: Partial<Operation>) {
    this.op = { ...this.op, ...patch, updatedAt: new Date().toISOString() };
    this.core.updateServerSide(this.op);
  }

  private step(id: string, patch: (s: OperationStep) => Partial<OperationStep>) {
    this.commit({ steps: this.op.steps.map((s) => (s.id === id ? { ...s, ...patch(s) } : s)) });
  }

  note(params: Record<string, unknown>) {
    this.commit({ params: { ...this.op.params, ...params } });
  }

  start(id: string) {
    this.step(id, () => ({ state: "running", startedAt: new Date().toISOString(), finishedAt: null }));
  }

  log(id: string, lines: string[], replace = false) {
    const clean = lines.map((l) => redactSwarmTokens(l).slice(0, 512));
    this.step(id, (s) => ({ log: (replace ? clean : [...s.log, ...clean]).slice(-200) }));
  }

  done(id: string, lines: string[]) {
    if (lines.length) this.log(id, lines);
    this.step(id, () => ({ state: "succeeded", finishedAt: new Date().toISOString() }));
  }

  skip(id: string, lines: string[]) {
    this.log(id, lines);
    this.step(id, () => ({ state: "skipped", finishedAt: new Date().toISOString() }));
  }

  /** The create's own steps, as its operation reports them, in place of ours of the same id. */
  mirror(steps: readonly OperationStep[]) {
    const byId = new Map(steps.map((s) => [s.id, s]));
    this.commit({ steps: this.op.steps.map((s) => byId.get(s.id) ?? s) });
  }

  fail(id: string, error: string, state: "failed" | "cancelled" = "failed") {
    this.log(id, [error]);
    this.step(id, () => ({ state: "failed", finishedAt: new Date().toISOString() }));
    this.finish(state, error);
  }

  finish(state: "succeeded" | "failed" | "cancelled", error: string | null) {
    const now = new Date().toISOString();
    this.commit({ state, error: error === null ? null : redactSwarmTokens(error), finishedAt: now });
  }
}

const leaderOf = (manager: HostRecord): SwarmNode | null => {
  const sw = manager.inventory.swarm!;
  return sw.nodes.find((n) => n.leader) ?? sw.nodes.find((n) => n.id === sw.nodeId) ?? null;
};

const message = (err: unknown) => redactSwarmTokens(err instanceof Error ? err.message : String(err));
