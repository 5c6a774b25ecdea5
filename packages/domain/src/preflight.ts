import type { Domain } from "./inventory.js";
import type { HostRecord } from "./fleet.js";
import { committedMemoryMiB, committedVcpus } from "./views.js";

/**
 * Migration preflight: everything that must hold before a running VM moves. Each check passes,
 * warns or fails with a reason a person can act on. The same rule runs in the dialog (to rank
 * destinations) and again on the server when the migration starts.
 */
export type CheckResult = "pass" | "warn" | "fail";
export interface PreflightCheck {
  id: string;
  label: string;
  result: CheckResult;
  reason: string;
}

export interface PreflightPolicy {
  /** RAM kept free on a destination for the host itself, in MiB. */
  memoryHeadroomMiB: number;
  /** vCPUs per physical CPU before a warning. */
  cpuOvercommit: number;
}
export const DEFAULT_POLICY: PreflightPolicy = { memoryHeadroomMiB: 512, cpuOvercommit: 4 };

export interface PreflightInput {
  domain: Domain;
  source: HostRecord;
  destination: HostRecord;
  /** VNI of the VM's tenant, if it has one. */
  tenantVni: number | null;
  /** Names of instances that already have an operation running. */
  busyInstances: ReadonlySet<string>;
  policy?: PreflightPolicy;
}

const VXLAN_OVERHEAD = 50;

