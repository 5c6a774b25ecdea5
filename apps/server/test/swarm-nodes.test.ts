import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Operation } from "@nimbus/domain";
import { startBackend, until, viewers, type Backend } from "./backend.js";

/**
 * Swarm nodes on demand through the whole server, on the embedded lab over SSH: a worker VM is
 * built by the create machinery, joins at first boot with the token of that moment, becomes
 * Ready and is labelled; failures (a rotated token, a node that never becomes Ready) time out
 * and delete the VM; remove-worker drains, waits, removes the node and deletes the VM. The join
 * token is searched for in everything Nimbus recorded.
 */
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
}, 180_000);
afterAll(() => backend?.stop());

const admin = () => backend.as(viewers.admin);
const operator = () => backend.as(viewers.operator);
const settled = (id: string, timeoutMs = 60_000) =>
  until(() => admin().operations.get({ id }), (op) => op.state !== "running" && op.state !== "pending", `operation ${id} to settle`, timeoutMs);
const node = async (name: string) => (await admin().swarm.overview()).nodes.find((n) => n.hostname === name);
const vm = (name: string) => backend.app.fleet.hosts().some((h) => h.inventory.virt?.domains.some((d) => d.name === name));
const codeOf = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TRPCError ? e.code : String(e)));
const messageOf = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof Error ? e.message : String(e)));
const small = (name: string, over: Record<string, unknown> = {}) => ({ name, vcpus: 1, memoryMiB: 512, diskGiB: 4, ...over });
const stepStates = (op: Operation) => op.steps.map((s) => [s.id, s.state]);

/** Everything Nimbus recorded that a user or a log could read: operations (params, steps, errors) and the audit trail, CSV included. */
async function recorded(): Promise<string> {
  const ops = await admin().operations.list({ limit: 200 });
  const audit = await admin().audit.list({ limit: 200, offset: 0 });
  let csv = "";
  for await (const chunk of await admin().audit.csv({})) csv += String(chunk);
  return JSON.stringify(ops) + JSON.stringify(audit) + csv;
}

