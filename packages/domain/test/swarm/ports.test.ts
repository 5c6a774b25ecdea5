import { describe, expect, it } from "vitest";
import { swarmPortFindings, type NodePortReport, type PortNode } from "../../src/swarm/ports.js";

const open = (addresses: string[], blocked: Record<string, string> = {}): NodePortReport["reach"] =>
  addresses.flatMap((address) =>
    [2377, 7946].map((port) => {
      const err = blocked[`${address}:${port}`];
      return { address, port, ok: !err, error: err ?? null };
    }),
  );

function swarm(over: Partial<Record<string, Partial<PortNode>>> = {}): PortNode[] {
  const all = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
  const base: PortNode[] = [
    { hostname: "mgr1", address: all[0]!, role: "manager", ready: true, overlay: true, report: { listeningUdp: [7946, 4789], reach: open([all[1]!, all[2]!]) } },
    { hostname: "wrk1", address: all[1]!, role: "worker", ready: true, overlay: true, report: { listeningUdp: [7946, 4789], reach: open([all[0]!, all[2]!]) } },
    { hostname: "wrk2", address: all[2]!, role: "worker", ready: true, overlay: true, report: { listeningUdp: [7946, 4789], reach: open([all[0]!, all[1]!]) } },
  ];
  return base.map((n) => ({ ...n, ...over[n.hostname] }));
}

describe("swarm port rule", () => {
  it("finds nothing in a healthy swarm", () => {
    expect(swarmPortFindings(swarm())).toEqual([]);
  });

  it("names both nodes for a blocked TCP port (2377 only counts toward managers)", () => {
    const nodes = swarm({ wrk1: { report: { listeningUdp: [7946, 4789], reach: open(["10.0.0.1", "10.0.0.3"], { "10.0.0.1:2377": "connection refused" }) } } });
    const f = swarmPortFindings(nodes);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ from: "wrk1", to: "mgr1", port: 2377, proto: "tcp", id: "swarm:port:wrk1>mgr1:2377/tcp" });
    expect(f[0]!.message).toContain("connection refused");
  });

  it("a worker's 2377 is not required (a failed connect there is no finding)", () => {
    const nodes = swarm({ mgr1: { report: { listeningUdp: [7946, 4789], reach: open(["10.0.0.2", "10.0.0.3"], { "10.0.0.2:2377": "refused" }) } } });
    expect(swarmPortFindings(nodes)).toEqual([]);
  });

  it("UDP counts as blocked when the target has no socket listening, from every peer", () => {
    const nodes = swarm({ wrk2: { report: { listeningUdp: [7946], reach: open(["10.0.0.1", "10.0.0.2"]) } } });
    const f = swarmPortFindings(nodes);
    expect(f.map((x) => x.id).sort()).toEqual(["swarm:port:mgr1>wrk2:4789/udp", "swarm:port:wrk1>wrk2:4789/udp"]);
  });

  it("UDP cannot be proven when the peer does not reach the target on 7946/tcp", () => {
    const nodes = swarm({ mgr1: { report: { listeningUdp: [7946, 4789], reach: open(["10.0.0.2", "10.0.0.3"], { "10.0.0.3:7946": "timed out" }) } } });
    const f = swarmPortFindings(nodes).map((x) => x.id);
    expect(f).toEqual(["swarm:port:mgr1>wrk2:7946/tcp", "swarm:port:mgr1>wrk2:7946/udp", "swarm:port:mgr1>wrk2:4789/udp"]);
  });

  it("4789/udp matters only between nodes that both carry an overlay network", () => {
    const nodes = swarm({ wrk2: { overlay: false, report: { listeningUdp: [7946], reach: open(["10.0.0.1", "10.0.0.2"]) } } });
    expect(swarmPortFindings(nodes)).toEqual([]);
  });

  it("a node that is down or did not report is not judged", () => {
    expect(swarmPortFindings(swarm({ wrk2: { ready: false, report: { listeningUdp: [], reach: [] } } }))).toEqual([]);
    expect(swarmPortFindings(swarm({ wrk2: { report: null } }))).toEqual([]);
  });

  it("is bounded: at most 200 findings, the rest counted", () => {
    const nodes: PortNode[] = Array.from({ length: 30 }, (_, i) => ({
      hostname: `n${i}`,
      address: `10.1.0.${i}`,
      role: "worker",
      ready: true,
      overlay: true,
      report: { listeningUdp: [], reach: [] },
    }));
    const f = swarmPortFindings(nodes);
    expect(f).toHaveLength(200);
    expect(f.at(-1)!.message).toMatch(/and \d+ more blocked ports/);
  });
});
