import type { Logger } from "pino";
import type { FleetView } from "./contract.js";

/** Hosts in maintenance, persisted so the flag survives a server restart. */
export interface MaintenanceFlagStore {
  /** Names of the hosts in maintenance. */
  list(): Promise<string[]>;
  set(host: string, on: boolean): Promise<void>;
}

export class MemoryMaintenanceFlags implements MaintenanceFlagStore {
  private readonly hosts = new Set<string>();
  async list() {
    return [...this.hosts].sort();
  }
  async set(host: string, on: boolean) {
    if (on) this.hosts.add(host);
    else this.hosts.delete(host);
  }
}

/**
 * Writes every maintenance change the fleet announces, whoever made it (the hosts page, an
 * evacuation, exit maintenance), in order. Load `store.list()` into `Fleet({ maintenance })` at start.
 */
export function persistMaintenanceFlags(fleet: FleetView, store: MaintenanceFlagStore, logger: Logger): { stop(): Promise<void> } {
  let chain = Promise.resolve();
  const off = fleet.subscribe((e) => {
    if (e.type !== "host" || !e.changed.includes("maintenance")) return;
    const { name, maintenance } = e.host;
    chain = chain.then(() => store.set(name, maintenance)).catch((err: unknown) => logger.error({ err, host: name }, "could not persist the maintenance flag"));
  });
  return {
    async stop() {
      off();
      await chain;
    },
  };
}
