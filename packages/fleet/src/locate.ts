import type { Domain, HostRecord, SwarmService } from "@nimbus/domain";

/** Where an instance is, from the inventory: a running copy wins over stale shut-off definitions. */
export function locateInstance(hosts: readonly HostRecord[], name: string): { host: HostRecord; domain: Domain } | null {
  let fallback: { host: HostRecord; domain: Domain } | null = null;
  for (const host of hosts) {
    const domain = host.inventory.virt?.domains.find((d) => d.name === name);
    if (!domain) continue;
    if (domain.state === "running") return { host, domain };
    fallback ??= { host, domain };
  }
  return fallback;
}

/** The online swarm manager to send swarm commands to: the leader if it reports itself, else any manager. */
export function swarmManager(hosts: readonly HostRecord[]): HostRecord | null {
  const managers = hosts.filter((h) => h.connection.state === "online" && h.inventory.swarm?.role === "manager");
  const isLeader = (h: HostRecord) => h.inventory.swarm!.nodes.some((n) => n.id === h.inventory.swarm!.nodeId && n.leader);
  return managers.find(isLeader) ?? managers[0] ?? null;
}

export function findService(manager: HostRecord, name: string): SwarmService | null {
  return manager.inventory.swarm?.services.find((s) => s.name === name) ?? null;
}
