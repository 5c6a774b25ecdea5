import { describe, expect, it } from "vitest";
import { activeCheckHealth, httpCheckFromLabels, planActiveChecks, SwarmSection, type HostRecord } from "../../src/index.js";
import { hypervisor } from "../fixtures.js";

const swarmHost = (name: string, manager: boolean): HostRecord =>
  hypervisor(name, [], {
    inventory: {
      ...hypervisor(name).inventory,
      virt: null,
      storage: null,
      swarm: {
        nodeId: `id-${name}`,
        role: manager ? "manager" : "worker",
        clusterId: "c",
        nodes: manager
          ? ["swarm1", "swarm2"].map((h) => ({ id: `id-${h}`, hostname: h, role: "manager" as const, availability: "active" as const, status: "ready" as const, leader: h === "swarm1", engineVersion: "24", address: `10.0.0.${h.at(-1)}` }))
          : [],
        services: manager
          ? [
              { id: "s1", name: "web", mode: "replicated", replicasDesired: 2, replicasRunning: 2, image: "nginx", ports: [{ published: 8080, target: 80, protocol: "tcp", mode: "ingress" }], tenant: "acme", stack: null, updatedAt: null },
              { id: "s2", name: "dns", mode: "replicated", replicasDesired: 1, replicasRunning: 1, image: "dns", ports: [{ published: 53, target: 53, protocol: "udp", mode: "ingress" }], tenant: null, stack: null, updatedAt: null },
            ]
          : [],
        tasks: [],
      },
    },
  });