export function preflight(input: PreflightInput): PreflightCheck[] {
  const { domain, source, destination, tenantVni } = input;
  const policy = input.policy ?? DEFAULT_POLICY;
  const checks: PreflightCheck[] = [];
  const add = (id: string, label: string, result: CheckResult, reason: string) => checks.push({ id, label, result, reason });

  const conn = destination.connection;
  if (destination.name === source.name) add("reachable", "Destination", "fail", "the VM already runs on this host");
  else if (conn.state === "key-changed") add("reachable", "Destination", "fail", `${destination.name}'s host key changed; an admin must accept it first`);
  else if (conn.state !== "online") add("reachable", "Destination", "fail", `${destination.name} is ${conn.state}${conn.message ? `: ${conn.message}` : ""}`);
  else if (destination.maintenance) add("reachable", "Destination", "fail", `${destination.name} is in maintenance`);
  else if (!destination.inventory.virt) add("reachable", "Destination", "fail", `${destination.name} is not a hypervisor`);
  else add("reachable", "Destination", "pass", `${destination.name} is online with a trusted key`);

  if (domain.state !== "running") add("state", "VM state", "fail", `${domain.name} is ${domain.state}; only running VMs live-migrate`);
  else if (input.busyInstances.has(domain.name)) add("state", "VM state", "fail", `${domain.name} already has an operation running`);
  else add("state", "VM state", "pass", "running, no other operation");

  const node = destination.inventory.node;
  if (!node) add("memory", "Memory", "fail", `${destination.name} has not reported its memory`);
  else {
    const free = node.memoryTotalMiB - committedMemoryMiB(destination) - policy.memoryHeadroomMiB;
    add(
      "memory",
      "Memory",
      free >= domain.memoryMiB ? "pass" : "fail",
      `needs ${domain.memoryMiB} MiB; ${Math.max(0, Math.floor(free))} MiB free after ${policy.memoryHeadroomMiB} MiB headroom`,
    );
    const vcpus = committedVcpus(destination) + domain.vcpus;
    const limit = node.cpuCount * policy.cpuOvercommit;
    add("cpu", "vCPUs", vcpus <= limit ? "pass" : "warn", `${vcpus} vCPUs on ${node.cpuCount} CPUs (overcommit limit ${policy.cpuOvercommit}:1)`);
    const missing = domain.cpuFeatures.filter((f) => !node.cpuFeatures.includes(f));
    if (domain.cpuModel && domain.cpuModel !== "host-passthrough" && missing.length)
      add("cpu-compat", "CPU compatibility", "fail", `${destination.name} lacks CPU features ${missing.join(", ")}`);
    else if (domain.cpuModel === "host-passthrough" && source.inventory.node?.cpuModel !== node.cpuModel)
      add("cpu-compat", "CPU compatibility", "fail", `host-passthrough VM; CPU models differ (${source.inventory.node?.cpuModel ?? "?"} vs ${node.cpuModel})`);
    else add("cpu-compat", "CPU compatibility", "pass", domain.cpuModel ? `model ${domain.cpuModel} supported` : "default CPU model");
  }

  const mounts = destination.inventory.storage?.mounts ?? [];
  const unshared = domain.disks.filter((d) => !mounts.some((m) => d.path === m.target || d.path.startsWith(m.target.replace(/\/?$/, "/"))));
  if (unshared.length) add("storage", "Shared storage", "fail", `storage migration needed: ${unshared.map((d) => d.path).join(", ")} not on a datastore mounted on ${destination.name}`);
  else add("storage", "Shared storage", "pass", domain.disks.length ? `disks on ${[...new Set(domain.disks.map((d) => mountOf(d.path, mounts)))].join(", ")}` : "no disks");

  const bridges = destination.inventory.net?.bridges ?? [];
  for (const nic of domain.nics) {
    const br = bridges.find((b) => b.name === nic.bridge);
    const id = `net-${nic.mac}`;
    if (!br) {
      add(id, `NIC ${nic.mac}`, "fail", `bridge ${nic.bridge} does not exist on ${destination.name}`);
      continue;
    }
    if (br.type !== nic.bridgeType) {
      add(id, `NIC ${nic.mac}`, "fail", `${nic.bridge} is a ${br.type} bridge on ${destination.name}, the VM needs ${nic.bridgeType}`);
      continue;
    }
    if (nic.vlan !== null) {
      const carried = br.ports.some((p) => (p.mode === "trunk" || p.mode === "uplink") && (p.trunks.length === 0 || p.trunks.includes(nic.vlan!)));
      if (!carried) {
        add(id, `NIC ${nic.mac}`, "fail", `VLAN ${nic.vlan} is not carried by any trunk of ${nic.bridge} on ${destination.name}`);
        continue;
      }
    }
    add(id, `NIC ${nic.mac}`, "pass", `${nic.bridge}${nic.vlan !== null ? ` VLAN ${nic.vlan}` : ""} present`);
  }

  if (tenantVni !== null) {
    const tunnels = bridges.flatMap((b) => b.ports.filter((p) => p.vxlan?.vni === tenantVni));
    if (!tunnels.length) add("vni", "Tenant VNI", "fail", `VNI ${tenantVni} is not present on ${destination.name}`);
    else {
      const br = bridges.find((b) => b.ports.some((p) => p.vxlan?.vni === tenantVni));
      const uplinkMtu = Math.min(...(destination.inventory.net?.interfaces ?? []).filter((i) => i.kind === "physical" && i.mtu).map((i) => i.mtu!));
      const needed = (br?.mtu ?? 1500) + VXLAN_OVERHEAD;
      if (Number.isFinite(uplinkMtu) && uplinkMtu < needed)
        add("vni", "Tenant VNI", "warn", `VNI ${tenantVni} present, but uplink MTU ${uplinkMtu} < ${needed} needed for VXLAN`);
      else add("vni", "Tenant VNI", "pass", `VNI ${tenantVni} tunnelled on ${destination.name}`);
    }
  }
  return checks;
}

function mountOf(path: string, mounts: readonly { target: string }[]) {
  return mounts.find((m) => path.startsWith(m.target))?.target ?? path;
}

export const preflightVerdict = (checks: readonly PreflightCheck[]): CheckResult =>
  checks.some((c) => c.result === "fail") ? "fail" : checks.some((c) => c.result === "warn") ? "warn" : "pass";

/** Destinations ordered by fit: passing first, then by free memory. */
export function rankDestinations(
  candidates: readonly { host: HostRecord; checks: PreflightCheck[] }[],
): { host: string; verdict: CheckResult; freeMemoryMiB: number; checks: PreflightCheck[] }[] {
  const rank = { pass: 0, warn: 1, fail: 2 } as const;
  return candidates
    .map(({ host, checks }) => ({
      host: host.name,
      verdict: preflightVerdict(checks),
      freeMemoryMiB: (host.inventory.node?.memoryTotalMiB ?? 0) - committedMemoryMiB(host),
      checks,
    }))
    .sort((a, b) => rank[a.verdict] - rank[b.verdict] || b.freeMemoryMiB - a.freeMemoryMiB || a.host.localeCompare(b.host));
}
