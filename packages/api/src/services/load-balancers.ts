import type { FleetEvent, FleetView } from "@nimbus/fleet";
import {
  LoadBalancerSpec,
  NimbusError,
  lbApplyParams,
  pendingStep,
  loadBalancerView,
  resolveLbServers,
  type LbApplyParams,
  type LoadBalancerView,
  type HttpCheckHint,
  type Operation,
  type OperationStep,
} from "@nimbus/domain";

/** What the service needs from the database (implemented by @nimbus/db's LoadBalancerStore). */
export interface LoadBalancerStoreLike {
  list(): Promise<StoredLb[]>;
  insert(spec: LoadBalancerSpec, createdBy: string): Promise<StoredLb>;
  update(spec: LoadBalancerSpec): Promise<StoredLb>;
  setApplied(name: string, hash: string | null, applied: LbApplyParams | null): Promise<void>;
  delete(name: string): Promise<boolean>;
}
/** A load balancer's view changed (`lb: null`: it was deleted). */
export interface LbViewChange {
  name: string;
  lb: LoadBalancerView | null;
}

export interface StoredLb {
  spec: LoadBalancerSpec;
  appliedHash: string | null;
  applied: LbApplyParams | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

/** The operation manager's server-side operations (lb-apply runs in the server, step by step, each step one agent request). */
export interface ServerSideOperations {
  recordServerSide(fields: Pick<Operation, "kind" | "target" | "host" | "tenant" | "requestedBy" | "summary" | "params" | "progress">): Promise<Operation>;
  updateServerSide(op: Operation): void;
}

/**
 * Replica mode: "being applied" across replicas. `exclusive` runs `work` while no other replica
 * runs one for the same load balancer (a PostgreSQL advisory lock), so a check and the record of an
 * lb-apply are one step cluster-wide; `unfinished` lists the ids of the lb-apply operations of that
 * load balancer recorded and not finished, by any replica (a dead replica's are swept by the edge
 * host's owner, so they do not hold it for long).
 */
export interface LbApplyGuard {
  exclusive<T>(name: string, work: () => Promise<T>): Promise<T>;
  unfinished(name: string): Promise<string[]>;
}

const STEPS = [
  ["write", "Write the configuration", "render haproxy.cfg from the servers resolved now"],
  ["validate", "Validate", "haproxy -c -f on the candidate"],
  ["reload", "Reload", "master-worker reload (SIGUSR2): old workers finish their connections"],
  ["verify", "Verify backends", "show stat lists every server"],
] as const;

/** An lb-apply's own step to read back: the agent should list exactly the servers it was sent. */
const VERIFY_ATTEMPTS = 10;

/**
 * Load balancers: specs in the database (cached here: pages are answered from memory), states
 * from the edge hosts' `lb` sections. Create and update save the spec and run lb-apply
 * (write, validate, reload, verify) as a server-side operation whose steps are the agent's
 * requests; a service's load balancer is applied again by itself when the swarm moves on (a node
 * joins, leaves, is drained or comes back), so a drained node leaves the rotation and returns.
 */
export class LoadBalancerService {
  private readonly specs = new Map<string, StoredLb>();
  private readonly applying = new Map<string, Promise<Operation>>();
  private readonly again = new Set<string>();
  /** Replica mode: lb-apply runs this process finished lately (their final row may be a moment behind). */
  private readonly finishedHere = new Set<string>();
  private unsubscribe: (() => void) | null = null;
  private followTimer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(change: LbViewChange) => void>();
  /** What each listener was last told, per load balancer (JSON): an unchanged view is not news. */
  private readonly told = new Map<string, string>();
  private viewTimer: NodeJS.Timeout | null = null;
  private readonly specListeners = new Set<() => void>();
  private readonly storedListeners = new Set<(name: string) => void>();

