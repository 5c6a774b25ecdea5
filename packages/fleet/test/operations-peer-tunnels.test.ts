import { NimbusError, type Operation } from "@nimbus/domain";
import { afterEach, beforeEach, expect, it } from "vitest";
import { MemoryOperationStore } from "../src/memory-stores.js";
import { OperationManager } from "../src/operations.js";
import { FakeFleet, hypervisor, job } from "./helpers/fake-fleet.js";

/**
 * After a create's job succeeded on kvm3, the server asks each peer for a VXLAN port back to
 * kvm3 as one more step; a peer that fails is named, and the ports already added are released.
 */
let fleet: FakeFleet;
let store: MemoryOperationStore;
let ops: OperationManager;
const NOW = "2025-01-01T00:00:00.000Z";
const createOp: Operation = {
  id: "op-1", kind: "create", state: "running", host: "kvm3", tenant: "umbrella", requestedBy: "alice",
  target: { type: "instance", name: "u-3" }, summary: "Create u-3 on kvm3",
  params: { volumePath: "/instance/u-3.qcow2", bridge: "br-ovs", vlan: 40, vnis: [6100], tunnelPeers: ["kvm1", "kvm2"] },
  progress: null, steps: [], error: null, createdAt: NOW, updatedAt: NOW, finishedAt: null,
};
const agentSteps = [{ id: "wait-address", label: "Wait for boot", detail: "", state: "succeeded" as const, startedAt: NOW, finishedAt: NOW, log: [] }];

beforeEach(async () => {
  fleet = new FakeFleet();
  store = new MemoryOperationStore();
  for (const h of ["kvm1", "kvm2", "kvm3"]) fleet.put(hypervisor(h));
  await store.insert(createOp);
  ops = new OperationManager(fleet, store, {});
  fleet.handlers.set("job.list", () => [job("op-1", "running", { kind: "create" })]);
  await ops.start();
});
afterEach(() => ops?.stop());

const finishJob = () => fleet.job("kvm3", job("op-1", "succeeded", { kind: "create", progress: { kind: "create", steps: agentSteps, address: "10.61.0.100", undone: [] } }));
const settled = async () => {
  for (let i = 0; i < 100; i++) {
    const op = await ops.get("op-1");
    if (op && op.state !== "running") return op;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error("op-1 did not settle");
};

it("asks every peer for a port back to the new host, logged in one more step, before the create succeeds", async () => {
  fleet.handlers.set("net.ensureTunnel", (host) => ({ port: `vx6100-${host}`, changed: host === "kvm1" }));
  finishJob();
  const op = await settled();
  expect(op.state).toBe("succeeded");
  expect(fleet.sent.filter((s) => s.method === "net.ensureTunnel")).toEqual([
    { host: "kvm1", method: "net.ensureTunnel", params: { bridge: "br-ovs", vlan: 40, vni: 6100, remoteIp: "10.0.0.3" } },
    { host: "kvm2", method: "net.ensureTunnel", params: { bridge: "br-ovs", vlan: 40, vni: 6100, remoteIp: "10.0.0.3" } },
  ]);
  expect(op.steps.at(-1)).toMatchObject({
    id: "peer-tunnels", label: "Tunnels back from peers", state: "succeeded",
    log: ["kvm1: added vx6100-kvm1 of VNI 6100 to 10.0.0.3 on br-ovs", "kvm2: already has vx6100-kvm2 of VNI 6100 to 10.0.0.3 on br-ovs"],
  });
});

it("a peer that fails fails the step with the peer named, and the ports already added are released", async () => {
  fleet.handlers.set("net.ensureTunnel", (host) => {
    if (host === "kvm2") throw new NimbusError("TOOL_FAILED", "ovs-vsctl: no bridge named br-ovs");
    return { port: "vx6100-1", changed: true };
  });
  fleet.handlers.set("net.releaseTunnel", () => ({ port: "vx6100-1", changed: true }));
  finishJob();
  const op = await settled();
  expect(op.state).toBe("failed");
  expect(op.error).toBe("Tunnels back from peers failed: kvm2: ovs-vsctl: no bridge named br-ovs; undone: removed the tunnel on kvm1 back to kvm3");
  expect(fleet.sent.filter((s) => s.method === "net.releaseTunnel").map((s) => s.host)).toEqual(["kvm1"]);
  expect(op.steps.at(-1)).toMatchObject({ id: "peer-tunnels", state: "failed", log: expect.arrayContaining(["kvm2: ovs-vsctl: no bridge named br-ovs"]) });
});

it("a server restart during the step runs it again once the agent says the job succeeded (each request is idempotent)", async () => {
  await ops.stop();
  const cut = { ...createOp, id: "op-2", steps: [...agentSteps, { id: "peer-tunnels", label: "Tunnels back from peers", detail: "", state: "running" as const, startedAt: NOW, finishedAt: null, log: [] }] };
  await store.insert(cut);
  fleet.handlers.set("job.list", () => [job("op-2", "succeeded", { kind: "create", progress: { kind: "create", steps: agentSteps, address: "10.61.0.100", undone: [] } })]);
  fleet.handlers.set("net.ensureTunnel", () => ({ port: "vx6100-0", changed: false }));
  ops = new OperationManager(fleet, store, {});
  await ops.start();
  for (let i = 0; i < 100 && (await ops.get("op-2"))?.state === "running"; i++) await new Promise((r) => setImmediate(r));
  const op = (await ops.get("op-2"))!;
  expect(op.state).toBe("succeeded");
  expect(op.steps.map((s) => [s.id, s.state])).toEqual([["wait-address", "succeeded"], ["peer-tunnels", "succeeded"]]);
  expect(fleet.sent.filter((s) => s.method === "net.ensureTunnel").map((s) => s.host)).toEqual(["kvm1", "kvm2"]);
});
