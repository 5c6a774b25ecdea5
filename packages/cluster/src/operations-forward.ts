import { NimbusError, Operation, hostMaintenanceView, isFinal, type HostMaintenanceView, type HostRecord, type OperationKind, type OperationListQuery, type OperationPage, type OperationScope } from "@nimbus/domain";
import { locateInstance, pendingCreates, swarmManager, type FleetView, type OperationManager, type OperationStore } from "@nimbus/fleet";
import pg from "pg";
import { pino, type Logger } from "pino";
import { z } from "zod";
import { OperationAdoption } from "./adoption.js";
import type { ClusterBus, BusMessage } from "./bus.js";
import type { InternalRpc } from "./internal-http.js";
import type { LeaseManager } from "./leases.js";
import type { Queryable } from "./sql.js";

/**
 * Operations in replica mode: each runs on the replica that owns its host's lease (a migration:
 * the SOURCE host's), because only that replica holds the host's SSH link and sees its job updates.
 *
 * A mutation reaching replica A is validated and authorized on A by the API as always; its start
 * call lands here, which finds the host the operation will run on (from the replicated inventory)
 * and, when B owns it, sends B `operations.start` over internal HTTP (cluster secret) with the same
 * arguments and the actor's name. B checks it still owns the host (else A asks the new owner), runs
 * its local OperationManager (preflight, agent re-checks: the destination's through ClusterFleet,
 * relayed to the destination's owner; the row stamped with B's id) and returns the Operation.
 *
 * Every replica's operation changes are published on the bus (`operation`); the others keep the
 * unfinished ones, so running(), pendingCreates() (placement, quotas), maintenance views, lists
 * and the live channel are cluster-wide wherever the browser is connected.
 */

/** OperationManager's start methods that may be sent to a host's owner, with the host each runs on. */
const START_METHODS = [
  "startMigration",
  "startStorageMove",
  "startCreate",
  "startDelete",
  "startScale",
  "startStackDeploy",
  "startStackRemove",
  "startServiceUpdate",
  "startImageBuild",
  "startImageImport",
  "startMaintenance",
] as const;
type StartMethod = (typeof START_METHODS)[number];

/** The swarm node runner's starts (server-side operations with steps), run by the owner of the host they record. */
const NODE_METHODS = ["addWorker", "createSwarm", "removeWorker"] as const;
type NodeMethod = (typeof NODE_METHODS)[number];
type SwarmNodes = OperationManager["swarmNodes"];

/**
 * Where every kind of operation runs in replica mode, and how it gets there (the table test in
 * operations-forward.unit.test.ts fails when a kind is added without a row here).
 * - `start`: an OperationManager start sent to the owner of the host it runs on;
 * - `node`: a swarm node runner start sent to the owner of the host it records (the hypervisor
 *   placement picks, or the VM's host / the manager for a removal), so the run and the lease are
 *   in one process and the host's next owner adopts it if that process dies;
 * - `local`: run by the replica that got the request; its agent calls are relayed
 *   (ClusterFleet.request) and, should that replica die, the owner of its host takes it over
 *   (OperationAdoption.sweep) as after a restart.
 */
export const OPERATION_ROUTES: Record<OperationKind, { via: "start"; method: StartMethod } | { via: "node"; method: NodeMethod } | { via: "local"; why: string }> = {
  migrate: { via: "start", method: "startMigration" },
  "storage-move": { via: "start", method: "startStorageMove" },
  create: { via: "start", method: "startCreate" },
  delete: { via: "start", method: "startDelete" },
  scale: { via: "start", method: "startScale" },
  "stack-deploy": { via: "start", method: "startStackDeploy" },
  "stack-remove": { via: "start", method: "startStackRemove" },
  "service-update": { via: "start", method: "startServiceUpdate" },
  "service-rollback": { via: "start", method: "startServiceUpdate" },
  "image-build": { via: "start", method: "startImageBuild" },
  "image-import": { via: "start", method: "startImageImport" },
  maintenance: { via: "start", method: "startMaintenance" },
  "swarm-add-worker": { via: "node", method: "addWorker" },
  "swarm-create": { via: "node", method: "createSwarm" },
  "swarm-remove-worker": { via: "node", method: "removeWorker" },
  "lb-apply": { via: "local", why: "seconds of relayed agent calls (write, validate, reload, verify) on the replica that saved the spec; swept by the edge host's owner if that replica dies" },
  power: { via: "local", why: "no start method records it (the kind is reserved)" },
};
type Local = Pick<OperationManager, StartMethod | "cancel" | "running" | "list" | "get" | "page" | "subscribe" | "planMaintenance" | "exitMaintenance" | "pendingCreates" | "swarmNodes">;

