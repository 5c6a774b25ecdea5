import { describe, expect, it } from "vitest";
import {
  AddWorkerRequest,
  REDACTED_TOKEN,
  appendStepLog,
  createSteps,
  placeWorker,
  redactSwarmTokens,
  removeWorkerProblem,
  roleChangeImpact,
  quorumView,
  swarmVmParams,
  workerFirstBoot,
  type SwarmNode,
  type SwarmTask,
} from "../../src/index.js";
import { hypervisor, node, vm } from "../fixtures.js";
import { datastore, image } from "../provision/fixtures.js";

const TOKEN = "SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx";

describe("join tokens are never recorded", () => {
  it("redacts every swarm token in a line, keeping the rest", () => {
    expect(redactSwarmTokens(`[  72.2] Installing firstboot command: docker swarm join --token ${TOKEN} 10.10.1.10:2377`)).toBe(
      `[  72.2] Installing firstboot command: docker swarm join --token ${REDACTED_TOKEN} 10.10.1.10:2377`,
    );
    expect(redactSwarmTokens(`${TOKEN} and ${TOKEN.toUpperCase()}`)).not.toMatch(/3pu6hs/i);
  });

  it("a step log line that carries a token is stored redacted (agents and server append through here)", () => {
    const steps = createSteps({ name: "w", image: { name: "debian-12", os: "debian12", repositoryIndex: "/instance/.nimbus-images/index" }, volumePath: "/instance/w.qcow2", diskGiB: 20, nic: { bridge: "br0", bridgeType: "linux", vlan: 1 }, wiring: [] });
    const logged = appendStepLog(steps, "build-volume", [`Installing firstboot command: docker swarm join --token ${TOKEN} m:2377`]);
    expect(JSON.stringify(logged)).not.toContain(TOKEN);
    expect(logged.find((s) => s.id === "build-volume")!.log[0]).toContain(REDACTED_TOKEN);
  });

  it("first boot mounts the export through the VIP, then joins the manager with the token; hostile values are refused", () => {
    const cmds = workerFirstBoot({ vip: "10.10.0.100", exportPath: "/instance", managerAddress: "10.10.1.10", token: TOKEN });
    expect(cmds[0]).toContain("mount -t nfs4 10.10.0.100:/instance /mnt/nimbus");
    expect(cmds[1]).toBe(`docker swarm join --token ${TOKEN} 10.10.1.10:2377`);
    expect(() => workerFirstBoot({ vip: "10.10.0.100", exportPath: "/instance", managerAddress: "10.10.1.10", token: `${TOKEN}; rm -rf /` })).toThrow();
    expect(() => workerFirstBoot({ vip: "10.10.0.100; reboot", exportPath: "/instance", managerAddress: "10.10.1.10", token: TOKEN })).toThrow();
    expect(() => workerFirstBoot({ vip: "10.10.0.100", exportPath: "/instance/../etc", managerAddress: "10.10.1.10", token: TOKEN })).toThrow();
  });
});

describe("worker placement", () => {
  const hosts = () => [
    hypervisor("kvm1", [vm({ name: "manager", memoryMiB: 4096, tenant: null, nics: [{ mac: "m", bridge: "br0", bridgeType: "linux", device: "vnet0", vlan: null, model: "virtio", ipAddresses: [] }] })]),
    hypervisor("kvm2", [], { inventory: { ...hypervisor("kvm2").inventory, node: node({ hostname: "kvm2", memoryTotalMiB: 2000 }) } }),
  ];
  const request = AddWorkerRequest.parse({ name: "worker3" });

  it("chooses the host with room and the swarm's bridge, and says why the others fail", () => {
    const p = placeWorker({ request, image: image(), network: { bridge: "br0", vlan: null }, hosts: hosts(), datastores: [datastore()] });
    expect(p.chosen?.host).toBe("kvm1");
    expect(p.reason).toMatch(/every check passes/);
    expect(p.candidates.find((c) => c.host === "kvm2")!.checks.find((c) => c.id === "memory")!.result).toBe("fail");
  });

  it("refuses a pinned host without the swarm's bridge, and an untagged swarm on Open vSwitch", () => {
    const pinned = placeWorker({ request: { ...request, host: "kvm1" }, image: image(), network: { bridge: "br-missing", vlan: null }, hosts: hosts(), datastores: [datastore()] });
    expect(pinned.chosen).toBeNull();
    expect(pinned.reason).toMatch(/kvm1 \(pinned\): .*no bridge br-missing/);
    const ovs = placeWorker({ request, image: image(), network: { bridge: "br-ovs", vlan: null }, hosts: hosts(), datastores: [datastore()] });
    expect(ovs.chosen).toBeNull();
    expect(ovs.reason).toMatch(/put the swarm on a VLAN/);
  });

  it("refuses a name an instance already has", () => {
    const p = placeWorker({ request: { ...request, name: "manager" }, image: image(), network: { bridge: "br0", vlan: null }, hosts: hosts(), datastores: [datastore()] });
    expect(p.chosen).toBeNull();
    expect(p.reason).toMatch(/already exists on kvm1/);
  });

  it("builds an untenanted create job on the swarm's bridge without tenant wiring", () => {
    const p = placeWorker({ request, image: image(), network: { bridge: "br0", vlan: null }, hosts: hosts(), datastores: [datastore()] });
    const params = swarmVmParams("op-1", request, image(), p.chosen!, { bridge: "br0", vlan: null }, ["true"]);
    expect(params).toMatchObject({ tenant: null, volumePath: "/instance/worker3.qcow2", nic: { bridge: "br0", bridgeType: "linux" }, wiring: [], sshKeys: [], firstBoot: ["true"] });
  });

  it("gives root on the node the SSH keys the request names (checked like a create's), none by default", () => {
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO68zLD6gVSVNRqZbgngE9GugrQm2BxhZCpoOzihaBR3 ops@site";
    const withKey = AddWorkerRequest.parse({ name: "worker3", sshKeys: [key] });
    const p = placeWorker({ request: withKey, image: image(), network: { bridge: "br0", vlan: null }, hosts: hosts(), datastores: [datastore()] });
    expect(swarmVmParams("op-1", withKey, image(), p.chosen!, { bridge: "br0", vlan: null }, []).sshKeys).toEqual([key]);
    expect(AddWorkerRequest.parse({ name: "worker3" }).sshKeys).toEqual([]);
    expect(AddWorkerRequest.safeParse({ name: "worker3", sshKeys: ["ssh-ed25519 AAAA\nPermitRootLogin yes"] }).success).toBe(false);
  });
});

