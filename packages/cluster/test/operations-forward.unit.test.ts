import { NimbusError, OperationKind, type Operation } from "@nimbus/domain";
import type { OperationManager } from "@nimbus/fleet";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { FakeFleet, hypervisor, manager, vm } from "../../fleet/test/helpers/fake-fleet.js";
import type { BusMessage } from "../src/bus.js";
import { ClusterOperations, OPERATION_ROUTES, operationHost } from "../src/operations-forward.js";

/**
 * ClusterOperations without processes: which host an operation runs on, a start sent to the
 * host's owner (or run here), a host that moved meanwhile, the owner's own check, and the
 * cluster-wide view kept from the bus.
 */
const op = (id: string, extra: Partial<Operation> = {}): Operation => ({
  id, kind: "migrate", state: "running", target: { type: "instance", name: "web-1" }, host: "kvm1", tenant: null,
  requestedBy: "alice", summary: "Migrate web-1", params: { source: "kvm1", destination: "kvm2" },
  progress: null, steps: [], error: null, createdAt: "2025-01-01T00:00:00.000Z", updatedAt: "2025-01-01T00:00:00.000Z", finishedAt: null, ...extra,
});

function setup(opts: { owns?: string[]; owner?: (host: string) => string | undefined } = {}) {
  const fleet = new FakeFleet();
  fleet.put(hypervisor("kvm1", [vm("web-1")]));
  fleet.put(hypervisor("kvm2"));
  const mgr = manager("mgr", []);
  const sw = mgr.inventory.swarm!;
  // A worker whose VM runs on kvm1 (a removal runs where its VM is), and a plain node with no VM of ours.
  fleet.put({ ...mgr, inventory: { ...mgr.inventory, swarm: { ...sw, nodes: [...sw.nodes, { ...sw.nodes[0]!, id: "n-w1", hostname: "web-1", role: "worker", leader: false }, { ...sw.nodes[0]!, id: "n-x", hostname: "bare", role: "worker", leader: false }] } } });
  const localCalls: { method: string; args: unknown[] }[] = [];
  const localRunning: Operation[] = [];
  const swarmNodes = new Proxy(
    { planWorker: (req: { name: string }) => ({ placement: { chosen: req.name === "nowhere" ? null : { host: "kvm2" }, reason: "", candidates: [] }, network: null, problem: null }), removeProblem: () => null } as Record<string, unknown>,
    { get: (target, name: string) => (name in target ? target[name] : async (...args: unknown[]) => (localCalls.push({ method: `swarmNodes.${name}`, args }), op("local-node-op"))) },
  );
  const local = new Proxy(
    {
      swarmNodes,
      running: () => localRunning,
      subscribe: () => () => {},
      get: async () => null,
      list: async () => [],
      cancel: async (id: string) => void localCalls.push({ method: "cancel", args: [id] }),
    } as Record<string, unknown>,
    {
      get: (target, name: string) =>
        name in target ? target[name] : async (...args: unknown[]) => (localCalls.push({ method: name, args }), op("local-op")),
    },
  ) as unknown as OperationManager;
  const handlers = new Map<string, { schema: z.ZodType; handler: (input: unknown) => Promise<unknown> }>();
  const rpcCalls: { url: string; name: string; input: unknown }[] = [];
  let rpcAnswer: (url: string, name: string, input: unknown) => Promise<unknown> = async () => op("remote-op", { host: "kvm1" });
  const busListeners: ((m: BusMessage) => void)[] = [];
  const published: { kind: string; payload: unknown }[] = [];
  const owned = new Set(opts.owns ?? []);
  const ops = new ClusterOperations({
    replicaId: "r1",
    local,
    fleet,
    leases: {
      owns: (h: string) => owned.has(h),
      waitForOwner: async (h: string) => opts.owner?.(h) ?? "r2",
      directory: { url: (id: string) => `http://${id}.internal` } as never,
    },
    rpc: {
      register: (name: string, schema: z.ZodType, handler: (input: unknown) => Promise<unknown>) => void handlers.set(name, { schema, handler }),
      call: async (url: string, name: string, input: unknown) => (rpcCalls.push({ url, name, input }), rpcAnswer(url, name, input)),
    } as never,
    bus: {
      publish: async (kind: string, payload: unknown) => void published.push({ kind, payload }),
      subscribe: (l: (m: BusMessage) => void) => (busListeners.push(l), () => {}),
      onResync: () => () => {},
    },
    store: { listUnfinished: async () => [] },
  });
  return {
    ops, fleet, localCalls, localRunning, rpcCalls, handlers, published, owned,
    answer: (f: typeof rpcAnswer) => (rpcAnswer = f),
    bus: (m: BusMessage) => busListeners.forEach((l) => l(m)),
  };
}

