import { describe, expect, it } from "vitest";
import { hostCheckInputs, storageCheckInputs, swarmCheckInputs, type HostRecord, type InputReader } from "../src/index.js";
import { hypervisor, vm } from "./fixtures.js";

/** What an inputs function sees, as a list. */
const inputs = <T>(read: (subject: T, input: InputReader) => void, subject: T) => {
  const seen: unknown[] = [];
  read(subject, { see: (v) => seen.push(v) });
  return seen;
};

const host = () => hypervisor("kvm1", [vm({ name: "a", tenant: "acme" }), vm({ name: "b", tenant: null })]);
const nfsHost = () => {
  const h = hypervisor("nfs1");
  h.inventory.storage = {
    mounts: [],
    nfs: { serverRunning: true, exports: [{ path: "/instance", clients: ["*"] }], datastores: [{ path: "/instance", totalBytes: 100, usedBytes: 40 }], vip: { address: "10.10.0.100", heldHere: true }, keepalivedState: "master" },
  };
  return h;
};
const manager = () => {
  const h = hypervisor("dock1");
  h.inventory.swarm = {
    nodeId: "n0",
    role: "manager",
    clusterId: "c1",
    nodes: [{ id: "n0", hostname: "docker0", role: "manager", availability: "active", status: "ready", leader: true, engineVersion: "27", address: null }],
    services: [{ id: "s0", name: "web", mode: "replicated", replicasDesired: 2, replicasRunning: 2, image: "nginx:1", ports: [], tenant: "acme", stack: null, updatedAt: null }],
    tasks: [{ id: "t0", serviceId: "s0", serviceName: "web", slot: 1, node: "docker0", desiredState: "running", state: "running", error: null }],
  };
  return h;
};

type Edit = [string, (h: HostRecord) => void];

function expectInputs<T>(read: (subject: T, input: InputReader) => void, make: () => T, host: (t: T) => HostRecord, seen: Edit[], unseen: Edit[]) {
  const before = inputs(read, make());
  for (const [name, edit] of seen) {
    const t = make();
    edit(host(t));
    expect(inputs(read, t), name).not.toEqual(before);
  }
  for (const [name, edit] of unseen) {
    const t = make();
    edit(host(t));
    expect(inputs(read, t), name).toEqual(before);
  }
}

describe("health rule inputs", () => {
  it("a host's inputs cover its connection and its VMs' names, states and tenants, and nothing the checks do not show", () => {
    expectInputs(hostCheckInputs, host, (h) => h, [
      ["VM state", (h) => (h.inventory.virt!.domains[0]!.state = "crashed")],
      ["VM tenant", (h) => (h.inventory.virt!.domains[1]!.tenant = "globex")],
      ["VM name", (h) => (h.inventory.virt!.domains[1]!.name = "c")],
      ["VM added", (h) => h.inventory.virt!.domains.push(vm({ name: "c" }))],
      ["connection state", (h) => (h.connection.state = "auth-failed")],
      ["connection message", (h) => (h.connection.message = "permission denied")],
    ], [
      ["lastSeen while online", (h) => (h.connection.lastSeen = "2026-02-01T00:00:00.000Z")],
      ["CPU usage", (h) => (h.inventory.node!.cpuUsagePct = 99)],
      ["VM memory", (h) => (h.inventory.virt!.domains[0]!.memoryMiB = 1)],
    ]);
  });

  it("an unreachable host's inputs include lastSeen, which its message quotes", () => {
    const down = () => ({ ...host(), connection: { ...host().connection, state: "unreachable" as const } });
    expectInputs(hostCheckInputs, down, (h) => h, [["lastSeen while unreachable", (h) => (h.connection.lastSeen = "2026-02-01T00:00:00.000Z")]], []);
  });

  it("storage inputs cover the NFS servers, their datastores and how many mounts each host has", () => {
    expectInputs(storageCheckInputs, () => [nfsHost(), host()], (hs) => hs[0]!, [
      ["datastore usage", (h) => (h.inventory.storage!.nfs!.datastores[0]!.usedBytes = 95)],
      ["VIP holder", (h) => (h.inventory.storage!.nfs!.vip!.heldHere = false)],
      ["server stopped", (h) => (h.inventory.storage!.nfs!.serverRunning = false)],
      ["keepalived state", (h) => (h.inventory.storage!.nfs!.keepalivedState = "fault")],
      ["server connection", (h) => (h.connection.state = "unreachable")],
      ["mount added", (h) => h.inventory.storage!.mounts.push({ source: "x:/instance", target: "/instance", fstype: "nfs4" })],
    ], [
      ["export clients", (h) => (h.inventory.storage!.nfs!.exports[0]!.clients = ["10.0.0.0/24"])],
      ["CPU usage", (h) => (h.inventory.node!.cpuUsagePct = 99)],
    ]);
    expectInputs(storageCheckInputs, () => [nfsHost(), host()], (hs) => hs[1]!, [["a hypervisor's mount gone", (h) => h.inventory.storage!.mounts.pop()]], [
      ["a hypervisor's mount target", (h) => (h.inventory.storage!.mounts[0]!.target = "/other")],
    ]);
  });

  it("swarm inputs cover the manager's nodes, tasks and services as the checks show them", () => {
    expectInputs(swarmCheckInputs, () => [manager()], (hs) => hs[0]!, [
      ["node down", (h) => (h.inventory.swarm!.nodes[0]!.status = "down")],
      ["node drained", (h) => (h.inventory.swarm!.nodes[0]!.availability = "drain")],
      ["replicas", (h) => (h.inventory.swarm!.services[0]!.replicasRunning = 1)],
      ["task moved", (h) => (h.inventory.swarm!.tasks[0]!.node = "docker1")],
      ["manager offline", (h) => (h.connection.state = "unreachable")],
    ], [
      ["image", (h) => (h.inventory.swarm!.services[0]!.image = "nginx:2")],
      ["engine version", (h) => (h.inventory.swarm!.nodes[0]!.engineVersion = "28")],
    ]);
  });
});
