import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { HostRecord, Operation, ScalingPolicy, SwarmSection, SwarmTask } from "@nimbus/domain";
import type { FleetView } from "@nimbus/fleet";
import type { AuditEntry } from "../src/deps.js";
import { Autoscaler, type PolicyStore } from "../src/services/autoscale.js";
import { hypervisor, node } from "../../domain/test/fixtures.js";

/**
 * The autoscaler's driver with fake timers: samples are taken from the (fake) pushed inventory on
 * each tick, decisions are carried out through the operations a user would start, and each is
 * audited as the autoscaler with its reason.
 */
const task = (nodeName: string | null, state = "running", error: string | null = null, slot = 1): SwarmTask => ({ id: `${nodeName}-${state}-${slot}`, serviceId: "s-web", serviceName: "web", slot, node: nodeName, desiredState: "running", state, error });

function world() {
  let cpu = 50;
  let tasks: SwarmTask[] = [task("docker1"), task("docker2", "running", null, 2)];
  let desired = 2;
  const swarm = (): SwarmSection => ({
    nodeId: "n-mgr",
    role: "manager",
    clusterId: "c",
    nodes: ["mgr", "docker1", "docker2", "docker3"].map((h, i) => ({ id: `n-${h}`, hostname: h, role: i === 0 ? "manager" : "worker", availability: "active", status: "ready", leader: i === 0, engineVersion: null, address: `10.0.0.${i + 10}` })),
    services: [{ id: "s-web", name: "web", mode: "replicated", replicasDesired: desired, replicasRunning: tasks.filter((t) => t.state === "running").length, image: "nginx", ports: [], tenant: null, stack: null, updatedAt: null }],
    tasks,
  });
  const host = (name: string, sw: SwarmSection | null): HostRecord => ({ ...hypervisor(name), inventory: { ...hypervisor(name).inventory, virt: null, node: node({ hostname: name, cpuUsagePct: cpu }), swarm: sw } });
  const fleet = { hosts: () => [host("mgr", swarm()), host("docker1", null), host("docker2", null)], host: () => undefined } as unknown as FleetView;
  const started: { kind: string; args: unknown }[] = [];
  const op = (kind: Operation["kind"], name: string): Operation => ({ id: `op-${started.length}`, kind, state: "running", target: { type: "service", name }, host: "mgr", tenant: null, requestedBy: "autoscaler", summary: "", params: {}, progress: null, steps: [], error: null, createdAt: "", updatedAt: "", finishedAt: null });
  const operations = {
    startScale: async (req: { service: string; replicas: number }) => {
      started.push({ kind: "scale", args: req });
      desired = req.replicas;
      return op("scale", req.service);
    },
    running: () => [] as Operation[],
    swarmNodes: {
      addWorker: async (req: { name: string }) => (started.push({ kind: "add-worker", args: req }), op("swarm-add-worker", req.name)),
      removeWorker: async (n: string) => (started.push({ kind: "remove-worker", args: n }), op("swarm-remove-worker", n)),
      planWorker: () => ({ placement: { chosen: null, reason: "", candidates: [] }, network: null, problem: null }),
      createSwarm: async () => op("swarm-create", "x"),
      removeProblem: () => null,
    },
  };
  const audit: AuditEntry[] = [];
  let stored: (ScalingPolicy & { updatedBy: string; updatedAt: string })[] = [];
  const policies: PolicyStore = {
    list: async () => stored,
    set: async (p, by) => ((stored = [...stored.filter((x) => x.service !== p.service), { ...p, updatedBy: by, updatedAt: "" }]), p),
    remove: async (s) => stored.length !== (stored = stored.filter((x) => x.service !== s)).length,
  };
  const scaler = new Autoscaler({ fleet, operations, audit: { append: async (e) => void audit.push(e), query: async () => ({ records: [], nextCursor: null, total: 0 }), exportCsv: async function* () {} }, policies }, { tickMs: 5_000 });
  return {
    scaler,
    started,
    audit,
    setCpu: (v: number) => (cpu = v),
    setTasks: (t: SwarmTask[]) => (tasks = t),
  };
}