/** The host whose owner runs the operation; null: this replica decides (the local manager refuses what it must). */
export function operationHost(method: StartMethod, args: readonly unknown[], hosts: readonly HostRecord[]): string | null {
  const first = args[0] as Record<string, unknown> | string | undefined;
  const instanceHost = (name: unknown) => (typeof name === "string" ? (locateInstance(hosts, name)?.host.name ?? null) : null);
  switch (method) {
    case "startMigration":
    case "startStorageMove":
      return instanceHost((first as Record<string, unknown> | undefined)?.instance);
    case "startDelete":
      return instanceHost(first);
    case "startCreate":
    case "startImageBuild":
    case "startImageImport":
      return typeof first === "string" ? first : null;
    case "startMaintenance":
      return typeof (first as Record<string, unknown> | undefined)?.host === "string" ? ((first as Record<string, unknown>).host as string) : null;
    case "startScale":
    case "startStackDeploy":
    case "startStackRemove":
    case "startServiceUpdate":
      return swarmManager(hosts)?.name ?? null;
  }
}

const StartInput = z.object({
  method: z.enum(START_METHODS),
  host: z.string().min(1).max(253),
  // The arguments the API validated on the first replica (JSON: requests, names, the actor).
  args: z.array(z.unknown()).max(6),
});
/** The host whose owner runs a swarm node start; null: this replica (the runner refuses what it must). */
export function nodeOperationHost(method: NodeMethod, args: readonly unknown[], nodes: Pick<SwarmNodes, "planWorker">, hosts: readonly HostRecord[]): string | null {
  try {
    if (method === "addWorker") return nodes.planWorker(args[0] as never, "worker").placement.chosen?.host ?? null;
    if (method === "createSwarm") return nodes.planWorker(args[0] as never, "manager").placement.chosen?.host ?? null;
  } catch {
    return null; // a request that does not parse: refused here, by the runner
  }
  const ref = args[0];
  const manager = swarmManager(hosts);
  const node = manager?.inventory.swarm?.nodes.find((n) => n.hostname === ref || n.id === ref);
  if (!manager || !node) return null;
  return locateInstance(hosts, node.hostname)?.host.name ?? manager.name;
}

const NodeStartInput = z.object({
  method: z.enum(NODE_METHODS),
  host: z.string().min(1).max(253),
  args: z.array(z.unknown()).max(4),
});
const CancelInput = z.object({ id: z.string().min(1).max(64), host: z.string().min(1).max(253) });

export interface ClusterOperationsOptions {
  replicaId: string;
  local: OperationManager;
  fleet: FleetView;
  leases: Pick<LeaseManager, "owns" | "waitForOwner" | "directory">;
  rpc: InternalRpc;
  bus: Pick<ClusterBus, "publish" | "subscribe" | "onResync">;
  /** The shared store (unfinished operations of other replicas at start and after a bus reconnect). */
  store: Pick<OperationStore, "listUnfinished">;
  /** How long to wait for a host in transit between owners. */
  ownerWaitMs?: number;
  logger?: Logger;
}

export class ClusterOperations {
  /** Unfinished operations other replicas run, as last published (or read from the store). */
  private readonly remote = new Map<string, Operation>();
  /** Remote operations that just ended (a page asking right after the toast), bounded. */
  private readonly remoteFinished = new Map<string, Operation>();
  private readonly listeners = new Set<(op: Operation) => void>();
  private readonly cleanups: (() => void)[] = [];
  private outbound: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private readonly local: Local;

  constructor(private readonly opts: ClusterOperationsOptions) {
    this.local = opts.local;
    this.logger = opts.logger ?? pino({ level: "silent" });
  }