describe("operationHost", () => {
  it("names the host each start runs on", () => {
    const fleet = new FakeFleet();
    fleet.put(hypervisor("kvm1", [vm("web-1")]));
    fleet.put(manager("mgr", []));
    const hosts = fleet.hosts();
    expect(operationHost("startMigration", [{ instance: "web-1", destination: "kvm2" }, "alice"], hosts)).toBe("kvm1");
    expect(operationHost("startStorageMove", [{ instance: "web-1" }, "alice"], hosts)).toBe("kvm1");
    expect(operationHost("startDelete", ["web-1", "alice"], hosts)).toBe("kvm1");
    expect(operationHost("startCreate", ["kvm2", {}, "alice"], hosts)).toBe("kvm2");
    expect(operationHost("startImageImport", ["nfs1", {}, "alice"], hosts)).toBe("nfs1");
    expect(operationHost("startMaintenance", [{ host: "kvm1" }, "alice"], hosts)).toBe("kvm1");
    expect(operationHost("startScale", [{ service: "web", replicas: 2 }, "alice"], hosts)).toBe("mgr");
    // Unknown: decided (and refused) by the local manager.
    expect(operationHost("startMigration", [{ instance: "nope" }, "alice"], hosts)).toBeNull();
  });
});

/** A start of each StartMethod whose host the fake fleet knows (kvm1: web-1's host; mgr: the swarm manager). */
const SAMPLE_STARTS: Record<string, { args: unknown[]; host: string }> = {
  startMigration: { args: [{ instance: "web-1", destination: "kvm2" }, "alice"], host: "kvm1" },
  startStorageMove: { args: [{ instance: "web-1", disk: "vda", datastore: "/instance2" }, "alice"], host: "kvm1" },
  startCreate: { args: ["kvm2", { name: "new-1" }, "alice"], host: "kvm2" },
  startDelete: { args: ["web-1", "alice"], host: "kvm1" },
  startScale: { args: [{ service: "web", replicas: 2 }, "alice"], host: "mgr" },
  startStackDeploy: { args: [{ stack: "shop" }, "alice"], host: "mgr" },
  startStackRemove: { args: ["shop", null, [], "alice"], host: "mgr" },
  startServiceUpdate: { args: [{ service: "web", image: null }, "alice"], host: "mgr" },
  startImageBuild: { args: ["kvm2", {}, "alice"], host: "kvm2" },
  startImageImport: { args: ["kvm2", {}, "alice"], host: "kvm2" },
  startMaintenance: { args: [{ host: "kvm2" }, "alice"], host: "kvm2" },
  addWorker: { args: [{ name: "w9" }, "alice"], host: "kvm2" },
  createSwarm: { args: [{ name: "m9" }, "alice"], host: "kvm2" },
  removeWorker: { args: ["web-1", "alice"], host: "kvm1" },
};