const policy = (over: Partial<ScalingPolicy> = {}): ScalingPolicy => ({ service: "web", enabled: true, minReplicas: 1, maxReplicas: 8, cpuTargetPct: 50, windowSeconds: 60, cooldownSeconds: 120, addWorkers: "suggest", removeIdleWorkers: false, idleMinutes: 10, ...over });
/** Lets the interval's async pass finish. */
const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

describe("Autoscaler", () => {
  it("scales up once the window shows CPU over the target, then waits out the cool-down", async () => {
    const w = world();
    await w.scaler.setPolicy(policy(), "Ada");
    await w.scaler.start();
    w.setCpu(100);
    for (let i = 0; i < 6; i++) {
      await vi.advanceTimersByTimeAsync(5_000);
      await flush();
    }
    expect(w.started).toEqual([]); // half the window is not covered yet at 25 s
    for (let i = 0; i < 2; i++) await vi.advanceTimersByTimeAsync(5_000);
    await flush();
    expect(w.started).toEqual([{ kind: "scale", args: { service: "web", replicas: 4 } }]);
    expect(w.audit.at(-1)).toMatchObject({ userName: "autoscaler", action: "autoscale.scale", target: "web", result: "ok", input: { reason: expect.stringContaining("2 -> 4 replicas: 100 % CPU over 60 s against a target of 50 %") } });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(w.started).toHaveLength(1);
    w.scaler.stop();
  });

  it("tasks that cannot be placed: one suggestion (not one per tick), shown until accepted; with consent the worker is added", async () => {
    const w = world();
    await w.scaler.setPolicy(policy(), "Ada");
    w.setTasks([task("docker1"), task(null, "pending", "no suitable node (insufficient resources on 3 nodes)", 2)]);
    await w.scaler.tick();
    await w.scaler.tick();
    expect(w.scaler.view().suggestions).toEqual([{ service: "web", reason: "1 task of web cannot be placed: no node has room", since: expect.any(String) }]);
    expect(w.audit.filter((a) => a.action === "autoscale.suggest-add-worker")).toHaveLength(1);
    expect(w.started).toEqual([]);
    const op = await w.scaler.acceptSuggestion("web", "Ada Admin");
    expect(op.kind).toBe("swarm-add-worker");
    expect(w.started).toEqual([{ kind: "add-worker", args: expect.objectContaining({ name: "worker1" }) }]);
    expect(w.scaler.view().suggestions).toEqual([]);
    await expect(w.scaler.acceptSuggestion("web", "Ada Admin")).rejects.toMatchObject({ code: "NOT_FOUND" });

    const consent = world();
    await consent.scaler.setPolicy(policy({ addWorkers: "perform" }), "Ada");
    consent.setTasks([task("docker1"), task(null, "pending", "no suitable node (insufficient resources on 3 nodes)", 2)]);
    await consent.scaler.tick();
    expect(consent.started).toEqual([{ kind: "add-worker", args: expect.objectContaining({ name: "worker1" }) }]);
    expect(consent.audit.at(-1)).toMatchObject({ action: "autoscale.add-worker", result: "ok" });
  });

  it("removes a worker idle past the idle time only with consent, keeping the others", async () => {
    const w = world();
    await w.scaler.setPolicy(policy({ removeIdleWorkers: true, idleMinutes: 5 }), "Ada");
    await w.scaler.start();
    await vi.advanceTimersByTimeAsync(4 * 60_000);
    expect(w.started.filter((s) => s.kind === "remove-worker")).toEqual([]);
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    await flush();
    expect(w.started.filter((s) => s.kind === "remove-worker")).toEqual([{ kind: "remove-worker", args: "docker3" }]);
    expect(w.audit.find((a) => a.action === "autoscale.remove-worker")).toMatchObject({ target: "docker3", input: { reason: expect.stringContaining("docker3 ran no task for 5 min") } });
    w.scaler.stop();

    const noConsent = world();
    await noConsent.scaler.setPolicy(policy(), "Ada");
    await noConsent.scaler.start();
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(noConsent.started.filter((s) => s.kind === "remove-worker")).toEqual([]);
    noConsent.scaler.stop();
  });

  it("a failed action is recorded and audited as an error, with the reason", async () => {
    const w = world();
    await w.scaler.setPolicy(policy({ minReplicas: 3 }), "Ada");
    (w.scaler as unknown as { deps: { operations: { startScale: () => Promise<never> } } }).deps.operations.startScale = async () => {
      throw Object.assign(new Error("cannot scale web: no swarm manager is online"), { code: "PRECONDITION_FAILED" });
    };
    await w.scaler.tick();
    expect(w.scaler.view().decisions[0]).toMatchObject({ kind: "scale", outcome: "failed", error: "cannot scale web: no swarm manager is online" });
    expect(w.audit.at(-1)).toMatchObject({ action: "autoscale.scale", result: "error" });
  });
});