  /** Registers the internal methods, follows the bus and the local manager, loads what others run. */
  async start(): Promise<void> {
    const { rpc, bus } = this.opts;
    rpc.register("operations.start", StartInput, (input) => this.startHere(input.method, input.host, input.args));
    rpc.register("operations.startNode", NodeStartInput, async (input) => {
      this.assertOwned(input.host);
      return this.runNode(input.method, input.args);
    });
    rpc.register("operations.cancel", CancelInput, async (input) => {
      this.assertOwned(input.host);
      await this.local.cancel(input.id);
      return null;
    });
    this.cleanups.push(
      this.local.subscribe((op) => this.onLocal(op)),
      bus.subscribe((m) => this.onMessage(m)),
      bus.onResync(() => void this.resync()),
    );
    await this.loadUnfinished();
  }

  stop(): void {
    for (const c of this.cleanups.splice(0)) c();
  }

  // ---- starting, where the host's owner is -------------------------------------------------

  startMigration: OperationManager["startMigration"] = (...args) => this.forward("startMigration", args);
  startStorageMove: OperationManager["startStorageMove"] = (...args) => this.forward("startStorageMove", args);
  startCreate: OperationManager["startCreate"] = (...args) => this.forward("startCreate", args);
  startDelete: OperationManager["startDelete"] = (...args) => this.forward("startDelete", args);
  startScale: OperationManager["startScale"] = (...args) => this.forward("startScale", args);
  startStackDeploy: OperationManager["startStackDeploy"] = (...args) => this.forward("startStackDeploy", args);
  startStackRemove: OperationManager["startStackRemove"] = (...args) => this.forward("startStackRemove", args);
  startServiceUpdate: OperationManager["startServiceUpdate"] = (...args) => this.forward("startServiceUpdate", args);
  startImageBuild: OperationManager["startImageBuild"] = (...args) => this.forward("startImageBuild", args);
  startImageImport: OperationManager["startImageImport"] = (...args) => this.forward("startImageImport", args);
  startMaintenance: OperationManager["startMaintenance"] = (...args) => this.forward("startMaintenance", args);

  /** Asks the replica running it (the owner of its host) to cancel. */
  async cancel(id: string): Promise<void> {
    const op = this.local.running().find((o) => o.id === id) ?? this.remote.get(id);
    if (!op) return this.local.cancel(id); // finished or unknown: the local manager says which
    await this.relay(op.host, () => this.local.cancel(id), "operations.cancel", { id, host: op.host });
  }

  private async forward(method: StartMethod, args: unknown[]): Promise<Operation> {
    const host = operationHost(method, args, this.opts.fleet.hosts());
    const here = () => (this.local[method] as (...a: unknown[]) => Promise<Operation>)(...args);
    if (!host) return here();
    const op = await this.relay(host, here, "operations.start", { method, host, args });
    // Known here at once (a quota check right after must count it), before the bus brings it.
    if (!this.local.running().some((o) => o.id === op.id)) this.remember(Operation.parse(op));
    return op;
  }

  /** On the owner: refuse when the host moved meanwhile (the caller asks its new owner), else run it here. */
  private async startHere(method: StartMethod, host: string, args: unknown[]): Promise<Operation> {
    this.assertOwned(host);
    return (this.local[method] as (...a: unknown[]) => Promise<Operation>)(...args);
  }

  private assertOwned(host: string): void {
    if (!this.opts.leases.owns(host)) throw new NimbusError("HOST_UNREACHABLE", `${host} is not watched by this server any more`, { host, moved: true });
  }

  private async relay<T>(host: string, here: () => Promise<T>, method: string, input: unknown): Promise<T> {
    const { leases, rpc, replicaId } = this.opts;
    for (let attempt = 0; ; attempt++) {
      if (leases.owns(host)) return here();
      const owner = await leases.waitForOwner(host, this.opts.ownerWaitMs ?? 8_000);
      if (owner === replicaId) continue;
      const url = owner ? leases.directory.url(owner) : undefined;
      if (!owner || !url) throw new NimbusError("HOST_UNREACHABLE", `${host} has no server watching it right now (the replicas are re-sharing hosts); try again`, { host });
      try {
        return await rpc.call<T>(url, method, input);
      } catch (err) {
        const moved = err instanceof NimbusError && err.details?.["moved"] === true;
        if (!moved || attempt >= 2) throw err;
      }
    }
  }

  // ---- the cluster-wide view -------------------------------------------------------------------

  /** Unfinished operations on every replica: this one's freshest copies, the others' as published. */
  running(): Operation[] {
    const mine = this.local.running();
    const ids = new Set(mine.map((o) => o.id));
    return [...mine, ...[...this.remote.values()].filter((o) => !ids.has(o.id))];
  }

