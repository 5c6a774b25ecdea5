import { AgentError, conflict, notFound, type JobContext } from "@nimbus/agent";
import { AgentErrorCode, observe, type ScaleParams, type ScaleProgress } from "@nimbus/domain";
import { randomDockerId } from "./ids.js";
import type { ServiceState, SwarmNodeState, SwarmState, TaskState } from "./model.js";
import { TASK_HISTORY_PER_SERVICE, isLiveTask } from "./sections/swarm.js";
import { TASK_HYSTERESIS, TIMINGS } from "./timings.js";
import { nodeHasImage, noSuchImage } from "./swarm-stacks.js";
import { notePending, processJoins, vmNodeAlive, withRoom } from "./swarm-nodes.js";
import type { World } from "./world.js";

const UNHEALTHY = "task: non-zero exit (137): dockerexec: unhealthy container";

/**
 * The swarm manager's behaviour in time: heartbeats mark silent nodes down, their tasks move
 * elsewhere after a delay, health probes (rise/fall) flip tasks, and the scheduler converges
 * each service one task at a time. Runs on a fixed tick; nothing happens while the manager is down.
 */
export class SwarmSim {
  private readonly sw: SwarmState;
  private managerWasAlive = true;
  private readonly stopTicker: () => void;

  /** `placeTasks: false` for a swarm whose tasks are already placed (one restored by swarm-lifecycle.ts). */
  constructor(
    private readonly world: World,
    opts: { placeTasks?: boolean } = {},
  ) {
    if (!world.swarm) throw new Error("this scenario has no swarm");
    this.sw = world.swarm;
    if (opts.placeTasks ?? true) this.placeInitialTasks();
    this.stopTicker = world.clock.every(TIMINGS.swarmTickMs, () => this.tick());
    world.addTicker(this.stopTicker);
  }

  /** The swarm is gone (torn down, or replaced): its scheduler stops. */
  stop(): void {
    this.stopTicker();
  }

  get manager(): SwarmNodeState {
    return [...this.sw.nodes.values()].find((n) => n.role === "manager")!;
  }

  managerAlive(): boolean {
    return this.nodeAlive(this.manager);
  }

  nodeAlive(n: SwarmNodeState): boolean {
    // A worker built by add-worker is a created VM, not a lab host with an endpoint.
    return n.engineUp && (this.world.isLabHost(n.hostname) ? this.world.isPoweredOn(n.hostname) : vmNodeAlive(this.world, n));
  }

  liveTasks(service: string): TaskState[] {
    return this.sw.tasks.filter((t) => t.service === service && isLiveTask(this.sw, t));
  }

  /** Tasks meant to run (starting or running), wherever they are. */
  activeTasks(service: string): TaskState[] {
    return this.sw.tasks.filter((t) => t.service === service && t.desiredState === "running" && (t.state === "starting" || t.state === "running"));
  }

  eligibleNodes(): SwarmNodeState[] {
    return [...this.sw.nodes.values()].filter((n) => n.status === "ready" && n.availability === "active" && this.nodeAlive(n));
  }

  node(ref: string): SwarmNodeState {
    const n = this.sw.nodes.get(ref) ?? [...this.sw.nodes.values()].find((x) => x.id === ref);
    if (!n) throw notFound(`swarm node ${ref}`);
    return n;
  }

  service(name: string): ServiceState {
    const s = this.sw.services.get(name);
    if (!s) throw notFound(`service ${name}`);
    return s;
  }

  requireManager(): void {
    if (!this.managerAlive())
      throw new AgentError(AgentErrorCode.toolFailed, `swarm manager ${this.manager.hostname} is down: the swarm does not have a leader`);
  }

  setAvailability(ref: string, availability: SwarmNodeState["availability"]): void {
    this.requireManager();
    const n = this.node(ref);
    if (n.availability === availability) return;
    n.availability = availability;
    this.changed([n.hostname]);
  }

