import { describe, expect, it } from "vitest";
import { SwarmSection } from "@nimbus/domain";
import {
  buildSwarmSection,
  detailsOf,
  parseDockerInfo,
  parseNodeAddresses,
  parseNodeLs,
  parseServiceInspect,
  parseServiceLs,
  parseServicePs,
} from "../../../src/real/parse/docker.js";
import { sample } from "../../fixtures/samples.js";
import { expectUnparseable } from "../expect-unparseable.js";

const inspectAll = () =>
  JSON.stringify([...JSON.parse(sample("docker-service-inspect-pa-http-ingress.json")), ...JSON.parse(sample("docker-service-inspect-pa-web.json"))]);

describe("docker info", () => {
  it("reads a manager", () => {
    expect(parseDockerInfo(sample("docker-info-format-json-manager.json"))).toEqual({
      name: "swarm-mgr1",
      nodeId: "a63r5prety9w3ummuji6mz54e",
      nodeAddr: "10.98.0.1",
      swarmState: "active",
      manager: true,
      clusterId: "r3p3wozp0se49k6qbb4v6t9f2",
    });
  });
  it("reads a worker (no cluster details)", () => {
    expect(parseDockerInfo(sample("docker-info-format-json-worker.json"))).toMatchObject({ manager: false, clusterId: null, swarmState: "active" });
  });
  it("rejects output without the Swarm block", () => expectUnparseable(() => parseDockerInfo('{"Name":"x"}'), "docker info", /Swarm/));
  it("rejects truncated JSON", () => expectUnparseable(() => parseDockerInfo(sample("docker-info-format-json-manager.json").slice(0, 900)), "docker info", /not JSON/));
});

describe("docker node ls / inspect", () => {
  it("reads nodes with role, leader, availability and status", () => {
    expect(parseNodeLs(sample("docker-node-ls-format-json.jsonl")).map((n) => [n.hostname, n.role, n.leader, n.availability, n.status])).toEqual([
      ["swarm-mgr1", "manager", true, "active", "ready"],
      ["swarm-wrk1", "worker", false, "active", "ready"],
      ["swarm-wrk2", "worker", false, "active", "ready"],
    ]);
  });
  it("reads node addresses", () => {
    const addrs = parseNodeAddresses(JSON.stringify([...JSON.parse(sample("docker-node-inspect-self.json")), ...JSON.parse(sample("docker-node-inspect-worker.json"))]));
    expect(addrs.get("a63r5prety9w3ummuji6mz54e")).toBe("10.98.0.1");
    expect(addrs.size).toBe(2);
  });
  it("rejects an unknown availability", () =>
    expectUnparseable(() => parseNodeLs(sample("docker-node-ls-format-json.jsonl").replace('"Availability":"Active"', '"Availability":"Sleepy"')), "docker node ls", /Sleepy/));
  it("rejects a line that is not JSON", () => expectUnparseable(() => parseNodeLs(sample("docker-node-ls.txt")), "docker node ls", /not JSON/));
  it("rejects inspect output missing Status", () => expectUnparseable(() => parseNodeAddresses('[{"ID":"x"}]'), "docker node inspect", /Status/));
});