  pendingCreates(): ReturnType<OperationManager["pendingCreates"]> {
    return pendingCreates(this.running());
  }

  planMaintenance(host: string) {
    return this.local.planMaintenance(host);
  }

  /** Refused while any replica evacuates the host; the flag itself goes to the host's owner (ClusterFleet). */
  async exitMaintenance(host: string): Promise<HostMaintenanceView> {
    const record = this.opts.fleet.host(host);
    if (!record) throw new NimbusError("NOT_FOUND", `host ${host} not found`, { host });
    const evacuation = this.evacuationOf(host);
    if (evacuation) throw new NimbusError("CONFLICT", `${host} is being evacuated (${evacuation.summary}); abort that first`, { operation: evacuation.id });
    // Awaited: the owner's answer (or its error) is the caller's.
    await this.opts.fleet.setMaintenance(host, false);
    return hostMaintenanceView(this.opts.fleet.host(host) ?? record, null);
  }

  maintenanceViews(): HostMaintenanceView[] {
    return this.opts.fleet.hosts().map((h) => hostMaintenanceView(h, this.evacuationOf(h.name)));
  }

  async get(id: string): Promise<Operation | null> {
    return this.local.running().find((o) => o.id === id) ?? this.remoteCopy(id) ?? (await this.local.get(id));
  }

  async list(filter: Parameters<OperationManager["list"]>[0]): Promise<Operation[]> {
    return (await this.local.list(filter)).map((op) => this.remoteCopy(op.id) ?? op);
  }

  async page(query: OperationListQuery, scope: OperationScope): Promise<OperationPage> {
    const page = await this.local.page(query, scope);
    return { ...page, items: page.items.map((op) => this.remoteCopy(op.id) ?? op) };
  }

