import { describe, expect, it } from "vitest";
import { answeredBy, publishedPorts, publishedPortsForTenant } from "../../src/index.js";

const nodes = [
  { id: "n1", hostname: "manager" },
  { id: "n2", hostname: "worker1" },
  { id: "n3", hostname: "worker2" },
];
const task = (node: string | null, state = "running", desiredState = "running", serviceName = "web") => ({ serviceId: `id-${serviceName}`, serviceName, node, state, desiredState });
const web = (mode: "ingress" | "host") => ({ id: "id-web", name: "web", ports: [{ published: 8080, target: 80, protocol: "tcp" as const, mode }] });

describe("published ports", () => {
  it("ingress: the routing mesh answers on every node", () => {
    const [p] = publishedPorts(web("ingress"), [task("n2")], nodes);
    expect(p).toEqual({ published: 8080, target: 80, protocol: "tcp", mode: "ingress", nodes: null, nodeCount: null });
    expect(answeredBy(p!)).toBe("routing mesh: every node");
  });

  it("host: the nodes running a task answer, by hostname (ids resolved), sorted; stopped tasks and other services do not count", () => {
    const tasks = [task("n3"), task("worker1"), task("n1", "shutdown", "shutdown"), task("n1", "starting"), task("n1", "running", "running", "api")];
    const [p] = publishedPorts(web("host"), tasks, nodes);
    expect(p).toMatchObject({ mode: "host", nodes: ["worker1", "worker2"], nodeCount: 2 });
    expect(answeredBy(p!)).toBe("host mode on worker1, worker2");
  });

  it("a tenant reads how many nodes answer, never which (its tasks carry no node, and the names are stripped)", () => {
    const [p] = publishedPorts(web("host"), [task(null), task(null)], []);
    expect(p).toMatchObject({ nodes: [], nodeCount: 2 });
    expect(answeredBy(p!)).toBe("host mode on 2 nodes");
    const [staff] = publishedPorts(web("host"), [task("n2")], nodes);
    expect(publishedPortsForTenant([staff!])).toEqual([{ ...staff, nodes: [] }]);
    expect(publishedPortsForTenant(publishedPorts(web("ingress"), [], nodes))[0]!.nodes).toBeNull();
  });

  it("host mode with no task running: nothing answers, and it says so", () => {
    const [p] = publishedPorts(web("host"), [task("n2", "failed", "shutdown")], nodes);
    expect(p).toMatchObject({ nodes: [], nodeCount: 0 });
    expect(answeredBy(p!)).toBe("host mode: no task running, nothing answers");
  });
});