describe("planActiveChecks", () => {
  it("gives every swarm node its services' published TCP ports (UDP is not probed) and every NFS server its NFS port and the VIP", () => {
    const nfs = hypervisor("nfs1", [], {
      inventory: {
        ...hypervisor("nfs1").inventory,
        virt: null,
        storage: { nfs: { serverRunning: true, exports: [], datastores: [{ path: "/instance", totalBytes: 1, usedBytes: 0 }], vip: { address: "10.10.0.100", heldHere: true }, keepalivedState: "master" }, mounts: [] },
      },
    });
    const plan = planActiveChecks([swarmHost("swarm1", true), swarmHost("swarm2", false), nfs, hypervisor("kvm1")]);
    expect(plan.get("swarm1")!.map((c) => c.id)).toEqual(["active:svc:web:8080:swarm1"]);
    expect(plan.get("swarm2")![0]).toMatchObject({ probe: { kind: "tcp", host: "127.0.0.1", port: 8080 }, affects: ["web"], tenants: ["acme"], timing: { rise: 2, fall: 3 } });
    expect(plan.get("nfs1")!.map((c) => [c.id, c.probe])).toEqual([
      ["active:nfs-vip:nfs1", { kind: "tcp", host: "10.10.0.100", port: 2049 }],
      ["active:nfs:nfs1", { kind: "tcp", host: "127.0.0.1", port: 2049 }],
    ]);
    expect(plan.has("kvm1")).toBe(false);
  });

  it("checks a service port with HTTP when the service's labels ask for it, or a load balancer in http mode fronts that port", () => {
    const labelled = (labels: Record<string, string>) => {
      const m = swarmHost("swarm1", true);
      const svc = m.inventory.swarm!.services[0]!;
      m.inventory.swarm!.services[0] = { ...svc, ports: [...svc.ports, { published: 9090, target: 90, protocol: "tcp", mode: "ingress" }], httpCheck: httpCheckFromLabels(labels) };
      return [m, swarmHost("swarm2", false)];
    };
    const probes = (plan: ReturnType<typeof planActiveChecks>) => plan.get("swarm2")!.map((c) => c.probe);
    // No label, no load balancer: TCP connect on both ports.
    expect(probes(planActiveChecks(labelled({}))).map((p) => p.kind)).toEqual(["tcp", "tcp"]);
    // The service's own label: every published TCP port, with status and body.
    const byLabel = planActiveChecks(labelled({ "nimbus.check.http": "/healthz", "nimbus.check.http.status": "204", "nimbus.check.http.body": "ok" }));
    expect(probes(byLabel)).toEqual([
      { kind: "http", host: "127.0.0.1", port: 8080, path: "/healthz", expectStatus: 204, expectBody: "ok" },
      { kind: "http", host: "127.0.0.1", port: 9090, path: "/healthz", expectStatus: 204, expectBody: "ok" },
    ]);
    expect(byLabel.get("swarm2")![0]!.target).toBe("web :8080 on swarm2 (HTTP GET /healthz)");
    // A load balancer's word applies to the port it fronts only (null: the first TCP port).
    const hint = { service: "web", port: null, check: { path: "/", expectStatus: 200, expectBody: null } };
    expect(probes(planActiveChecks(labelled({}), [hint])).map((p) => [p.kind, p.port])).toEqual([["http", 8080], ["tcp", 9090]]);
    expect(probes(planActiveChecks(labelled({}), [{ ...hint, port: 9090 }])).map((p) => [p.kind, p.port])).toEqual([["tcp", 8080], ["http", 9090]]);
    expect(probes(planActiveChecks(labelled({}), [{ ...hint, service: "other" }])).map((p) => p.kind)).toEqual(["tcp", "tcp"]);
    // The service's own label wins over a load balancer's.
    expect(probes(planActiveChecks(labelled({ "nimbus.check.http": "/healthz" }), [hint]))[0]).toMatchObject({ path: "/healthz" });
  });

  it("reads the HTTP check labels strictly: a label that does not parse asks for nothing, and a hostile one cannot reach the plan", () => {
    expect(httpCheckFromLabels({ "nimbus.check.http": "/" })).toEqual({ path: "/", expectStatus: 200, expectBody: null });
    for (const bad of ["", "healthz", "/a b", "/x\nserver evil", `/${"a".repeat(1100)}`]) expect(httpCheckFromLabels({ "nimbus.check.http": bad })).toBeNull();
    expect(httpCheckFromLabels({ "nimbus.check.http": "/", "nimbus.check.http.status": "2OO" })).toBeNull();
    expect(httpCheckFromLabels({ "nimbus.check.http": "/", "nimbus.check.http.status": "99" })).toBeNull();
    expect(httpCheckFromLabels({ "nimbus.check.http": "/", "nimbus.check.http.body": "a\u0000b" })).toBeNull();
    expect(httpCheckFromLabels({ "nimbus.check.http": "/", "nimbus.check.http.body": "x".repeat(257) })).toBeNull();
    expect(httpCheckFromLabels(Object.create({ "nimbus.check.http": "/" }) as Record<string, string>)).toBeNull();
    // From an agent, an out-of-bounds httpCheck refuses the section like any other bad value.
    const section = swarmHost("swarm1", true).inventory.swarm!;
    const bad = { ...section, services: [{ ...section.services[0]!, httpCheck: { path: "no-slash", expectStatus: 200, expectBody: null } }] };
    expect(SwarmSection.safeParse(bad).success).toBe(false);
    expect(SwarmSection.safeParse({ ...bad, services: [{ ...bad.services[0], httpCheck: { path: "/ok", expectStatus: 200, expectBody: null } }] }).success).toBe(true);
  });

  it("turns reported states into health checks (down is critical), none from an offline host", () => {
    const h = hypervisor("swarm1");
    h.inventory.checks = {
      checks: [
        { id: "active:svc:web:8080:swarm1", target: "web :8080 on swarm1", category: "swarm", affects: ["web"], tenants: ["acme"], status: "down", health: 0, since: "x", lastOk: false, lastResult: "connection refused", lastAt: "x" },
        { id: "active:nfs:swarm1", target: "NFS", category: "storage", affects: [], tenants: [], status: "unknown", health: 0, since: null, lastOk: null, lastResult: "", lastAt: null },
      ],
    };
    expect(activeCheckHealth(h).map((c) => [c.id, c.state, c.message])).toEqual([
      ["active:svc:web:8080:swarm1", "crit", "DOWN: connection refused"],
      ["active:nfs:swarm1", "unknown", "not decided yet: no probe yet"],
    ]);
    expect(activeCheckHealth({ ...h, connection: { ...h.connection, state: "unreachable" } })).toEqual([]);
  });
});