describe("add worker", () => {
  it("shows where the worker goes, builds it, it joins with the current token, becomes Ready and is labelled; the token is in no record", async () => {
    const plan = await admin().swarmNodes.plan(small("worker3"));
    expect(plan).toMatchObject({ chosen: expect.stringMatching(/^kvm[12]$/), problem: null, network: { bridge: "br0" } });
    expect(plan.reason).toMatch(/every check passes/);

    const { operationId } = await operator().swarmNodes.addWorker(small("worker3"));
    const op = await settled(operationId);
    expect(op.error).toBeNull();
    expect(op).toMatchObject({ kind: "swarm-add-worker", state: "succeeded", target: { type: "node", name: "worker3" }, host: plan.chosen });
    expect(stepStates(op)).toEqual([
      ["token", "succeeded"], ["check", "succeeded"], ["build-volume", "succeeded"], ["wire-network", "skipped"], ["define", "succeeded"], ["start", "succeeded"], ["wait-address", "succeeded"], ["join", "succeeded"], ["label", "succeeded"],
    ]);
    // virt-builder's log names each first-boot command: the join is there, its token redacted.
    expect(op.steps.find((s) => s.id === "build-volume")!.log.join("\n")).toContain("docker swarm join --token SWMTKN-(redacted)");
    expect(await node("worker3")).toMatchObject({ role: "worker", status: "ready", availability: "active" });

    const { worker, manager } = await admin().swarm.joinTokens();
    const everything = await recorded();
    expect(everything).toContain("worker3");
    expect(everything).not.toContain(worker);
    expect(everything).not.toContain(manager);
    expect(everything).not.toMatch(/SWMTKN-1-/);
  });

  it("a token rotated while the VM is built: the join is refused, the operation times out and deletes the VM", async () => {
    const { operationId } = await admin().swarmNodes.addWorker(small("worker4", { joinTimeoutSeconds: 10 }));
    await until(() => admin().operations.get({ id: operationId }), (op) => op.steps.find((s) => s.id === "build-volume")?.state === "running", "the build", 30_000);
    const before = await admin().swarm.joinTokens();
    await admin().swarmNodes.rotateToken({ role: "worker" });
    expect((await admin().swarm.joinTokens()).worker).not.toBe(before.worker);
    const op = await settled(operationId);
    expect(op.state).toBe("failed");
    expect(op.error).toMatch(/worker4 did not join within 10 s .*token may have been rotated.*; undone: deleted VM worker4 and its volume/);
    expect(op.steps.find((s) => s.id === "join")!.state).toBe("failed");
    expect(await node("worker4")).toBeUndefined();
    await until(async () => vm("worker4"), (v) => !v, "the VM gone");
  });

  it("a worker that never becomes Ready: removed from the swarm and its VM deleted after the timeout", async () => {
    await admin().lab.inject({ name: "stuck-swarm-join", args: ["worker5"] });
    try {
      const op = await settled((await admin().swarmNodes.addWorker(small("worker5", { joinTimeoutSeconds: 10 }))).operationId);
      expect(op.state).toBe("failed");
      expect(op.error).toMatch(/worker5 joined but stayed down for 10 s; undone: removed node worker5 from the swarm, deleted VM worker5 and its volume/);
      expect(await node("worker5")).toBeUndefined();
      await until(async () => vm("worker5"), (v) => !v, "the VM gone");
    } finally {
      await admin().lab.inject({ name: "unstick-swarm-join", args: ["worker5"] });
    }
  });

  it("cancel while the VM is built: the create is cancelled and cleans up, the add-worker ends cancelled", async () => {
    const { operationId } = await admin().swarmNodes.addWorker(small("worker6"));
    await until(() => admin().operations.get({ id: operationId }), (op) => op.steps.find((s) => s.id === "build-volume")?.state === "running", "the build", 30_000);
    await admin().operations.cancel({ id: operationId });
    const op = await settled(operationId);
    expect(op.state).toBe("cancelled");
    expect(op.error).toMatch(/the VM was not built \(operation .+\): cancelled during "Build the volume"; undone: removed .*worker6\.qcow2/);
    expect(await node("worker6")).toBeUndefined();
    await until(async () => vm("worker6"), (v) => !v, "no VM left");
  });

  it("refuses what cannot be built, with the reason: a taken name, a host without room, bad input", async () => {
    expect(await messageOf(admin().swarmNodes.addWorker(small("manager")))).toMatch(/an instance named manager already exists/);
    expect(await messageOf(admin().swarmNodes.addWorker(small("worker9", { memoryMiB: 200_000 })))).toMatch(/no hypervisor fits/);
    expect(await codeOf(admin().swarmNodes.addWorker(small("-rf")))).toBe("BAD_REQUEST");
    expect(await messageOf(admin().swarmNodes.createSwarm({ ...small("mgr2"), bridge: "br0" }))).toMatch(/a swarm exists already/);
    // A manager that is no VM of Nimbus: the admin names the bridge that reaches it, and placement checks it.
    expect((await admin().swarmNodes.plan(small("worker9", { network: { bridge: "br-nowhere" } }))).problem).toMatch(/no hypervisor fits; .*no bridge br-nowhere, the swarm's network/);
    expect(await admin().swarmNodes.plan(small("worker9", { network: { bridge: "br-ovs", vlan: 10 } }))).toMatchObject({ problem: null, network: { bridge: "br-ovs", vlan: 10 } });
  });
});

describe("remove worker", () => {
  it("refuses a manager with the reason, then drains, waits for the tasks, removes the node and deletes the VM", async () => {
    expect((await admin().swarmNodes.removeCheck({ node: "manager" })).problem).toMatch(/demote it first/);
    expect(await messageOf(admin().swarmNodes.removeWorker({ node: "manager", confirm: "manager" }))).toMatch(/demote it first/);
    expect(await codeOf(admin().swarmNodes.removeWorker({ node: "worker3", confirm: "worker" }))).toBe("BAD_REQUEST");
    expect((await admin().swarmNodes.removeCheck({ node: "worker3" })).problem).toBeNull();
    const op = await settled((await admin().swarmNodes.removeWorker({ node: "worker3", confirm: "worker3" })).operationId);
    expect(op.error).toBeNull();
    expect(stepStates(op)).toEqual([["drain", "succeeded"], ["tasks-moved", "succeeded"], ["leave", "skipped"], ["node-rm", "succeeded"], ["delete-vm", "succeeded"]]);
    expect(op.steps.find((s) => s.id === "leave")!.detail).toMatch(/no Nimbus agent: skipped/);
    expect(await node("worker3")).toBeUndefined();
    await until(async () => vm("worker3"), (v) => !v, "the VM gone");
    const swarm = await admin().swarm.overview();
    expect(swarm.services.filter((s) => s.mode === "replicated").every((s) => s.replicasRunning === s.replicasDesired)).toBe(true);
  });
});

describe("managers and tokens", () => {
  it("warns when the manager count loses fault tolerance and refuses to demote the last manager", async () => {
    expect(await admin().swarmNodes.roleImpact({ node: "manager", role: "worker" })).toMatchObject({ refusal: expect.stringMatching(/last manager/) });
    expect(await messageOf(admin().swarmNodes.setRole({ node: "manager", role: "worker" }))).toMatch(/last manager/);
    const promote = await admin().swarmNodes.roleImpact({ node: "worker1", role: "manager" });
    expect(promote.warning).toMatch(/2 managers .*even count/);
    expect((await admin().swarmNodes.setRole({ node: "worker1", role: "manager" })).warning).toMatch(/even count/);
    await until(() => node("worker1"), (n) => n?.role === "manager", "worker1 a manager");
    expect((await admin().swarmNodes.roleImpact({ node: "worker1", role: "worker" })).refusal).toBeNull();
    await admin().swarmNodes.setRole({ node: "worker1", role: "worker" });
    await until(() => node("worker1"), (n) => n?.role === "worker", "worker1 a worker again");
  });

  it("only admins rotate tokens and promote; every rotation is audited", async () => {
    expect(await codeOf(operator().swarmNodes.rotateToken({ role: "manager" }))).toBe("FORBIDDEN");
    expect(await codeOf(operator().swarmNodes.setRole({ node: "worker1", role: "manager" }))).toBe("FORBIDDEN");
    await admin().swarmNodes.rotateToken({ role: "manager" });
    const { records } = await admin().audit.list({ action: "swarmNodes.rotateToken", limit: 50, offset: 0 });
    expect(records.map((r) => [r.userName, r.result])).toContainEqual(["Ada Admin", "ok"]);
  });
});

describe("autoscale", () => {
  it("a policy's bounds drive the replicas through swarm.scale, and the decision is audited with its reason", async () => {
    const autoscaler = backend.app.deps.autoscale!;
    expect(await messageOf(operator().swarmNodes.setPolicy({ service: "web", minReplicas: 4, maxReplicas: 6, addWorkers: "perform" } as never))).toMatch(/only an admin/);
    expect(await codeOf(admin().swarmNodes.setPolicy({ service: "monitoring", minReplicas: 1, maxReplicas: 2 } as never))).toBe("BAD_REQUEST");
    await operator().swarmNodes.setPolicy({ service: "web", minReplicas: 4, maxReplicas: 6 } as never);
    await autoscaler.tick();
    const view = await admin().swarmNodes.autoscale();
    expect(view.policies.map((p) => p.policy)).toEqual([expect.objectContaining({ service: "web", minReplicas: 4, addWorkers: "suggest" })]);
    expect(view.decisions[0]).toMatchObject({ kind: "scale", subject: "web", outcome: "started", reason: expect.stringContaining("below the policy's minimum of 4") });
    await settled(view.decisions[0]!.operationId!);
    await until(() => admin().swarm.overview(), (s) => s.services.find((x) => x.name === "web")?.replicasRunning === 4, "web at 4");
    const { records } = await admin().audit.list({ action: "autoscale.scale", limit: 10, offset: 0 });
    expect(records[0]).toMatchObject({ userName: "autoscaler", target: "web", result: "ok" });
    expect(JSON.stringify(records[0]!.inputSummary)).toContain("below the policy's minimum of 4");
    await admin().swarmNodes.deletePolicy({ service: "web" });
    expect(await codeOf(admin().swarmNodes.deletePolicy({ service: "web" }))).toBe("NOT_FOUND");
    expect(await codeOf(admin().swarmNodes.acceptSuggestion({ service: "web" }))).toBe("NOT_FOUND");
  });
});

describe("autoscale: a swarm that grows when it must", () => {
  it("tasks pending on full nodes: a suggestion first; with the admin's consent the autoscaler adds a worker, which takes them", async () => {
    const autoscaler = backend.app.deps.autoscale!;
    await admin().lab.inject({ name: "swarm-nodes-full", args: ["all"] });
    try {
      await admin().swarmNodes.setPolicy({ service: "web", minReplicas: 6, maxReplicas: 8 } as never);
      await autoscaler.tick();
      const pending = () => admin().swarm.overview().then((s) => s.tasks.filter((t) => t.serviceName === "web" && t.state === "pending").length);
      const waiting = await until(pending, (n) => n > 0, "web tasks pending");
      await autoscaler.tick();
      const suggested = await admin().swarmNodes.autoscale();
      expect(suggested.suggestions).toEqual([{ service: "web", reason: `${waiting} tasks of web cannot be placed: no node has room`, since: expect.any(String) }]);
      expect(suggested.decisions[0]).toMatchObject({ kind: "suggest-add-worker", outcome: "suggested" });

      await admin().swarmNodes.setPolicy({ service: "web", minReplicas: 6, maxReplicas: 8, addWorkers: "perform" } as never);
      await autoscaler.tick();
      const decided = await admin().swarmNodes.autoscale();
      expect(decided.decisions[0]).toMatchObject({ kind: "add-worker", outcome: "started", reason: `${waiting} tasks of web cannot be placed: no node has room` });
      const op = await settled(decided.decisions[0]!.operationId!);
      expect(op).toMatchObject({ kind: "swarm-add-worker", state: "succeeded", requestedBy: "autoscaler" });
      await until(pending, (n) => n === 0, "the pending tasks placed on the new worker");
      const { records } = await admin().audit.list({ action: "autoscale.add-worker", limit: 10, offset: 0 });
      expect(records[0]).toMatchObject({ userName: "autoscaler", result: "ok" });
    } finally {
      await admin().lab.inject({ name: "swarm-nodes-room", args: ["all"] });
      await admin().swarmNodes.deletePolicy({ service: "web" });
    }
  });
});


describe("create swarm where none exists", () => {
  it("after the lab's swarm is torn down: a manager VM from the Docker-ready image runs swarm init, its host answers with the new swarm, the token is in no record", { timeout: 120_000 }, async () => {
    const before = (await admin().swarm.overview()).clusterId;
    await admin().lab.inject({ name: "swarm-teardown", args: [] });
    await until(() => admin().swarm.overview(), (s) => s.managerHost === null, "no manager answers", 60_000);
    // The hypervisor's pushed virt section says the VM is gone (it may arrive after the manager stopped answering).
    await until(async () => vm("manager"), (there) => !there, "the manager VM gone from the inventory");

    // Refused with the reason: a name the fleet does not know (Nimbus reads a swarm through its manager's agent), a host that answers.
    expect(await messageOf(admin().swarmNodes.createSwarm({ ...small("mgr9"), bridge: "br0" }))).toMatch(/mgr9 is not a host of the fleet/);
    expect(await messageOf(admin().swarmNodes.createSwarm({ ...small("kvm1"), bridge: "br0" }))).toMatch(/kvm1 is a host that answers already/);
    expect(await codeOf(backend.as(viewers.oncall).swarmNodes.createSwarm({ ...small("manager"), bridge: "br0" }))).toBe("FORBIDDEN");

    const { operationId } = await operator().swarmNodes.createSwarm({ ...small("manager"), bridge: "br0" });
    const op = await settled(operationId, 90_000);
    expect(op.error).toBeNull();
    expect(op).toMatchObject({ kind: "swarm-create", state: "succeeded", target: { type: "node", name: "manager" }, params: { image: "debian-12" } });
    expect(stepStates(op)).toEqual([
      ["token", "succeeded"], ["check", "succeeded"], ["build-volume", "succeeded"], ["wire-network", "skipped"], ["define", "succeeded"], ["start", "succeeded"], ["wait-address", "succeeded"], ["join", "succeeded"], ["label", "succeeded"],
    ]);
    expect(op.steps.find((s) => s.id === "build-volume")!.log.join("\n")).toMatch(/docker swarm init --advertise-addr/);
    expect(vm("manager")).toBe(true);

    const swarm = await until(() => admin().swarm.overview(), (s) => s.managerHost === "manager", "the new swarm listed");
    expect(swarm.clusterId).not.toBeNull();
    expect(swarm.clusterId).not.toBe(before);
    expect(swarm.nodes).toEqual([expect.objectContaining({ hostname: "manager", role: "manager", status: "ready", leader: true })]);
    expect(swarm.services).toEqual([]);
    // A second one is refused now that a manager answers.
    expect(await messageOf(admin().swarmNodes.createSwarm({ ...small("worker1"), bridge: "br0" }))).toMatch(/a swarm exists already/);

    const { worker, manager } = await admin().swarm.joinTokens();
    const everything = await recorded();
    expect(everything).toContain("swarm-create");
    expect(everything).not.toContain(worker);
    expect(everything).not.toContain(manager);
  });
});