describe("every operation kind reaches the owner of its host, or says why it need not", () => {
  it("has a route for each kind the domain declares", () => {
    expect(Object.keys(OPERATION_ROUTES).sort()).toEqual([...OperationKind.options].sort());
    for (const [kind, route] of Object.entries(OPERATION_ROUTES)) if (route.via === "local") expect(route.why.length, kind).toBeGreaterThan(20);
  });

  for (const [kind, route] of Object.entries(OPERATION_ROUTES)) {
    if (route.via === "local") continue;
    it(`${kind}: ${route.method} sent to the owner of its host when another replica holds it, run here when this one does`, async () => {
      const sample = SAMPLE_STARTS[route.method]!;
      const remote = setup();
      await remote.ops.start();
      const call = (t: ReturnType<typeof setup>) =>
        route.via === "start"
          ? (t.ops[route.method] as (...a: unknown[]) => Promise<Operation>)(...sample.args)
          : (t.ops.swarmNodes[route.method] as (...a: unknown[]) => Promise<Operation>)(...sample.args);
      await call(remote);
      expect(remote.localCalls).toEqual([]);
      expect(remote.rpcCalls).toEqual([{ url: "http://r2.internal", name: route.via === "start" ? "operations.start" : "operations.startNode", input: { method: route.method, host: sample.host, args: sample.args } }]);
      // The forwarded operation counts here at once (quotas, busy checks), before the bus brings it.
      expect(remote.ops.running().map((o) => o.id)).toEqual(["remote-op"]);

      const here = setup({ owns: [sample.host] });
      await here.ops.start();
      await call(here);
      expect(here.rpcCalls).toEqual([]);
      expect(here.localCalls.map((c) => c.method)).toEqual([route.via === "start" ? route.method : `swarmNodes.${route.method}`]);
    });
  }

  it("as the owner, runs a forwarded swarm node start only for a host it holds; a plan that places nothing is refused here, by the runner", async () => {
    const t = setup();
    await t.ops.start();
    const startNode = t.handlers.get("operations.startNode")!;
    const input = startNode.schema.parse({ method: "addWorker", host: "kvm2", args: [{ name: "w9" }, "alice"] });
    await expect(startNode.handler(input)).rejects.toMatchObject({ code: "HOST_UNREACHABLE", details: { moved: true } });
    expect(startNode.schema.safeParse({ method: "recover", host: "kvm2", args: [] }).success).toBe(false);
    t.owned.add("kvm2");
    await startNode.handler(input);
    expect(t.localCalls.map((c) => c.method)).toEqual(["swarmNodes.addWorker"]);
    // Nowhere to place it, or a node unknown to the swarm: the local runner answers (and refuses).
    await t.ops.swarmNodes.addWorker({ name: "nowhere" } as never, "alice");
    await t.ops.swarmNodes.removeWorker("no-such-node", "alice");
    // A node with no VM of ours is removed by the manager's owner.
    await t.ops.swarmNodes.removeWorker("bare", "alice");
    expect(t.rpcCalls.map((c) => [c.name, (c.input as { host: string }).host])).toEqual([["operations.startNode", "mgr"]]);
    expect(t.localCalls.map((c) => c.method)).toEqual(["swarmNodes.addWorker", "swarmNodes.addWorker", "swarmNodes.removeWorker"]);
  });
});

