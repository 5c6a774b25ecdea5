import { describe, expect, it } from "vitest";
import { ScalingPolicy, decideIdleWorker, decideService, idleSince, serviceCpu, unplaceableTasks, type CpuSample, type SwarmNode, type SwarmTask } from "../../src/index.js";
import { hypervisor, node } from "../fixtures.js";

const policy = (over: Partial<ScalingPolicy> = {}) => ScalingPolicy.parse({ service: "web", minReplicas: 2, maxReplicas: 10, cpuTargetPct: 50, windowSeconds: 60, cooldownSeconds: 120, ...over });
const service = (desired: number, running = desired) => ({ name: "web", mode: "replicated" as const, replicasDesired: desired, replicasRunning: running });
const NOW = 1_000_000;
/** One sample every 10 s over the last `seconds`, all at `pct`. */
const samples = (pct: number, seconds = 60): CpuSample[] => Array.from({ length: seconds / 10 }, (_, i) => ({ at: NOW - seconds * 1000 + (i + 1) * 10_000 - 1, pct }));
const decide = (over: Partial<Parameters<typeof decideService>[0]> = {}) =>
  decideService({ policy: policy(), service: service(3), samples: samples(50), unplaceable: 0, now: NOW, lastScaleAt: null, lastWorkerAt: null, workerBusy: false, ...over });

describe("autoscale: a service's replicas", () => {
  it("scales up by the CPU ratio, capped at the maximum", () => {
    expect(decide({ samples: samples(100) })).toMatchObject({ kind: "scale", from: 3, to: 6 });
    expect(decide({ samples: samples(100), service: service(8) })).toMatchObject({ kind: "scale", to: 10, reason: expect.stringContaining("(the maximum)") });
  });

  it("scales down when idle, never below the minimum", () => {
    expect(decide({ samples: samples(10), service: service(6) })).toMatchObject({ kind: "scale", from: 6, to: 2, reason: expect.stringContaining("10 % CPU over 60 s against a target of 50 %") });
  });

  it("holds inside the 10 % dead band, during the cool-down, and without a covered window", () => {
    expect(decide({ samples: samples(54) })).toBeNull();
    expect(decide({ samples: samples(100), lastScaleAt: NOW - 60_000 })).toBeNull();
    expect(decide({ samples: samples(100), lastScaleAt: NOW - 121_000 })).toMatchObject({ kind: "scale" });
    expect(decide({ samples: samples(100).slice(-1) })).toBeNull();
    expect(decide({ samples: samples(100, 20) })).toBeNull();
    // Samples older than the window are not counted.
    expect(decide({ samples: samples(100).map((s) => ({ ...s, at: s.at - 120_000 })) })).toBeNull();
  });

  it("brings the replicas back inside the bounds whatever the load, even while cooling down", () => {
    expect(decide({ service: service(1), samples: [], lastScaleAt: NOW })).toMatchObject({ kind: "scale", to: 2, reason: expect.stringContaining("below the policy's minimum") });
    expect(decide({ service: service(12), samples: [], lastScaleAt: NOW })).toMatchObject({ kind: "scale", to: 10 });
  });

  it("leaves global services and disabled policies alone", () => {
    expect(decide({ service: { ...service(3), mode: "global" }, samples: samples(100) })).toBeNull();
    expect(decide({ policy: policy({ enabled: false }), samples: samples(100) })).toBeNull();
  });

  it("asks for a worker when tasks cannot be placed: a suggestion, or the add itself with consent; not while one runs or cools down", () => {
    expect(decide({ unplaceable: 2, samples: samples(100) })).toMatchObject({ kind: "add-worker", perform: false, reason: "2 tasks of web cannot be placed: no node has room" });
    expect(decide({ unplaceable: 1, policy: policy({ addWorkers: "perform" }) })).toMatchObject({ kind: "add-worker", perform: true });
    expect(decide({ unplaceable: 1, policy: policy({ addWorkers: "off" }) })).toBeNull();
    expect(decide({ unplaceable: 1, workerBusy: true })).toBeNull();
    expect(decide({ unplaceable: 1, lastWorkerAt: NOW - 10_000 })).toBeNull();
  });

  it("counts only pending tasks that lack room as unplaceable", () => {
    const t = (state: string, error: string | null): SwarmTask => ({ id: state + error, serviceId: "s", serviceName: "web", slot: 1, node: null, desiredState: "running", state, error });
    expect(unplaceableTasks([t("pending", "no suitable node (insufficient resources on 3 nodes)"), t("pending", null), t("running", null)], "web")).toHaveLength(1);
  });
});

const swarmNode = (hostname: string, over: Partial<SwarmNode> = {}): SwarmNode => ({ id: hostname, hostname, role: "worker", availability: "active", status: "ready", leader: false, engineVersion: null, address: null, ...over });

describe("autoscale: idle workers", () => {
  const nodes = [swarmNode("manager", { role: "manager" }), swarmNode("worker1"), swarmNode("worker2"), swarmNode("worker3")];
  const busy: SwarmTask[] = [{ id: "t", serviceId: "s", serviceName: "web", slot: 1, node: "worker1", desiredState: "running", state: "running", error: null }];

  it("tracks since when each worker ran nothing, keeping the first moment", () => {
    const first = idleSince(new Map(), nodes, busy, 100);
    expect([...first.entries()]).toEqual([["worker2", 100], ["worker3", 100]]);
    expect([...idleSince(first, nodes, [...busy, { ...busy[0]!, node: "worker2" }], 200).entries()]).toEqual([["worker3", 100]]);
  });

  it("removes the longest idle worker after the idle time, only with consent, keeping one worker", () => {
    const consent = [policy({ removeIdleWorkers: true, idleMinutes: 10 })];
    const idle = new Map([["worker2", 0], ["worker3", 60_000]]);
    expect(decideIdleWorker({ policies: consent, nodes, idle, now: 11 * 60_000, workerBusy: false, unplaceable: 0 })).toMatchObject({ kind: "remove-worker", node: "worker2", reason: expect.stringContaining("ran no task for 11 min") });
    expect(decideIdleWorker({ policies: consent, nodes, idle, now: 9 * 60_000, workerBusy: false, unplaceable: 0 })).toBeNull();
    expect(decideIdleWorker({ policies: [policy()], nodes, idle, now: 60 * 60_000, workerBusy: false, unplaceable: 0 })).toBeNull();
    expect(decideIdleWorker({ policies: consent, nodes, idle, now: 60 * 60_000, workerBusy: true, unplaceable: 0 })).toBeNull();
    expect(decideIdleWorker({ policies: consent, nodes, idle, now: 60 * 60_000, workerBusy: false, unplaceable: 1 })).toBeNull();
    expect(decideIdleWorker({ policies: consent, nodes: [nodes[0]!, nodes[2]!], idle, now: 60 * 60_000, workerBusy: false, unplaceable: 0 })).toBeNull();
  });
});

describe("autoscale: a service's CPU", () => {
  it("is the mean CPU of the online nodes running its tasks; null without any", () => {
    const h = (name: string, cpu: number) => hypervisor(name, [], { inventory: { ...hypervisor(name).inventory, node: node({ hostname: name, cpuUsagePct: cpu }) } });
    const tasks: SwarmTask[] = ["worker1", "worker2"].map((n) => ({ id: n, serviceId: "s", serviceName: "web", slot: 1, node: n, desiredState: "running", state: "running", error: null }));
    expect(serviceCpu([h("worker1", 80), h("worker2", 40), h("worker3", 0)], tasks, "web")).toBe(60);
    expect(serviceCpu([h("worker3", 0)], tasks, "web")).toBeNull();
  });
});