  constructor(
    private readonly fleet: FleetView,
    private readonly store: LoadBalancerStoreLike,
    private readonly ops: ServerSideOperations,
    private readonly opts: {
      followDelayMs?: number;
      verifyDelayMs?: number;
      viewDelayMs?: number;
      log?: (msg: string, err?: unknown) => void;
      /** Replica mode: whether this replica re-applies service load balancers when the swarm moves (the leader: once per cluster). */
      follows?: () => boolean;
      /** Replica mode: the "being applied" guard across replicas (without it: this process's alone). */
      guard?: LbApplyGuard;
    } = {},
  ) {}

  async start(): Promise<void> {
    for (const s of await this.store.list()) this.specs.set(s.spec.name, s);
    this.unsubscribe = this.fleet.subscribe((e) => this.onFleet(e));
  }

  /**
   * Replica mode: reads the specs again after another replica wrote one (created, changed,
   * deleted, applied); the page, the active checks and the views follow as after a local change.
   */
  async reload(): Promise<void> {
    const rows = await this.store.list();
    this.specs.clear();
    for (const s of rows) this.specs.set(s.spec.name, s);
    this.specsChanged();
  }

  /** Hears each spec this replica wrote (replica mode: the others reload). */
  onStoredChange(listener: (name: string) => void): () => void {
    this.storedListeners.add(listener);
    return () => this.storedListeners.delete(listener);
  }

  private stored(name: string) {
    for (const l of this.storedListeners) l(name);
  }

  stop(): void {
    this.unsubscribe?.();
    if (this.followTimer) clearTimeout(this.followTimer);
    if (this.viewTimer) clearTimeout(this.viewTimer);
  }

