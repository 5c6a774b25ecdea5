import { isIP } from "node:net";
import type { HostRecord } from "@nimbus/domain";

/**
 * What a tenant must never read, taken from the lab's live inventory rather than listed by hand:
 * every host's name (fleet name, node hostname, swarm node hostname) and every IP address any host
 * reports anywhere (SSH address, interfaces, VXLAN endpoints, the NFS VIP, export clients, swarm
 * node addresses, infrastructure VMs), except the addresses of tenant VMs, which belong to tenants.
 */
export interface FleetSecrets {
  names: string[];
  addresses: string[];
}

export function fleetSecrets(hosts: readonly HostRecord[]): FleetSecrets {
  const names = new Set<string>();
  const addresses = new Set<string>();
  const tenantAddresses = new Set<string>();
  for (const h of hosts) {
    names.add(h.name);
    if (h.inventory.node?.hostname) names.add(h.inventory.node.hostname);
    for (const n of h.inventory.swarm?.nodes ?? []) names.add(n.hostname);
    for (const d of h.inventory.virt?.domains ?? []) if (d.tenant) for (const nic of d.nics) for (const a of nic.ipAddresses) tenantAddresses.add(bare(a));
    collectAddresses(h, addresses);
  }
  return { names: [...names], addresses: [...addresses].filter((a) => !tenantAddresses.has(a)) };
}

const bare = (s: string) => s.replace(/\/\d+$/, "").toLowerCase();

function collectAddresses(value: unknown, out: Set<string>) {
  if (typeof value === "string") {
    if (isIP(bare(value))) out.add(bare(value));
  } else if (Array.isArray(value)) for (const v of value) collectAddresses(v, out);
  else if (value && typeof value === "object") for (const v of Object.values(value)) collectAddresses(v, out);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The secrets that occur in `text` as whole words: "kvm1" in "vx5001-kvm1" or "kvm1 is down",
 * not inside "kvm10" or a key like "managerHost"; "10.10.0.1" not inside "10.10.0.11".
 */
export function secretsIn(text: string, secrets: FleetSecrets, except: readonly string[] = []): string[] {
  const found: string[] = [];
  for (const name of secrets.names) {
    if (except.some((e) => e.toLowerCase() === name.toLowerCase())) continue;
    if (new RegExp(`(?<![A-Za-z0-9])${escape(name)}(?![A-Za-z0-9])`, "i").test(text)) found.push(name);
  }
  for (const address of secrets.addresses) {
    if (new RegExp(`(?<![0-9A-Fa-f.:])${escape(address)}(?![0-9A-Fa-f:]|\\.\\d)`, "i").test(text)) found.push(address);
  }
  return found;
}