const swarmNode = (hostname: string, over: Partial<SwarmNode> = {}): SwarmNode => ({ id: `id-${hostname}`, hostname, role: "worker", availability: "active", status: "ready", leader: false, engineVersion: "24", address: null, ...over });
const task = (service: string, nodeName: string, over: Partial<SwarmTask> = {}): SwarmTask => ({ id: `${service}-${nodeName}-${Math.random()}`, serviceId: service, serviceName: service, slot: 1, node: nodeName, desiredState: "running", state: "running", error: null, ...over });

describe("remove worker: the capacity rule", () => {
  const nodes = [swarmNode("manager", { role: "manager", leader: true }), swarmNode("worker1"), swarmNode("worker2")];
  const memory = (mib: number) => () => mib;

  it("allows a removal when the other ready nodes have room for its tasks", () => {
    const tasks = [task("web", "worker1"), task("web", "worker2"), task("api", "manager")];
    expect(removeWorkerProblem({ node: "worker1", nodes, tasks, globalServices: new Set(), vmMemoryMiB: memory(4096) })).toBeNull();
  });

  it("refuses when the rest has no room, naming the numbers", () => {
    // 1 GiB nodes hold 2 tasks each; the other two are full.
    const tasks = [task("web", "worker1"), task("web", "worker1"), task("a", "worker2"), task("b", "worker2"), task("c", "manager"), task("d", "manager")];
    expect(removeWorkerProblem({ node: "worker1", nodes, tasks, globalServices: new Set(), vmMemoryMiB: memory(1024) })).toMatch(/room for 0 more tasks .* worker1 runs 2: add a worker first/);
  });

  it("global tasks do not move and do not count", () => {
    const tasks = [task("agent", "worker1"), task("agent", "worker2"), task("a", "worker2"), task("b", "manager"), task("c", "manager")];
    expect(removeWorkerProblem({ node: "worker1", nodes, tasks, globalServices: new Set(["agent"]), vmMemoryMiB: memory(1024) })).toBeNull();
  });

  it("refuses managers, unknown nodes and the last ready active node", () => {
    expect(removeWorkerProblem({ node: "manager", nodes, tasks: [], globalServices: new Set(), vmMemoryMiB: memory(4096) })).toMatch(/demote it first/);
    expect(removeWorkerProblem({ node: "nope", nodes, tasks: [], globalServices: new Set(), vmMemoryMiB: memory(4096) })).toMatch(/not found/);
    const lonely = [swarmNode("manager", { role: "manager", availability: "drain" }), swarmNode("worker1"), swarmNode("worker2", { status: "down" })];
    expect(removeWorkerProblem({ node: "worker1", nodes: lonely, tasks: [task("web", "worker1")], globalServices: new Set(), vmMemoryMiB: memory(4096) })).toMatch(/last node that is ready and active/);
  });
});

describe("quorum", () => {
  it("tolerance: 1 -> 0, 2 -> 0, 3 -> 1, 4 -> 1, 5 -> 2", () => {
    expect([1, 2, 3, 4, 5].map((n) => quorumView(n).tolerates)).toEqual([0, 0, 1, 1, 2]);
    expect(quorumView(3).warning).toBeNull();
    expect(quorumView(5).warning).toBeNull();
    expect(quorumView(4).warning).toMatch(/even count/);
    expect(quorumView(1).warning).toMatch(/no failure is tolerated/);
  });

  it("warns when a demote lowers the tolerance, and when a promote lands on an even count", () => {
    expect(roleChangeImpact("demote", { total: 3, reachable: 3 }).warning).toMatch(/drops from 1 to 0/);
    expect(roleChangeImpact("promote", { total: 3, reachable: 3 }).warning).toMatch(/even count/);
    expect(roleChangeImpact("promote", { total: 4, reachable: 4 }).warning).toBeNull();
    expect(roleChangeImpact("promote", { total: 1, reachable: 1 }).warning).toMatch(/even count/);
  });

  it("refuses to demote the last manager or one whose demote leaves no majority reachable", () => {
    expect(roleChangeImpact("demote", { total: 1, reachable: 1 }).refusal).toMatch(/last manager/);
    expect(roleChangeImpact("demote", { total: 3, reachable: 2 }).refusal).toMatch(/short of the majority of 2/);
    expect(roleChangeImpact("demote", { total: 5, reachable: 5 }).refusal).toBeNull();
  });
});