  /**
   * Hears each load balancer's view when it changed (backends' states, sessions, request counts:
   * the edge host pushes its `lb` section only when `show stat` moved), or `null` when it was
   * deleted. The live hub fans it out to staff browsers, so the page follows without polling.
   */
  subscribe(listener: (change: LbViewChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The service ports these load balancers say speak HTTP (http mode with a check path): the
   * active-check plan probes them with HTTP too (`planActiveChecks` hints).
   */
  httpCheckHints(): HttpCheckHint[] {
    const hints: HttpCheckHint[] = [];
    for (const { spec } of this.specs.values())
      if (spec.target.kind === "service" && spec.mode === "http" && spec.check.httpPath !== null)
        hints.push({ service: spec.target.service, port: spec.target.port, check: { path: spec.check.httpPath, expectStatus: spec.check.expectStatus, expectBody: null } });
    return hints.sort((a, b) => a.service.localeCompare(b.service) || (a.port ?? 0) - (b.port ?? 0));
  }

  /** Hears that a spec was created, changed or deleted (the active-check plan follows). */
  onSpecsChanged(listener: () => void): () => void {
    this.specListeners.add(listener);
    return () => this.specListeners.delete(listener);
  }

  private specsChanged() {
    for (const l of this.specListeners) l();
    this.scheduleViews();
  }

  /** Views whose JSON changed since last told, at most every `viewDelayMs` (many hosts' pushes in one pass). */
  private scheduleViews() {
    if (this.viewTimer || !this.listeners.size) return;
    this.viewTimer = setTimeout(() => {
      this.viewTimer = null;
      this.emitViews();
    }, this.opts.viewDelayMs ?? 50);
    this.viewTimer.unref?.();
  }

  private emitViews() {
    const hosts = this.fleet.hosts();
    for (const name of this.told.keys())
      if (!this.specs.has(name)) {
        this.told.delete(name);
        for (const l of this.listeners) l({ name, lb: null });
      }
    for (const s of this.specs.values()) {
      const view = this.view(s, hosts);
      const json = JSON.stringify(view);
      if (this.told.get(s.spec.name) === json) continue;
      this.told.set(s.spec.name, json);
      for (const l of this.listeners) l({ name: s.spec.name, lb: view });
    }
  }

  list(): LoadBalancerView[] {
    const hosts = this.fleet.hosts();
    return [...this.specs.values()].sort((a, b) => a.spec.name.localeCompare(b.spec.name)).map((s) => this.view(s, hosts));
  }

  get(name: string): LoadBalancerView {
    const s = this.specs.get(name);
    if (!s) throw new NimbusError("NOT_FOUND", `load balancer ${name} not found`, { name });
    return this.view(s, this.fleet.hosts());
  }

  async create(input: LoadBalancerSpec, by: string): Promise<Operation> {
    const spec = LoadBalancerSpec.parse(input);
    if (this.specs.has(spec.name)) throw new NimbusError("CONFLICT", `load balancer ${spec.name} already exists`, { name: spec.name });
    this.precheck(spec);
    const stored = await this.store.insert(spec, by);
    this.specs.set(spec.name, stored);
    this.specsChanged();
    this.stored(spec.name);
    return this.apply(spec.name, by);
  }

  async update(input: LoadBalancerSpec, by: string): Promise<Operation> {
    const spec = LoadBalancerSpec.parse(input);
    const before = this.specs.get(spec.name);
    if (!before) throw new NimbusError("NOT_FOUND", `load balancer ${spec.name} not found`, { name: spec.name });
    const busy = () => new NimbusError("CONFLICT", `load balancer ${spec.name} is being applied; try again when that ends`, { name: spec.name });
    if (this.applying.has(spec.name)) throw busy();
    if (before.spec.edgeHost !== spec.edgeHost) throw new NimbusError("BAD_INPUT", `a load balancer stays on its edge host (${before.spec.edgeHost}); delete it and create another`, { name: spec.name });
    this.precheck(spec);
    // The spec is saved only when its apply may start: a refused update changes nothing.
    return this.guarded(spec.name, busy, async () => {
      this.specs.set(spec.name, await this.store.update(spec));
      this.specsChanged();
      this.stored(spec.name);
      return this.startApply(spec.name, by);
    });
  }

  /** Stops and removes the HAProxy on the edge host, then forgets the spec. An unreachable edge host refuses (nothing is left running unknown). */
  async delete(name: string): Promise<void> {
    const s = this.specs.get(name);
    if (!s) throw new NimbusError("NOT_FOUND", `load balancer ${name} not found`, { name });
    if (this.applying.has(name) || (await this.busyElsewhere(name))) throw new NimbusError("CONFLICT", `load balancer ${name} is being applied; try again when that ends`, { name });
    await this.fleet.request(s.spec.edgeHost, "lb.remove", { name });
    await this.store.delete(name);
    this.specs.delete(name);
    this.specsChanged();
    this.stored(name);
  }

  /** Runs lb-apply now (an explicit "Apply again", or after create/update). */
  async apply(name: string, by: string): Promise<Operation> {
    if (!this.specs.has(name)) throw new NimbusError("NOT_FOUND", `load balancer ${name} not found`, { name });
    return this.guarded(name, () => new NimbusError("CONFLICT", `load balancer ${name} is being applied already`, { name }), () => this.startApply(name, by));
  }

  /**
   * Runs `work` (which records an lb-apply) only while `name` is not being applied, here or (replica
   * mode) by another replica: the check and the record are one step under the cluster guard, so of
   * two applies sent through two replicas at once the second is refused with `busy`.
   */
  private async guarded(name: string, busy: () => NimbusError, work: () => Promise<Operation>): Promise<Operation> {
    if (this.applying.has(name)) throw busy();
    const guard = this.opts.guard;
    if (!guard) return work();
    return guard.exclusive(name, async () => {
      if (this.applying.has(name) || (await this.busyElsewhere(name))) throw busy();
      return work();
    });
  }

  /** Replica mode: an unfinished lb-apply of `name` recorded by any replica (not one this process already finished). */
  private async busyElsewhere(name: string): Promise<boolean> {
    if (!this.opts.guard) return false;
    return (await this.opts.guard.unfinished(name)).some((id) => !this.finishedHere.has(id));
  }

  private async startApply(name: string, by: string): Promise<Operation> {
    const s = this.specs.get(name);
    if (!s) throw new NimbusError("NOT_FOUND", `load balancer ${name} not found`, { name });
    if (this.applying.has(name)) throw new NimbusError("CONFLICT", `load balancer ${name} is being applied already`, { name });
    const params = lbApplyParams(s.spec, this.fleet.hosts());
    const started = this.run(s, params, by);
    this.applying.set(name, started.then((r) => r.done));
    void started
      .then((r) => r.done)
      .then((op) => {
        this.finishedHere.add(op.id);
        if (this.finishedHere.size > 100) this.finishedHere.delete(this.finishedHere.values().next().value!);
      })
      .catch(() => undefined)
      .finally(() => {
        this.applying.delete(name);
        if (this.again.delete(name)) this.scheduleFollow();
      });
    return (await started).op;
  }

  private precheck(spec: LoadBalancerSpec) {
    const hosts = this.fleet.hosts();
    const edge = hosts.find((h) => h.name === spec.edgeHost);
    if (!edge) throw new NimbusError("NOT_FOUND", `host ${spec.edgeHost} not found`, { host: spec.edgeHost });
    if (edge.connection.state !== "online") throw new NimbusError("PRECONDITION_FAILED", `edge host ${spec.edgeHost} is ${edge.connection.state}`, { host: spec.edgeHost });
    if (!edge.inventory.lb) throw new NimbusError("PRECONDITION_FAILED", `edge host ${spec.edgeHost} has no HAProxy (install the haproxy package there)`, { host: spec.edgeHost });
    for (const other of this.specs.values())
      if (other.spec.name !== spec.name && other.spec.edgeHost === spec.edgeHost && other.spec.bind.port === spec.bind.port)
        throw new NimbusError("CONFLICT", `port ${spec.bind.port} on ${spec.edgeHost} is taken by load balancer ${other.spec.name}`, { name: spec.name });
    // Refuses a service that does not exist or publishes no TCP port before anything is saved.
    resolveLbServers(spec, hosts);
  }

  private view(s: StoredLb, hosts: ReturnType<FleetView["hosts"]>): LoadBalancerView {
    let expected: { servers: LbApplyParams["servers"] } | { error: string };
    try {
      expected = { servers: resolveLbServers(s.spec, hosts) };
    } catch (err) {
      expected = { error: err instanceof Error ? err.message : String(err) };
    }
    return loadBalancerView(s, hosts, expected, s.applied?.servers ?? null);
  }

  /** Records the operation, then runs its steps in the background; `done` settles with the final operation. */
  private async run(s: StoredLb, params: LbApplyParams, by: string): Promise<{ op: Operation; done: Promise<Operation> }> {
    const host = s.spec.edgeHost;
    const at = () => new Date().toISOString();
    let op = await this.ops.recordServerSide({
      kind: "lb-apply",
      target: { type: "load-balancer", name: s.spec.name },
      host,
      tenant: null,
      requestedBy: by,
      summary: `apply load balancer ${s.spec.name} on ${host}: ${params.servers.length} server${params.servers.length === 1 ? "" : "s"} on :${s.spec.bind.port}`,
      params: { servers: params.servers.map((x) => `${x.name} ${x.address}:${x.port}${x.disabled ? " (disabled)" : ""}`) },
      progress: null,
    });
    op = { ...op, state: "running", steps: STEPS.map(([id, label, detail]) => pendingStep(id, label, detail)) };
    this.ops.updateServerSide(op);
    const step = (id: string, patch: Partial<OperationStep>, line?: string) => {
      op = { ...op, updatedAt: at(), steps: op.steps.map((x) => (x.id === id ? { ...x, ...patch, log: line ? [...x.log, line.slice(0, 500)].slice(-200) : x.log } : x)) };
      this.ops.updateServerSide(op);
    };
    const done = (async () => {
      let current = "write";
      try {
        step("write", { state: "running", startedAt: at() });
        const written = await this.fleet.request(host, "lb.write", params);
        step("write", { state: "succeeded", finishedAt: at() }, `${written.path}: ${written.bytes} bytes, sha256 ${written.configHash.slice(0, 12)}`);
        current = "validate";
        step("validate", { state: "running", startedAt: at() });
        const valid = await this.fleet.request(host, "lb.validate", { name: params.name });
        step("validate", { state: "succeeded", finishedAt: at() }, valid.output);
        current = "reload";
        step("reload", { state: "running", startedAt: at() });
        const reloaded = await this.fleet.request(host, "lb.reload", { name: params.name });
        step("reload", { state: "succeeded", finishedAt: at() }, reloaded.how === "started" ? `started HAProxy (master pid ${reloaded.pid})` : `reloaded HAProxy (master pid ${reloaded.pid} kept)`);
        await this.store.setApplied(params.name, written.configHash, params);
        const saved = this.specs.get(params.name);
        if (saved) this.specs.set(params.name, { ...saved, appliedHash: written.configHash, applied: params });
        this.scheduleViews();
        this.stored(params.name);
        current = "verify";
        step("verify", { state: "running", startedAt: at() });
        const want = params.servers.map((x) => x.name).sort().join(",");
        let got = "";
        for (let i = 0; i < VERIFY_ATTEMPTS; i++) {
          const stat = await this.fleet.request(host, "lb.stat", { name: params.name });
          got = stat.servers.map((x) => x.name).sort().join(",");
          if (stat.running && got === want) {
            for (const x of stat.servers) step("verify", {}, `${x.name} ${x.address ?? ""}: ${x.status}${x.checkStatus ? ` (${x.checkStatus})` : ""}`);
            step("verify", { state: "succeeded", finishedAt: at() });
            op = { ...op, state: "succeeded", finishedAt: at(), updatedAt: at() };
            this.ops.updateServerSide(op);
            return op;
          }
          await new Promise((r) => setTimeout(r, this.opts.verifyDelayMs ?? 300));
        }
        throw new NimbusError("INTERNAL", `show stat lists ${got || "no servers"}, expected ${want || "none"}`);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        step(current, { state: "failed", finishedAt: at() }, message);
        op = {
          ...op,
          state: "failed",
          error: `${STEPS.find(([id]) => id === current)![1]} failed: ${message}${current === "validate" || current === "write" ? " (the running configuration was not touched)" : ""}`,
          finishedAt: at(),
          updatedAt: at(),
          steps: op.steps.map((x) => (x.state === "pending" ? { ...x, state: "skipped" } : x)),
        };
        this.ops.updateServerSide(op);
        return op;
      }
    })();
    return { op, done };
  }

  /** A swarm change (a node drained, joined, gone) re-applies the service load balancers whose servers moved, once things settle. */
  private onFleet(e: FleetEvent) {
    if (e.type !== "host") return;
    // An edge host's `lb` section or connection, or the swarm (what the servers should be), moves a view.
    if (this.specs.size && (e.changed.includes("lb") || e.changed.includes("connection") || e.changed.includes("swarm"))) this.scheduleViews();
    if (!e.changed.includes("swarm")) return;
    if ([...this.specs.values()].some((s) => s.spec.target.kind === "service")) this.scheduleFollow();
  }

  private scheduleFollow() {
    if (this.followTimer) return;
    this.followTimer = setTimeout(() => {
      this.followTimer = null;
      void this.follow();
    }, this.opts.followDelayMs ?? 1_000);
    this.followTimer.unref?.();
  }

  private async follow() {
    if (this.opts.follows && !this.opts.follows()) return;
    const hosts = this.fleet.hosts();
    for (const s of this.specs.values()) {
      if (s.spec.target.kind !== "service" || !s.applied) continue;
      const view = this.view(s, hosts);
      if (view.status !== "stale") continue;
      if (this.applying.has(s.spec.name)) {
        this.again.add(s.spec.name);
        continue;
      }
      await this.apply(s.spec.name, "nimbus (the swarm changed)").catch((err) => {
        // Being applied through another replica (replica mode): looked at again once that may have ended.
        if (err instanceof NimbusError && err.code === "CONFLICT") return this.scheduleFollow();
        this.opts.log?.(`could not re-apply load balancer ${s.spec.name}`, err);
      });
    }
  }
}
