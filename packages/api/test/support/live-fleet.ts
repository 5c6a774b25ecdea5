import type { HostRecord, TenantInfo } from "@nimbus/domain";
import type { FleetEvent, FleetView } from "@nimbus/fleet";
import type { TenantService } from "../../src/deps.js";

/** A fleet view over records the test owns; `emit` announces a change; `onLookup` counts projection work. */
export function fakeFleet(hosts: HostRecord[], onLookup: () => void = () => {}) {
  const listeners = new Set<(e: FleetEvent) => void>();
  const fleet = {
    hosts: () => (onLookup(), hosts),
    host: (n: string) => (onLookup(), hosts.find((h) => h.name === n)),
    subscribe: (l: (e: FleetEvent) => void) => (listeners.add(l), () => listeners.delete(l)),
  } as unknown as FleetView;
  const emit = (e: FleetEvent) => {
    for (const l of listeners) l(e);
  };
  return { fleet, emit };
}

/** The two tenants of the fixtures (acme, globex). */
export function twoTenants(): TenantService {
  const directory = new Map<string, TenantInfo>([
    ["acme", { slug: "acme", name: "Acme", vni: 5001 }],
    ["globex", { slug: "globex", name: "Globex", vni: 5002 }],
  ]);
  return { directory: () => directory } as unknown as TenantService;
}