describe("docker service ls / inspect / ps", () => {
  it("reads replicas, mode and image", () => {
    expect(parseServiceLs(sample("docker-service-ls-format-json.jsonl"))).toEqual([
      { id: "n5i1tycrg4bm", name: "pa-hostpub", mode: "global", running: 3, desired: 3, image: "pa-busybox:1" },
      { id: "xk2555iknjt3", name: "pa-http", mode: "replicated", running: 2, desired: 2, image: "pa-busybox:1" },
      { id: "t38uzurup31u", name: "pa-web", mode: "replicated", running: 4, desired: 4, image: "pa-busybox:1" },
    ]);
  });
  it("reads replicas with a placement note", () => {
    expect(parseServiceLs('{"ID":"a","Image":"i","Mode":"replicated","Name":"s","Ports":"","Replicas":"1/3 (max 1 per node)"}')[0]).toMatchObject({ running: 1, desired: 3 });
  });
  it("rejects replicas it cannot read", () =>
    expectUnparseable(() => parseServiceLs('{"ID":"a","Image":"i","Mode":"replicated","Name":"s","Replicas":"many"}'), "docker service ls", /replicas/));
  it("reads published ports and labels from inspect", () => {
    const d = parseServiceInspect(inspectAll());
    expect(d.get("xk2555iknjt3qdaf36zwv09qd")!.ports).toEqual([{ published: 18080, target: 8080, protocol: "tcp", mode: "ingress" }]);
    expect(detailsOf(d, "xk2555iknjt3")[0]).toBe("xk2555iknjt3qdaf36zwv09qd");
  });
  it("rejects inspect output without a Spec", () => expectUnparseable(() => parseServiceInspect('[{"ID":"x"}]'), "docker service inspect", /Spec/));
  it("reads tasks with slot, node and state", () => {
    const tasks = parseServicePs(sample("docker-service-ps-format-json.jsonl"), new Map([["pa-web", "t38uzurup31u-full"]]));
    expect(tasks[0]).toEqual({
      id: "h0ohz3wr9td5",
      serviceId: "t38uzurup31u-full",
      serviceName: "pa-web",
      slot: 1,
      node: "swarm-wrk1",
      desiredState: "running",
      state: "running",
      error: null,
      image: "pa-busybox:1",
    });
    expect(tasks).toHaveLength(4);
  });
  it("reads history rows and global tasks", () => {
    const line = (name: string) => JSON.stringify({ CurrentState: "Shutdown 2 minutes ago", DesiredState: "Shutdown", Error: "task: non-zero exit (1)", ID: "t1", Image: "i", Name: name, Node: "n1", Ports: "" });
    const [hist, global] = parseServicePs(`${line(" \\_ pa-web.1")}\n${line("pa-hostpub.a63r5prety9w3ummuji6mz54e")}\n`, new Map());
    expect(hist).toMatchObject({ serviceName: "pa-web", slot: 1, state: "shutdown", error: "task: non-zero exit (1)" });
    expect(global).toMatchObject({ serviceName: "pa-hostpub", slot: null });
  });
  it("rejects a task name without a slot", () =>
    expectUnparseable(() => parseServicePs('{"ID":"a","Name":"web","Node":"","DesiredState":"Running","CurrentState":"Running","Error":""}', new Map()), "docker service ps", /SLOT/));
});

describe("SwarmSection", () => {
  it("joins info, nodes, services and tasks and validates", () => {
    const raw = JSON.parse(inspectAll());
    raw[0].Spec.Labels = { "nimbus.tenant": "acme", "com.docker.stack.namespace": "shop" };
    const details = parseServiceInspect(JSON.stringify(raw));
    const services = parseServiceLs(sample("docker-service-ls-format-json.jsonl"));
    const section = buildSwarmSection({
      info: parseDockerInfo(sample("docker-info-format-json-manager.json")),
      nodes: parseNodeLs(sample("docker-node-ls-format-json.jsonl")),
      addresses: parseNodeAddresses(sample("docker-node-inspect-self.json")),
      services,
      details,
      tasks: parseServicePs(sample("docker-service-ps-format-json.jsonl"), new Map()),
    });
    SwarmSection.parse(section);
    expect(section.role).toBe("manager");
    expect(section.nodes[0]!.address).toBe("10.98.0.1");
    const http = section.services.find((s) => s.name === "pa-http")!;
    expect(http).toMatchObject({ id: "xk2555iknjt3qdaf36zwv09qd", tenant: "acme", stack: "shop", replicasDesired: 2, updatedAt: "2026-11-25T20:25:32.655873224Z" });
    expect(section.services.find((s) => s.name === "pa-hostpub")).toMatchObject({ tenant: null, ports: [] });
  });

  it("does not count a task on a node that is down as a running replica (docker does, showing 4/3 after a reschedule)", () => {
    const nodes = parseNodeLs(sample("docker-node-ls-format-json.jsonl"));
    const [up1, up2, gone] = nodes.map((n) => n.hostname);
    const withDown = nodes.map((n) => (n.hostname === gone ? { ...n, status: "down" as const } : n));
    const task = (slot: number, node: string, state: string, desiredState = "running") =>
      JSON.stringify({ ID: `t${slot}${node}`, Name: `pa-web.${slot}`, Node: node, DesiredState: desiredState, CurrentState: `${state} 5 seconds ago`, Error: "" });
    const tasks = parseServicePs([task(1, up1!, "Running"), task(2, up2!, "Running"), task(3, gone!, "Running"), task(4, up2!, "Starting")].join("\n"), new Map());
    const section = buildSwarmSection({
      info: parseDockerInfo(sample("docker-info-format-json-manager.json")),
      nodes: withDown,
      addresses: new Map(),
      // docker itself says 4/4 for pa-web here.
      services: parseServiceLs(sample("docker-service-ls-format-json.jsonl")),
      details: new Map(),
      tasks,
    });
    expect(section.services.find((s) => s.name === "pa-web")).toMatchObject({ replicasDesired: 4, replicasRunning: 2 });
    expect(section.tasks).toHaveLength(4);
  });
});
