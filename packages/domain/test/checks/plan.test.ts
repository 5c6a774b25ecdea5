import { describe, expect, it } from "vitest";
import { activeCheckHealth, planActiveChecks, type HostRecord } from "../../src/index.js";
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