  subscribe(listener: (op: Operation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Swarm node starts go to the owner of the host they record; plans and checks are answered here. */
  readonly swarmNodes: Pick<SwarmNodes, "planWorker" | "removeProblem" | NodeMethod> = {
    planWorker: (...args) => this.local.swarmNodes.planWorker(...args),
    removeProblem: (node) => this.local.swarmNodes.removeProblem(node),
    addWorker: (...args) => this.forwardNode("addWorker", args),
    createSwarm: (...args) => this.forwardNode("createSwarm", args),
    removeWorker: (...args) => this.forwardNode("removeWorker", args),
  };

  private runNode(method: NodeMethod, args: unknown[]): Promise<Operation> {
    return (this.local.swarmNodes[method] as (...a: unknown[]) => Promise<Operation>).call(this.local.swarmNodes, ...args);
  }

  private async forwardNode(method: NodeMethod, args: unknown[]): Promise<Operation> {
    const host = nodeOperationHost(method, args, this.local.swarmNodes, this.opts.fleet.hosts());
    if (!host) return this.runNode(method, args);
    const op = await this.relay(host, () => this.runNode(method, args), "operations.startNode", { method, host, args });
    if (!this.local.running().some((o) => o.id === op.id)) this.remember(Operation.parse(op));
    return op;
  }

  /** Operations this replica gave up with a host: shown as last known until their new owner publishes. */
  handedOver(ops: readonly Operation[]): void {
    for (const op of ops) this.remote.set(op.id, op);
  }

  /** Operations this replica adopted: no longer someone else's. */
  adopted(ops: readonly Operation[]): void {
    for (const op of ops) {
      this.remote.delete(op.id);
      this.emit(op);
      this.publish(op);
    }
  }

  private evacuationOf(host: string): Operation | null {
    return this.running().find((op) => op.kind === "maintenance" && op.target.name === host) ?? null;
  }

  private remoteCopy(id: string): Operation | undefined {
    return this.remote.get(id) ?? this.remoteFinished.get(id);
  }

  private onLocal(op: Operation): void {
    this.remote.delete(op.id);
    this.emit(op);
    this.publish(op);
  }

  private publish(op: Operation): void {
    // One after the other: receivers apply them in this order.
    this.outbound = this.outbound.then(() =>
      this.opts.bus.publish("operation", op).catch((err: unknown) => this.logger.debug({ err, operation: op.id }, "operation change not published (a reconnect resyncs)")),
    );
  }

  private onMessage(m: BusMessage): void {
    if (m.kind !== "operation" || m.from === this.opts.replicaId) return;
    const parsed = Operation.safeParse(m.payload);
    if (!parsed.success) return this.logger.warn({ from: m.from }, "operation message refused: not an Operation");
    const op = parsed.data;
    // Ours now (adopted): a deposed owner's late message must not overwrite our copy.
    if (this.local.running().some((o) => o.id === op.id)) return;
    this.remember(op);
    this.emit(op);
  }

  private remember(op: Operation): void {
    if (isFinal(op.state)) {
      this.remote.delete(op.id);
      this.remoteFinished.set(op.id, op);
      for (const id of this.remoteFinished.keys()) if (this.remoteFinished.size > 200) this.remoteFinished.delete(id);
    } else {
      const known = this.remote.get(op.id);
      // Out-of-order copies from two owners (a handover): the newer update wins.
      if (!known || known.updatedAt <= op.updatedAt) this.remote.set(op.id, op);
    }
  }

  private async loadUnfinished(): Promise<void> {
    const mine = new Set(this.local.running().map((o) => o.id));
    const stored = await this.opts.store.listUnfinished();
    const ids = new Set(stored.map((o) => o.id));
    for (const op of stored) if (!mine.has(op.id)) this.remember(op);
    // Gone from the store's unfinished list: ended while we were not listening.
    for (const id of [...this.remote.keys()]) if (!ids.has(id)) this.remote.delete(id);
  }

  /**
   * Reloads the unfinished operations of the other replicas from the store: under the tenant lock
   * (PgTenantLocks) before a quota check, so a create recorded elsewhere counts before its bus
   * message arrives.
   */
  refresh(): Promise<void> {
    return this.loadUnfinished();
  }

  /** After a bus reconnect: messages were missed both ways. */
  private async resync(): Promise<void> {
    for (const op of this.local.running()) this.publish(op);
    await this.loadUnfinished().catch((err: unknown) => this.logger.warn({ err }, "unfinished operations not reloaded after a bus reconnect"));
  }

  private emit(op: Operation): void {
    for (const l of this.listeners) {
      try {
        l(op);
      } catch (err) {
        this.logger.error({ err }, "operation listener failed");
      }
    }
  }
}

/**
 * The operation store of a replica: every row it inserts names the replica that runs it
 * (operations.replica), which adoption (adoption.ts) moves to the new owner.
 */
export function stampReplica<S extends OperationStore>(store: S, db: Queryable, replicaId: string): S {
  const stamped = Object.create(store) as S;
  stamped.insert = async (op: Operation) => {
    await store.insert(op);
    await db.query(`update operations set replica = $1 where id = $2`, [replicaId, op.id]);
  };
  return stamped;
}

/**
 * A small pool of its own for the operations' cluster work: the tenant advisory locks (one
 * connection held per tenant while a create is checked and recorded), adoption and the replica
 * stamp, so they never wait behind the main pool.
 */
export function clusterSqlPool(url: string, logger?: Logger): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5_000, keepAlive: true });
  pool.on("error", (err) => logger?.warn({ err }, "cluster sql connection lost"));
  return pool;
}

/**
 * Replica mode's operations, wired: forwarding and the cluster-wide view (ClusterOperations), and
 * adoption with the leases. `local` must have been made with `adoptOnly` and a stampReplica store.
 */
export async function startClusterOperations(opts: {
  replicaId: string;
  local: OperationManager;
  fleet: FleetView;
  leases: LeaseManager;
  rpc: InternalRpc;
  bus: ClusterBus;
  store: OperationStore;
  sql: Queryable;
  logger?: Logger;
}): Promise<{ operations: ClusterOperations; adoption: OperationAdoption; stop(): void }> {
  const operations = new ClusterOperations({ ...opts, logger: opts.logger?.child({ component: "cluster-operations" }) });
  await operations.start();
  const adoption = new OperationAdoption({
    replicaId: opts.replicaId,
    leases: opts.leases,
    db: opts.sql,
    store: opts.store,
    manager: opts.local,
    onAdopted: (ops) => operations.adopted(ops),
    onHandedOver: (ops) => operations.handedOver(ops),
    logger: opts.logger?.child({ component: "adoption" }),
  });
  adoption.start();
  return {
    operations,
    adoption,
    stop() {
      adoption.stop();
      operations.stop();
    },
  };
}