describe("ClusterOperations", () => {
  it("sends a start to the owner of its host with the same arguments and counts the answer at once", async () => {
    const t = setup();
    await t.ops.start();
    const started = await t.ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    expect(started.id).toBe("remote-op");
    expect(t.rpcCalls).toEqual([{ url: "http://r2.internal", name: "operations.start", input: { method: "startMigration", host: "kvm1", args: [{ instance: "web-1", destination: "kvm2" }, "alice"] } }]);
    expect(t.localCalls).toEqual([]);
    expect(t.ops.running().map((o) => o.id)).toEqual(["remote-op"]);
  });

  it("runs a start here when this replica owns the host", async () => {
    const t = setup({ owns: ["kvm1"] });
    await t.ops.start();
    await t.ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    expect(t.localCalls.map((c) => c.method)).toEqual(["startMigration"]);
    expect(t.rpcCalls).toEqual([]);
  });

  it("asks the new owner when the host moved while the call was on its way", async () => {
    let owner = "r2";
    const t = setup({ owner: () => owner });
    await t.ops.start();
    t.answer(async (url) => {
      if (url === "http://r2.internal") {
        owner = "r3";
        throw new NimbusError("HOST_UNREACHABLE", "kvm1 is not watched by this server any more", { host: "kvm1", moved: true });
      }
      return op("remote-op");
    });
    await t.ops.startMigration({ instance: "web-1", destination: "kvm2" }, "alice");
    expect(t.rpcCalls.map((c) => c.url)).toEqual(["http://r2.internal", "http://r3.internal"]);
  });

  it("as the owner, refuses a forwarded start for a host it no longer owns (moved), and validates the input", async () => {
    const t = setup({ owns: [] });
    await t.ops.start();
    const start = t.handlers.get("operations.start")!;
    const input = start.schema.parse({ method: "startMigration", host: "kvm1", args: [{ instance: "web-1" }, "alice"] });
    await expect(start.handler(input)).rejects.toMatchObject({ code: "HOST_UNREACHABLE", details: { moved: true } });
    expect(start.schema.safeParse({ method: "constructor", host: "kvm1", args: [] }).success).toBe(false);
    expect(start.schema.safeParse({ method: "startMigration", host: "kvm1", args: new Array(7).fill(0) }).success).toBe(false);
    t.owned.add("kvm1");
    await start.handler(input);
    expect(t.localCalls.map((c) => c.method)).toEqual(["startMigration"]);
  });

  it("keeps other replicas' operations from the bus: running until final, never over its own copy, refusing what is not an Operation", async () => {
    const t = setup();
    await t.ops.start();
    t.bus({ kind: "operation", from: "r2", payload: op("b-1") });
    expect(t.ops.running().map((o) => o.id)).toEqual(["b-1"]);
    t.bus({ kind: "operation", from: "r2", payload: { id: "junk" } });
    t.bus({ kind: "operation", from: "r2", payload: op("b-1", { state: "succeeded", finishedAt: "2025-01-01T00:01:00.000Z", updatedAt: "2025-01-01T00:01:00.000Z" }) });
    expect(t.ops.running()).toEqual([]);
    expect((await t.ops.get("b-1"))?.state).toBe("succeeded");
    // Adopted here: a deposed owner's late copy does not overwrite it.
    t.localRunning.push(op("b-2", { progress: null }));
    t.bus({ kind: "operation", from: "r2", payload: op("b-2", { state: "failed", finishedAt: "2025-01-01T00:01:00.000Z" }) });
    expect(t.ops.running().map((o) => [o.id, o.state])).toEqual([["b-2", "running"]]);
  });

  it("refuses to end maintenance while another replica evacuates the host", async () => {
    const t = setup();
    await t.ops.start();
    t.bus({ kind: "operation", from: "r2", payload: op("evac", { kind: "maintenance", target: { type: "host", name: "kvm1" }, summary: "Evacuate kvm1" }) });
    await expect(t.ops.exitMaintenance("kvm1")).rejects.toThrow(/kvm1 is being evacuated \(Evacuate kvm1\)/);
    // Not evacuated: the flag goes to the host's owner and the answer waits for it.
    let cleared: (() => void) | null = null;
    t.fleet.setMaintenance = (host: string, on: boolean) => new Promise<void>((r) => (cleared = () => (t.fleet.put({ ...t.fleet.host(host)!, maintenance: on }), r())));
    let answered = false;
    const exit = t.ops.exitMaintenance("kvm2").then((v) => ((answered = true), v));
    await new Promise((r) => setTimeout(r, 0));
    expect(answered).toBe(false);
    cleared!();
    expect(await exit).toMatchObject({ host: "kvm2", flag: false });
    await expect(t.ops.exitMaintenance("nope")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