  /** Sets the replica count and waits until the service runs exactly that many, reporting each step. */
  scale({ service, replicas }: ScaleParams, ctx: JobContext<ScaleProgress>): Promise<void> {
    this.requireManager();
    const svc = this.service(service);
    if (svc.spec.mode === "global") throw conflict(`${service} is a global service: it runs one task per node and cannot be scaled`);
    svc.desired = replicas;
    svc.updatedAt = new Date().toISOString();
    this.changed([]);
    return new Promise((resolve, reject) => {
      let lastRunning = -1;
      const finish = (err?: Error) => {
        unwatch();
        ctx.signal.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve();
      };
      const check = () => {
        const running = this.liveTasks(service).length;
        if (running !== lastRunning) ctx.report({ kind: "scale", service, desired: svc.desired, running });
        lastRunning = running;
        const active = this.activeTasks(service).length;
        if (running === svc.desired && active === svc.desired) return finish();
        if (!this.managerAlive()) return finish(new Error(`scaling ${service} stopped at ${running}/${svc.desired}: swarm manager ${this.manager.hostname} went down`));
        if (active < svc.desired && this.eligibleNodes().length === 0)
          return finish(new Error(`cannot scale ${service} to ${svc.desired}: no swarm node is ready and active (${running} running)`));
      };
      const onAbort = () => {
        // Cancel means "stop here": keep what runs, stop what is still starting.
        const running = this.liveTasks(service).length;
        svc.desired = running;
        this.changed([]);
        finish(new Error(`scaling ${service} cancelled at ${running} replicas; desired replicas set to ${running}`));
      };
      const unwatch = this.world.watch(this.manager.hostname, "swarm", check);
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      check();
    });
  }

  tick(): void {
    // First boots that just finished run their join, against a manager that may be down.
    processJoins(this.world, this);
    const alive = this.managerAlive();
    if (!alive) {
      if (this.managerWasAlive) this.changed([]);
      this.managerWasAlive = false;
      return;
    }
    this.managerWasAlive = true;
    const now = this.world.clock.now();
    const at = new Date().toISOString();
    const touched = new Set<string>();
    let changed = false;
    const mark = (node?: string) => {
      changed = true;
      if (node) touched.add(node);
    };

    for (const n of this.sw.nodes.values()) {
      if (this.nodeAlive(n)) {
        n.silentSince = null;
        if (n.status === "down") {
          n.status = "ready";
          mark(n.hostname);
        }
      } else {
        n.silentSince ??= now;
        if (n.status === "ready" && now - n.silentSince >= TIMINGS.heartbeatTimeoutMs) {
          n.status = "down";
          mark(n.hostname);
        }
      }
    }

    for (const t of this.sw.tasks) {
      const n = this.sw.nodes.get(t.node)!;
      if (t.desiredState !== "running") continue;
      if (n.status === "down" && n.silentSince !== null && now - n.silentSince >= TIMINGS.heartbeatTimeoutMs + TIMINGS.rescheduleDelayMs) {
        t.desiredState = "shutdown";
        t.state = "orphaned";
        mark(t.node);
        continue;
      }
      if (!this.nodeAlive(n) || now < t.probesFrom) continue;
      const svc = this.sw.services.get(t.service)!;
      const before = t.probe.up;
      t.probe = observe(t.probe, !svc.healthFault, at, TASK_HYSTERESIS);
      if (t.probe.up === before) continue;
      if (t.state === "starting" && t.probe.up) t.state = "running";
      else if (t.state === "running" && !t.probe.up) {
        t.state = "failed";
        t.desiredState = "shutdown";
        t.error = UNHEALTHY;
      }
      mark(t.node);
    }

    for (const svc of this.sw.services.values()) {
      if (now < svc.nextStepAt) continue;
      const acted = this.step(svc, now, at);
      if (acted) {
        svc.nextStepAt = now + TIMINGS.scaleStepMs;
        mark(acted);
      }
    }

    if (changed) {
      this.pruneHistory();
      this.changed([...touched]);
    }
  }

