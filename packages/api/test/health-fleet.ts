import type { HostRecord, StorageSection, SwarmSection } from "@nimbus/domain";
import type { FleetView } from "@nimbus/fleet";
import { hypervisor, vm } from "../../domain/test/fixtures.js";

export const nfsSection = (held: boolean, usedBytes = 40): StorageSection => ({
  mounts: [],
  nfs: {
    serverRunning: true,
    exports: [{ path: "/instance", clients: ["*"] }],
    datastores: [{ path: "/instance", totalBytes: 100, usedBytes }],
    vip: { address: "10.10.0.100", heldHere: held },
    keepalivedState: held ? "master" : "backup",
  },
});

export const swarmSection = (nodeCount = 3, serviceCount = 3): SwarmSection => {
  const services = Array.from({ length: serviceCount }, (_, i) => ({
    id: `s${i}`,
    name: `svc${i}`,
    mode: "replicated" as const,
    replicasDesired: 2,
    replicasRunning: 2,
    image: "nginx",
    ports: [],
    tenant: i % 2 ? "acme" : null,
    stack: null,
    updatedAt: null,
  }));
  return {
    nodeId: "n0",
    role: "manager",
    clusterId: "c1",
    nodes: Array.from({ length: nodeCount }, (_, i) => ({ id: `n${i}`, hostname: `docker${i}`, role: "worker" as const, availability: "active" as const, status: "ready" as const, leader: i === 0, engineVersion: null, address: null })),
    services,
    tasks: services.map((s, i) => ({ id: `t${i}`, serviceId: s.id, serviceName: s.name, slot: 1, node: `docker${i % nodeCount}`, desiredState: "running", state: "running", error: null })),
  };
};

/** `count` hypervisors with `vms` VMs each (all mounting the datastore), an NFS pair and two swarm managers. */
export function healthFleet(count = 3, vms = 2) {
  const hosts: HostRecord[] = Array.from({ length: count }, (_, i) =>
    hypervisor(`kvm${i}`, Array.from({ length: vms }, (_, j) => vm({ name: `vm-${i}-${j}`, uuid: `u-${i}-${j}`, tenant: j % 2 ? "globex" : "acme" }))),
  );
  for (const [name, held] of [["nfs1", true], ["nfs2", false]] as const) hosts.push({ ...hypervisor(name), inventory: { ...hypervisor(name).inventory, storage: nfsSection(held) } });
  for (const name of ["dock1", "dock2"]) hosts.push({ ...hypervisor(name), inventory: { ...hypervisor(name).inventory, swarm: swarmSection() } });
  const fleet = { hosts: () => hosts, host: (n: string) => hosts.find((h) => h.name === n) } as unknown as FleetView;
  const index = (name: string) => hosts.findIndex((h) => h.name === name);
  /** Replaces a host's record the way the fleet's host connections do (never in place). */
  const replace = (name: string, edit: (h: HostRecord) => HostRecord) => {
    const i = index(name);
    hosts[i] = edit(hosts[i]!);
  };
  return { hosts, fleet, index, replace };
}