describe("Autoscaler in replica mode (the leader's state shared, a suggestion accepted anywhere)", () => {
  it("the leader's suggestion and decision reach a follower as state; the follower forwards an accept to the leader, which adds the worker once", async () => {
    const leader = world();
    const follower = world();
    await leader.scaler.setPolicy(policy(), "Ada");
    await follower.scaler.setPolicy(policy(), "Ada");
    let told = 0;
    leader.scaler.onStateChange(() => told++);
    leader.setTasks([task("docker1"), task(null, "pending", "no suitable node (insufficient resources on 3 nodes)", 2)]);
    await leader.scaler.tick();
    await leader.scaler.tick();
    await flush();
    // One message for the burst (suggestion + decision), none for the tick that changed nothing.
    expect(told).toBe(1);
    // Through JSON, as the bus carries it.
    expect(follower.scaler.adoptState(JSON.parse(JSON.stringify(leader.scaler.sharedState())))).toBe(true);
    expect(follower.scaler.view().suggestions).toEqual(leader.scaler.view().suggestions);
    expect(follower.scaler.view().decisions).toEqual([expect.objectContaining({ kind: "suggest-add-worker", subject: "web", outcome: "suggested" })]);
    const sent: [string, string][] = [];
    follower.scaler.leader = { isLeader: () => false, accept: (service, by) => (sent.push([service, by]), leader.scaler.acceptHere(service, by)) };
    leader.scaler.leader = { isLeader: () => true, accept: async () => expect.fail("the leader accepts here") };
    const op = await follower.scaler.acceptSuggestion("web", "Ada Admin");
    expect(op.kind).toBe("swarm-add-worker");
    expect(sent).toEqual([["web", "Ada Admin"]]);
    expect(follower.started).toEqual([]);
    expect(leader.started).toEqual([{ kind: "add-worker", args: expect.objectContaining({ name: "worker1" }) }]);
    await flush();
    expect(told).toBe(2);
    follower.scaler.adoptState(leader.scaler.sharedState());
    expect(follower.scaler.view().suggestions).toEqual([]);
  });

  it("hostile or malformed state is refused and changes nothing; a policy removed elsewhere takes its suggestion on reload", async () => {
    const w = world();
    await w.scaler.setPolicy(policy(), "Ada");
    w.setTasks([task("docker1"), task(null, "pending", "no suitable node (insufficient resources on 3 nodes)", 2)]);
    await w.scaler.tick();
    const before = w.scaler.view();
    const event = before.decisions[0]!;
    for (const bad of [null, "x", { suggestions: [] }, { suggestions: [{ service: "x".repeat(201), reason: "", since: "" }], decisions: [] }, { suggestions: [], decisions: Array.from({ length: 101 }, () => event) }, { suggestions: [], decisions: [{ ...event, reason: "r".repeat(1_001) }] }])
      expect(w.scaler.adoptState(bad)).toBe(false);
    expect(w.scaler.view()).toEqual(before);
    // The shared policy store now lacks "web" (another replica removed it): the suggestion goes on reload.
    (w.scaler as unknown as { deps: { policies: PolicyStore } }).deps.policies = { list: async () => [], set: async (p) => p, remove: async () => true };
    let told = 0;
    w.scaler.onStateChange(() => told++);
    await w.scaler.reload();
    await flush();
    expect(w.scaler.view().suggestions).toEqual([]);
    expect(told).toBe(1);
  });
});