  /** One scheduler action for a service; returns the node it touched, if any. */
  private step(svc: ServiceState, now: number, at: string): string | null {
    const name = svc.spec.name;
    const active = this.activeTasks(name);
    const ready = this.eligibleNodes();
    const eligible = withRoom(this.world, ready);
    if (svc.spec.mode === "replicated") notePending(this.world, this.manager.hostname, name, svc.desired - active.length, eligible.length, ready.length);
    const drained = active.find((t) => this.sw.nodes.get(t.node)!.availability === "drain");
    if (drained) return this.stopTask(drained);
    if (svc.spec.mode === "global") {
      const missing = eligible.find((n) => !active.some((t) => t.node === n.hostname));
      return missing ? this.startTask(svc, missing, null, now, at) : null;
    }
    if (active.length > svc.desired) {
      const victim = [...active].sort((a, b) => Number(a.state === "running") - Number(b.state === "running") || (b.slot ?? 0) - (a.slot ?? 0))[0]!;
      return this.stopTask(victim);
    }
    if (active.length < svc.desired && !active.some((t) => t.state === "starting") && eligible.length) {
      const load = (n: SwarmNodeState) => active.filter((t) => t.node === n.hostname).length;
      const total = (n: SwarmNodeState) => this.sw.tasks.filter((t) => t.node === n.hostname && t.desiredState === "running").length;
      const target = [...eligible].sort((a, b) => load(a) - load(b) || total(a) - total(b) || a.hostname.localeCompare(b.hostname))[0]!;
      const used = new Set(active.map((t) => t.slot));
      let slot = 1;
      while (used.has(slot)) slot++;
      return this.startTask(svc, target, slot, now, at);
    }
    return null;
  }

  private startTask(svc: ServiceState, node: SwarmNodeState, slot: number | null, now: number, at: string): string {
    // Swarm rejects a task whose image the node does not have (no registry to pull from); it tries again.
    if (!nodeHasImage(this.sw, node.hostname, svc.spec.image)) {
      const failed = { desiredState: "shutdown" as const, state: "failed" as const, error: noSuchImage(svc.spec.image) };
      this.sw.tasks.push({ id: randomDockerId(), service: svc.spec.name, slot, node: node.hostname, ...failed, probe: { up: false, streak: 0, since: at }, probesFrom: now, createdAt: now });
      return node.hostname;
    }
    this.sw.tasks.push({
      id: randomDockerId(),
      service: svc.spec.name,
      slot,
      node: node.hostname,
      desiredState: "running",
      state: "starting",
      error: null,
      probe: { up: false, streak: 0, since: at },
      probesFrom: now + TIMINGS.taskStartMs,
      createdAt: now,
    });
    return node.hostname;
  }

  private stopTask(t: TaskState): string {
    t.desiredState = "shutdown";
    t.state = "shutdown";
    return t.node;
  }

  private placeInitialTasks(): void {
    const at = new Date().toISOString();
    const nodes = [...this.sw.nodes.values()].filter((n) => this.nodeAlive(n)).sort((a, b) => a.hostname.localeCompare(b.hostname));
    if (!nodes.length) return;
    let offset = 0;
    const running = (service: string, slot: number | null, node: string): TaskState => ({
      id: randomDockerId(),
      service,
      slot,
      node,
      desiredState: "running",
      state: "running",
      error: null,
      probe: { up: true, streak: 0, since: at },
      probesFrom: 0,
      createdAt: 0,
    });
    for (const svc of this.sw.services.values()) {
      if (svc.spec.mode === "global") for (const n of nodes) this.sw.tasks.push(running(svc.spec.name, null, n.hostname));
      else for (let slot = 1; slot <= svc.desired; slot++) this.sw.tasks.push(running(svc.spec.name, slot, nodes[offset++ % nodes.length]!.hostname));
    }
  }

  private pruneHistory(): void {
    const finished = new Map<string, number>();
    for (let i = this.sw.tasks.length - 1; i >= 0; i--) {
      const t = this.sw.tasks[i]!;
      if (t.desiredState === "running") continue;
      const n = (finished.get(t.service) ?? 0) + 1;
      finished.set(t.service, n);
      if (n > TASK_HISTORY_PER_SERVICE) this.sw.tasks.splice(i, 1);
    }
  }

  /** The manager's section changed; so did the node facts (task memory) of the nodes touched. */
  private changed(nodes: string[]): void {
    this.world.changed(this.manager.hostname, "swarm");
    for (const n of nodes) this.world.changed(n, "node");
  }
}
